// The API plugin's README advice, followed as written with forwardAuth: a router to api@internal, keeping the /api
// and /dashboard prefixes, with forwardAuth in front. Without a session the login redirect comes back; with one,
// the API and the dashboard answer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import api from '@wharf/plugin-api';
import { listen, request, type Listening } from '@wharf/test-helpers';
import forwardAuth from './index.js';

describe('forwardAuth protecting api@internal (plugins/api/README.md, secured mode)', () => {
  let auth: Listening;
  let gateway: EmbeddedGateway;
  let port: number;

  before(async () => {
    // An SSO portal's verify endpoint: a session cookie lets in, anything else is sent to the login page.
    auth = await listen(
      http.createServer((req, res) => {
        const admin = (req.headers.cookie ?? '').split(/;\s*/).includes('session=admin');
        if (admin) res.writeHead(200, { 'remote-user': 'admin' }).end();
        else res.writeHead(302, { location: 'https://sso.example/login', 'set-cookie': 'rd=dashboard; Path=/' }).end('login first');
      }),
    );
    gateway = await startGateway({
      plugins: [api, forwardAuth],
      args: ['--entrypoints.websecure.address=127.0.0.1:0', '--api'],
      dynamic: {
        http: {
          routers: {
            dashboard: { rule: 'Host(`gw.example`) && (PathPrefix(`/api`) || PathPrefix(`/dashboard`))', entryPoints: ['websecure'], service: 'api@internal', middlewares: ['admins-only'] },
          },
          middlewares: { 'admins-only': { forwardAuth: { address: `${auth.url}/verify`, trustForwardHeader: false, headerField: 'Remote-User' } } },
        },
      },
    });
    port = gateway.address('websecure').port;
  });

  after(async () => {
    await gateway.stop();
    await auth.close();
  });

  const call = (path: string, cookie?: string) => request(port, { path, headers: { host: 'gw.example', ...(cookie ? { cookie } : {}) } });

  test('without a session: the auth server\'s redirect to its login page, for the API and the dashboard', async () => {
    for (const path of ['/api/overview', '/dashboard/']) {
      const reply = await call(path);
      assert.equal(reply.status, 302, path);
      assert.equal(reply.headers.location, 'https://sso.example/login', path);
      assert.deepEqual(reply.headers['set-cookie'], ['rd=dashboard; Path=/'], path);
      assert.equal(reply.body, 'login first', path);
    }
    assert.equal((await call('/api/overview', 'session=guest')).status, 302);
  });

  test('with a session: the API and the dashboard answer', async () => {
    const overview = await call('/api/overview', 'session=admin');
    assert.equal(overview.status, 200);
    assert.deepEqual(JSON.parse(overview.body).http.middlewares, { total: 1, warnings: 0, errors: 0 });
    const middleware = JSON.parse((await call('/api/http/middlewares/admins-only@inline', 'session=admin')).body);
    assert.equal(middleware.type, 'forwardauth');
    assert.equal(middleware.status, 'enabled');
    const page = await call('/dashboard/', 'session=admin');
    assert.equal(page.status, 200);
    assert.match(page.body, /Wharf dashboard/);
  });
});
