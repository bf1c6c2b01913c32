// forwardAuth with the errors middleware in front, oauth2-proxy's documented Traefik setup: its /oauth2/auth endpoint
// answers a bare 401, and errors turns that into the sign-in page (through the response-writer seam, since
// forwardAuth's refusal is an answer made in the chain).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import errors from '@wharf/plugin-errors';
import { json, listen, request, startBackend, type Backend, type EchoBody, type Listening } from '@wharf/test-helpers';
import forwardAuth from './index.js';

describe('errors before forwardAuth (oauth2-proxy with /oauth2/auth)', () => {
  let proxy: Listening;
  let pagesAsked: string[];
  let app: Backend;
  let gateway: EmbeddedGateway;
  let port: number;

  before(async () => {
    pagesAsked = [];
    // oauth2-proxy's two faces: /oauth2/auth (202 or a bare 401) and /oauth2/sign_in (the page).
    proxy = await listen(
      http.createServer((req, res) => {
        if (req.url?.startsWith('/oauth2/auth')) {
          const signedIn = (req.headers.cookie ?? '').includes('_oauth2_proxy=ok');
          res.writeHead(signedIn ? 202 : 401, signedIn ? { 'x-auth-request-user': 'ann' } : {}).end();
          return;
        }
        pagesAsked.push(req.url ?? '');
        res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Sign in</h1>');
      }),
    );
    app = await startBackend('app');
    gateway = await startGateway({
      plugins: [forwardAuth, errors],
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: {
        http: {
          routers: { app: { rule: 'Host(`app.example`)', middlewares: ['oauth-errors', 'oauth-auth'], service: 'app' } },
          middlewares: {
            'oauth-errors': { errors: { status: ['401-403'], service: 'oauth', query: '/oauth2/sign_in?rd={url}' } },
            'oauth-auth': { forwardAuth: { address: `${proxy.url}/oauth2/auth`, trustForwardHeader: true, authResponseHeaders: ['X-Auth-Request-User'] } },
          },
          services: { app: { loadBalancer: { servers: [{ url: app.url }] } }, oauth: { loadBalancer: { servers: [{ url: proxy.url }] } } },
        },
      },
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    await gateway.stop();
    await Promise.all([proxy.close(), app.close()]);
  });

  test('a 401 from the auth server becomes the sign-in page, keeping the status', async () => {
    const reply = await request(port, { path: '/cart?id=1', headers: { host: 'app.example' } });
    assert.equal(reply.status, 401);
    assert.equal(reply.body, '<h1>Sign in</h1>');
    assert.equal(reply.headers['content-type'], 'text/html');
    assert.deepEqual(pagesAsked, ['/oauth2/sign_in?rd=http%3A%2F%2Fapp.example%2Fcart%3Fid%3D1']);
    assert.equal(app.requests.length, 0);
  });

  test('a signed-in user reaches the service with the user header', async () => {
    const reply = await request(port, { path: '/cart', headers: { host: 'app.example', cookie: '_oauth2_proxy=ok' } });
    assert.equal(reply.status, 200);
    assert.equal(json<EchoBody>(reply).headers['x-auth-request-user'], 'ann');
  });
});
