// redirectRegex behind a TLS entrypoint: the URL it matches starts with https:// when the connection is TLS, so the
// README's http → https recipe does not loop and www → apex keeps https. Real TLS on loopback (self-signed default).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { request, startServer, type Listening } from '@wharf/test-helpers';
import tlsPlugin from '@wharf/plugin-tls';
import redirectRegex from './index.js';

let backend: Listening;
let gateway: EmbeddedGateway;

before(async () => {
  backend = await startServer((req, res) => res.end(`backend ${req.url}`));
  gateway = await startGateway({
    plugins: [redirectRegex, tlsPlugin],
    args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.websecure.address=127.0.0.1:0', '--entrypoints.websecure.http.tls=true'],
    dynamic: {
      http: {
        routers: {
          app: { rule: 'Host(`app.test`)', middlewares: ['to-https'], service: 'b' },
          www: { rule: 'Host(`www.example.test`)', middlewares: ['www-to-apex'], service: 'b' },
        },
        middlewares: {
          'to-https': { redirectRegex: { regex: '^http://([^/:]+)(?::[0-9]+)?(.*)$', replacement: 'https://${1}${2}' } },
          'www-to-apex': { redirectRegex: { regex: '^(https?)://www\\.([^/]+)(.*)$', replacement: '${1}://${2}${3}', permanent: true } },
        },
        services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } },
      },
    },
  });
});

after(async () => {
  await gateway.stop();
  await backend.close();
});

/** One GET over TLS (the gateway's self-signed default certificate is accepted: the test is about the scheme). */
function httpsGet(host: string, path: string): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port: gateway.address('websecure').port, path, servername: host, headers: { host }, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}), body }));
    });
    req.on('error', reject);
  });
}

test('http → https: redirected on the plain entrypoint, passed through over TLS (no loop)', async () => {
  const plain = await request(gateway.address('web').port, { path: '/p?q=1', headers: { host: 'app.test:8080' } });
  assert.equal(plain.status, 302);
  assert.equal(plain.headers.location, 'https://app.test/p?q=1');
  assert.deepEqual(await httpsGet('app.test', '/p?q=1'), { status: 200, body: 'backend /p?q=1' });
});

test('www → apex over TLS keeps https', async () => {
  assert.deepEqual(await httpsGet('www.example.test', '/a?b=1'), { status: 301, location: 'https://example.test/a?b=1', body: 'Moved Permanently' });
});
