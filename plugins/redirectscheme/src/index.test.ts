// redirectScheme: the target URL and status (table-driven), the middleware on a router, and entrypoint redirections.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { startServer, type Listening } from '@wharf/test-helpers';
import redirectScheme, { redirectLocation, redirectStatus, type RequestURL } from './index.js';

test('redirectLocation', () => {
  const url = (scheme: string, host: string, port: string, uri = '/p?q=1'): RequestURL => ({ scheme, host, port, uri });
  const cases: Array<{ desc: string; from: RequestURL; scheme: string; port?: string; expected: string | undefined }> = [
    { desc: 'http → https, port dropped', from: url('http', 'a.test', '8080'), scheme: 'https', expected: 'https://a.test/p?q=1' },
    { desc: 'http → https on a port', from: url('http', 'a.test', ''), scheme: 'https', port: '8443', expected: 'https://a.test:8443/p?q=1' },
    { desc: 'the default port of the scheme is omitted', from: url('http', 'a.test', ''), scheme: 'https', port: '443', expected: 'https://a.test/p?q=1' },
    { desc: 'already there: no redirect', from: url('https', 'a.test', ''), scheme: 'https', expected: undefined },
    { desc: 'already there on that port: no redirect', from: url('https', 'a.test', '8443'), scheme: 'https', port: '8443', expected: undefined },
    { desc: 'same scheme, other port', from: url('https', 'a.test', '8443'), scheme: 'https', expected: 'https://a.test/p?q=1' },
    { desc: 'IPv6 literal keeps its brackets', from: url('http', '[::1]', '80'), scheme: 'https', port: '8443', expected: 'https://[::1]:8443/p?q=1' },
    { desc: 'scheme is case-insensitive', from: url('http', 'a.test', ''), scheme: 'HTTPS', expected: 'https://a.test/p?q=1' },
  ];
  for (const c of cases) assert.equal(redirectLocation(c.from, c.scheme, c.port), c.expected, c.desc);
});

test('redirectStatus: 302/301 for GET, 307/308 otherwise (as Traefik)', () => {
  assert.deepEqual(
    ['GET', 'HEAD', 'POST'].map((m) => [redirectStatus(m, false), redirectStatus(m, true)]),
    [
      [302, 301],
      [307, 308],
      [307, 308],
    ],
  );
});

function send(port: number, path: string, options: { method?: string; host?: string; headers?: http.OutgoingHttpHeaders } = {}): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: false, headers: { host: options.host ?? 'app.test', ...options.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('redirectScheme as a router middleware', () => {
  let gateway: EmbeddedGateway;
  let port: number;
  let backend: Listening;

  before(async () => {
    backend = await startServer((_req, res) => res.end('backend'));
    const url = backend.url;
    gateway = await startGateway({
      plugins: [redirectScheme],
      args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.web.forwardedHeaders.insecure=true'],
      dynamic: {
        http: {
          routers: {
            secure: { rule: 'PathPrefix(`/`)', service: 'app', middlewares: ['to-https'] },
            temporary: { rule: 'PathPrefix(`/temp`)', service: 'app', middlewares: ['to-https-temp'] },
          },
          middlewares: { 'to-https': { redirectScheme: { scheme: 'https', port: '8443', permanent: true } }, 'to-https-temp': { redirectScheme: {} } },
          services: { app: { loadBalancer: { servers: [{ url }] } } },
        },
      },
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    await gateway.stop();
    await backend.close();
  });

  test('GET → 301 to https on the configured port, path and query kept', async () => {
    const reply = await send(port, '/a/b?x=1&y=2', { host: 'app.test:8080' });
    assert.equal(reply.status, 301);
    assert.equal(reply.location, 'https://app.test:8443/a/b?x=1&y=2');
    assert.equal(reply.body, 'Moved Permanently');
  });

  test('POST → 308, so the method and body are kept', async () => {
    assert.equal((await send(port, '/form', { method: 'POST' })).status, 308);
  });

  test('defaults: scheme https, no port, temporary (302)', async () => {
    const reply = await send(port, '/temp', { host: 'app.test:8080' });
    assert.equal(reply.status, 302);
    assert.equal(reply.location, 'https://app.test/temp');
  });

  test('a request that already arrived over https (trusted X-Forwarded-Proto) goes through', async () => {
    const reply = await send(port, '/x', { host: 'app.test:8443', headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'backend');
  });
});

describe('entrypoint redirections (http.redirections.entryPoint)', () => {
  test('every request of the entrypoint goes to the target entrypoint\'s bound port, before routing', async () => {
    const gateway = await startGateway({
      plugins: [redirectScheme],
      args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.other.address=127.0.0.1:0', '--entrypoints.web.http.redirections.entryPoint.to=other'],
    });
    try {
      const target = gateway.address('other').port;
      const get = await send(gateway.address('web').port, '/no/router/needed?q');
      assert.equal(get.status, 301);
      assert.equal(get.location, `https://app.test:${target}/no/router/needed?q`);
      assert.equal((await send(gateway.address('web').port, '/', { method: 'PUT' })).status, 308);
      // The target entrypoint itself is not redirected.
      assert.equal((await send(target, '/')).status, 404);
    } finally {
      await gateway.stop();
    }
  });

  test('to a port, with scheme and permanent set', async () => {
    const gateway = await startGateway({
      plugins: [redirectScheme],
      args: [
        '--entrypoints.web.address=127.0.0.1:0',
        '--entrypoints.web.http.redirections.entryPoint.to=:443',
        '--entrypoints.web.http.redirections.entryPoint.scheme=https',
        '--entrypoints.web.http.redirections.entryPoint.permanent=false',
      ],
    });
    try {
      const reply = await send(gateway.address('web').port, '/x', { host: 'app.test:80' });
      assert.equal(reply.status, 302);
      assert.equal(reply.location, 'https://app.test/x');
    } finally {
      await gateway.stop();
    }
  });

  test('an unknown target is a start-up error naming the field', async () => {
    await assert.rejects(
      startGateway({ plugins: [redirectScheme], args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.web.http.redirections.entryPoint.to=websecure'] }),
      /entryPoints\.web\.http\.redirections\.entryPoint\.to: 'websecure' is neither an entrypoint/,
    );
  });
});
