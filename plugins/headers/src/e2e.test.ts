// headers end to end: configured from labels (Traefik's documented CORS labels) and from a watched YAML file through
// the file provider, a bad label disabling only its router; HSTS over a real TLS handshake and not over plain HTTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { flatToTree } from '@wharf/core/config';
import { eventually, request, startBackend, tempDir, type Backend, type TempDir } from '@wharf/test-helpers';
import tlsPlugin from '@wharf/plugin-tls';
import headers from './index.js';

const ORIGIN = 'https://foo.bar.org';
const PREFLIGHT = { host: 'app.test', origin: ORIGIN, 'access-control-request-method': 'PUT' };

let backend: Backend;
before(async () => {
  backend = await startBackend('b');
});
after(() => backend.close());

describe('headers from labels', () => {
  let gateway: EmbeddedGateway;
  before(async () => {
    const labels = {
      'http.routers.api.rule': 'PathPrefix(`/api/`)',
      'http.routers.api.middlewares': 'testheader',
      'http.routers.api.service': 'b',
      'http.middlewares.testheader.headers.accesscontrolallowmethods': 'GET,OPTIONS,PUT',
      'http.middlewares.testheader.headers.accesscontrolallowheaders': '*',
      'http.middlewares.testheader.headers.accesscontrolalloworiginlist': 'https://foo.bar.org,https://example.org',
      'http.middlewares.testheader.headers.accesscontrolmaxage': '100',
      'http.middlewares.testheader.headers.addvaryheader': 'true',
      'http.routers.bad.rule': 'PathPrefix(`/bad/`)',
      'http.routers.bad.middlewares': 'badheader',
      'http.routers.bad.service': 'b',
      'http.middlewares.badheader.headers.accesscontrolalloworiginlistregex': 'a(b',
      'http.services.b.loadbalancer.servers[0].url': backend.url,
    };
    gateway = await startGateway({ plugins: [headers], args: ['--entrypoints.web.address=127.0.0.1:0'], dynamic: flatToTree(Object.entries(labels)) });
  });
  after(() => gateway.stop());

  test("Traefik's CORS label example answers preflights", async () => {
    const reply = await request(gateway.address('web').port, { method: 'OPTIONS', path: '/api/', headers: PREFLIGHT });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['access-control-allow-origin'], ORIGIN);
    assert.equal(reply.headers['access-control-allow-methods'], 'GET,OPTIONS,PUT');
    assert.equal(reply.headers['access-control-allow-headers'], '*');
    assert.equal(reply.headers['access-control-max-age'], '100');
    const simple = await request(gateway.address('web').port, { path: '/api/', headers: { host: 'app.test', origin: 'https://example.org' } });
    assert.deepEqual([simple.status, simple.headers['access-control-allow-origin'], simple.headers.vary], [200, 'https://example.org', 'Origin']);
  });

  test('a bad regular expression disables only the routers using it, naming the option', async () => {
    await eventually(() => gateway.info.routers['bad@inline']?.status === 'disabled', 'the bad router disabled');
    assert.match(gateway.info.middlewares['badheader@inline']?.errors?.join('\n') ?? '', /accessControlAllowOriginListRegex\[0\]: invalid regular expression `a\(b`/);
    assert.equal((await request(gateway.address('web').port, { path: '/bad/', headers: { host: 'app.test' } })).status, 404);
    assert.equal(gateway.info.routers['api@inline']?.status, 'enabled');
  });
});

describe('headers from a YAML file (file provider, watched)', () => {
  let dir: TempDir;
  let gateway: EmbeddedGateway;
  const yaml = (origin: string) => `http:
  routers:
    app:
      rule: PathPrefix(\`/app/\`)
      middlewares: [cors]
      service: b
  middlewares:
    cors:
      headers:
        accessControlAllowOriginList:
          - ${origin}
        accessControlAllowCredentials: true
        accessControlExposeHeaders: [X-Total]
        sslProxyHeaders:
          X-Lb-Tls: "on"
        stsSeconds: 63072000
  services:
    b:
      loadBalancer:
        servers:
          - url: ${backend.url}
`;
  before(async () => {
    dir = tempDir('wharf-headers-');
    const file = dir.write('dynamic.yml', yaml(ORIGIN));
    gateway = await startGateway({
      plugins: [headers],
      args: ['--entrypoints.web.address=127.0.0.1:0', `--providers.file.filename=${file}`, '--providers.providersThrottleDuration=0'],
    });
    await eventually(() => gateway.info.routers['app@file']?.status === 'enabled', 'the file router');
  });
  after(async () => {
    await gateway.stop();
    dir.remove();
  });

  const get = (origin: string) => request(gateway.address('web').port, { path: '/app/', headers: { host: 'app.test', origin, 'x-lb-tls': 'on' } });

  test('the options apply, and an edited file changes them live', async () => {
    const reply = await get(ORIGIN);
    assert.equal(reply.headers['access-control-allow-origin'], ORIGIN);
    assert.equal(reply.headers['access-control-allow-credentials'], 'true');
    assert.equal(reply.headers['access-control-expose-headers'], 'X-Total');
    assert.equal(reply.headers['strict-transport-security'], 'max-age=63072000');
    dir.write('dynamic.yml', yaml('https://other.test'));
    await eventually(async () => (await get('https://other.test')).headers['access-control-allow-origin'] === 'https://other.test', 'the new origin allowed');
    assert.equal((await get(ORIGIN)).headers['access-control-allow-origin'], undefined);
  });
});

describe('headers behind a real TLS entrypoint', () => {
  let gateway: EmbeddedGateway;
  before(async () => {
    gateway = await startGateway({
      plugins: [headers, tlsPlugin],
      args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.websecure.address=127.0.0.1:0', '--entrypoints.websecure.http.tls=true'],
      dynamic: {
        http: {
          routers: { app: { rule: 'PathPrefix(`/`)', middlewares: ['secure'], service: 'b' } },
          middlewares: {
            secure: { headers: { stsSeconds: 31536000, stsIncludeSubdomains: true, stsPreload: true, publicKey: 'pin-sha256="x"', frameDeny: true, accessControlAllowOriginList: [ORIGIN], accessControlAllowMethods: ['PUT'] } },
          },
          services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } },
        },
      },
    });
  });
  after(() => gateway.stop());

  /** One GET over TLS; the gateway's self-signed default certificate is accepted (the test is about the scheme). */
  function httpsHeaders(): Promise<Record<string, string | string[] | undefined>> {
    return new Promise((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port: gateway.address('websecure').port, path: '/', servername: 'app.test', rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers));
      });
      req.on('error', reject);
    });
  }

  /** One request over HTTP/2 (ALPN h2), where the request's socket is the session's; resolves with the head. */
  async function h2Head(headers: http2.OutgoingHttpHeaders): Promise<http2.IncomingHttpHeaders> {
    const session = http2.connect(`https://127.0.0.1:${gateway.address('websecure').port}`, { servername: 'app.test', rejectUnauthorized: false });
    try {
      return await new Promise((resolve, reject) => {
        session.on('error', reject);
        const stream = session.request({ ':authority': 'app.test', ...headers });
        stream.on('response', (head) => {
          stream.resume();
          stream.on('end', () => resolve(head));
        });
        stream.on('error', reject);
        stream.end();
      });
    } finally {
      session.close();
    }
  }

  test('over HTTP/2: HSTS on a proxied response, and a preflight answered', async () => {
    const proxied = await h2Head({ ':path': '/' });
    assert.equal(proxied[':status'], 200);
    assert.equal(proxied['strict-transport-security'], 'max-age=31536000; includeSubDomains; preload');
    const preflight = await h2Head({ ':method': 'OPTIONS', ':path': '/', origin: ORIGIN, 'access-control-request-method': 'PUT' });
    assert.equal(preflight[':status'], 200);
    assert.equal(preflight['access-control-allow-origin'], ORIGIN);
    assert.equal(preflight['access-control-allow-methods'], 'PUT');
  });

  test('HSTS and Public-Key-Pins over TLS only', async () => {
    const secure = await httpsHeaders();
    assert.equal(secure['strict-transport-security'], 'max-age=31536000; includeSubDomains; preload');
    assert.equal(secure['public-key-pins'], 'pin-sha256="x"');
    const plain = await request(gateway.address('web').port, { path: '/', headers: { host: 'app.test' } });
    assert.equal(plain.headers['strict-transport-security'], undefined);
    assert.equal(plain.headers['public-key-pins'], undefined);
    assert.equal(plain.headers['x-frame-options'], 'DENY');
  });
});
