// Middleware combinations users hit (issues #16, #17), through one real gateway: compress in front of errors (the
// error page is compressed, its status kept), redirectRegex before basicAuth (the redirect needs no credentials), and
// buffering (spilling to a temporary file) before forwardAuth with forwardBody (both servers get the whole body).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { startTestGateway, type TestGateway } from './gateway.js';
import { startBackend, request, json, type Backend, type EchoBody } from '@wharf/test-helpers';

const PAGE = `<html><body>${'Sorry, something broke on our side. '.repeat(100)}</body></html>`;
const APR1_TEST = 'test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/'; // password test

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function fetchRaw(port: number, path: string, headers: http.OutgoingHttpHeaders): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
  });
}

describe('middleware combinations', () => {
  let app: Backend;
  let pages: Backend;
  let auth: Backend;
  let echo: Backend;
  let gw: TestGateway;

  before(async () => {
    app = await startBackend('app', (req, res) => {
      if (req.url === '/broken') res.writeHead(500, { 'content-type': 'text/plain' }).end('stack trace nobody should see');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => ({ i })) }));
    });
    pages = await startBackend('pages', (req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(`${PAGE}<!-- ${req.url} -->`));
    auth = await startBackend('auth', (req, res) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => (bytes += chunk.length));
      req.on('end', () => res.writeHead(200, { 'x-auth-body-bytes': String(bytes) }).end());
    });
    echo = await startBackend('echo');
    gw = await startTestGateway({
      http: {
        routers: {
          site: { rule: 'Host(`site.test`)', service: 'app', middlewares: ['gzip', 'pages'] },
          admin: { rule: 'Host(`admin.test`) || Host(`www.admin.test`)', service: 'app', middlewares: ['apex', 'auth'] },
          upload: { rule: 'Host(`upload.test`)', service: 'echo', middlewares: ['spool', 'gate'] },
        },
        middlewares: {
          gzip: { compress: { encodings: ['gzip'] } },
          pages: { errors: { status: ['500-599'], service: 'pages', query: '/{status}.html' } },
          apex: { redirectRegex: { regex: '^http://www\\.admin\\.test/(.*)', replacement: 'http://admin.test/$1', permanent: true } },
          auth: { basicAuth: { users: [APR1_TEST] } },
          spool: { buffering: { memRequestBodyBytes: 1024 } },
          gate: { forwardAuth: { address: auth.url, forwardBody: true, authResponseHeaders: ['X-Auth-Body-Bytes'] } },
        },
        services: {
          app: { loadBalancer: { servers: [{ url: app.url }] } },
          pages: { loadBalancer: { servers: [{ url: pages.url }] } },
          echo: { loadBalancer: { servers: [{ url: echo.url }] } },
        },
      },
    });
  });

  after(async () => {
    await gw?.stop();
    await app?.close();
    await pages?.close();
    await auth?.close();
    await echo?.close();
  });

  test('compress then errors: the error page replaces the 500 and is compressed, the status kept', async () => {
    const reply = await fetchRaw(gw.port, '/broken', { host: 'site.test', 'accept-encoding': 'gzip' });
    assert.equal(reply.status, 500);
    assert.equal(reply.headers['content-encoding'], 'gzip');
    const page = gunzipSync(reply.body).toString();
    assert.ok(page.startsWith(PAGE), 'the page from the error service');
    assert.match(page, /<!-- \/500\.html -->$/);
    assert.doesNotMatch(page, /stack trace/);
  });

  test('compress then errors: a success passes errors untouched and is compressed', async () => {
    const reply = await fetchRaw(gw.port, '/items', { host: 'site.test', 'accept-encoding': 'gzip' });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-encoding'], 'gzip');
    assert.equal((JSON.parse(gunzipSync(reply.body).toString()) as { items: unknown[] }).items.length, 200);
  });

  test('redirectRegex before basicAuth: www redirects to the apex without asking for credentials', async () => {
    const redirect = await fetchRaw(gw.port, '/panel', { host: 'www.admin.test' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, 'http://admin.test/panel');
    const challenge = await fetchRaw(gw.port, '/panel', { host: 'admin.test' });
    assert.equal(challenge.status, 401);
    const allowed = await fetchRaw(gw.port, '/panel', { host: 'admin.test', authorization: `Basic ${Buffer.from('test:test').toString('base64')}` });
    assert.equal(allowed.status, 200);
  });

  test('buffering then forwardAuth with forwardBody: the auth server and the service both get the whole body', async () => {
    const body = Buffer.alloc(64 * 1024, 'x');
    const reply = await request(gw.port, { method: 'POST', path: '/upload', headers: { host: 'upload.test', 'content-type': 'application/octet-stream' }, body });
    assert.equal(reply.status, 200);
    const seen = json<EchoBody>(reply);
    assert.equal(seen.bodyBytes, body.length, 'the service');
    assert.equal(seen.headers['x-auth-body-bytes'], String(body.length), 'the auth server, as it told the gateway');
  });
});
