// The resolvers in the API (/api/certificateresolvers) against a real CA (pebble), and a CA that cannot be reached:
// the default certificate is served, the router keeps routing, and the error names the resolver and the domain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import apiPlugin from '@wharf/plugin-api';
import tlsPlugin from '@wharf/plugin-tls';
import { eventually, freePort, get, json, startServer } from '@wharf/test-helpers';
import acmePlugin from './index.js';
import { BLOCKED_DOMAIN, ISSUANCE_MS, routers, served, staticConfig, pebbleSuite } from './pebble.test.helper.js';

interface ResolverView {
  name: string;
  caServer: string;
  challenges: string[];
  certificates: Array<{ domains: { main: string; sans: string[] }; notAfter: string }>;
  status: string;
  error?: string[];
}

const suite = pebbleSuite('wharf-acme-api-', {}, 'from the backend');
const { ports, dir } = suite;

/** A gateway with the API on `traefik` (api.insecure) beside web/websecure, one resolver `le`. */
async function gateway(acme: Record<string, unknown>, dynamic: Record<string, unknown>, apiPort: number): Promise<EmbeddedGateway> {
  const config = staticConfig(ports, acme) as { entryPoints: Record<string, unknown> } & Record<string, unknown>;
  config.entryPoints.traefik = { address: `127.0.0.1:${apiPort}` };
  config.api = { insecure: true, dashboard: false };
  return startGateway({ plugins: [apiPlugin, tlsPlugin, acmePlugin], config, dynamic });
}

async function resolvers(apiPort: number): Promise<ResolverView[]> {
  const reply = await get(apiPort, '/api/certificateresolvers');
  assert.equal(reply.status, 200);
  return json<ResolverView[]>(reply);
}

/** One HTTPS request through the websecure entrypoint, whatever certificate it serves. */
function httpsGet(servername: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port: ports.websecure, servername, headers: { host: servername }, rejectUnauthorized: false, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

test('GET /api/certificateresolvers: each resolver with its CA, challenges, certificates (domains, expiry) and the errors naming the domain', async () => {
  const apiPort = await freePort();
  const gw = await gateway(
    { email: 'ops@example.test', caServer: suite.pebble.directory, caCertificates: [suite.pebble.apiCAFile], keyType: 'EC256', storage: dir.file('api.json'), httpChallenge: { entryPoint: 'web' } },
    routers(suite.backend.url, {
      app: { rule: 'Host(`api.test`) || Host(`www.api.test`)', tls: { certResolver: 'le' } },
      blocked: { rule: `Host(\`${BLOCKED_DOMAIN}\`)`, tls: { certResolver: 'le' } },
    }),
    apiPort,
  );
  try {
    await eventually(async () => (await served(ports.websecure, 'api.test', suite.root)).authorized, 'a certificate from pebble for api.test', ISSUANCE_MS);
    const [le] = await eventually(async () => {
      const list = await resolvers(apiPort);
      return list[0]?.certificates.length === 1 && list[0].error?.length === 1 && list;
    }, 'the certificate and the refused order in the API', ISSUANCE_MS);
    assert.equal(le!.name, 'le');
    assert.equal(le!.caServer, suite.pebble.directory);
    assert.deepEqual(le!.challenges, ['http-01']);
    assert.deepEqual(le!.certificates[0]!.domains, { main: 'api.test', sans: ['www.api.test'] });
    const notAfter = Date.parse(le!.certificates[0]!.notAfter);
    assert.ok(notAfter > Date.now(), `notAfter is a future RFC 3339 date (got ${le!.certificates[0]!.notAfter})`);
    assert.equal(le!.status, 'warning');
    assert.match(le!.error![0]!, new RegExp(`^acme resolver le: cannot obtain a certificate for ${BLOCKED_DOMAIN}: `));
    const one = await get(apiPort, '/api/certificateresolvers/le');
    assert.equal(one.status, 200);
    assert.deepEqual(json(one), le);
    const missing = await get(apiPort, '/api/certificateresolvers/nope');
    assert.equal(missing.status, 404);
    assert.deepEqual(json(missing), { message: 'certificate resolver not found: nope' });
    const searched = json<ResolverView[]>(await get(apiPort, '/api/certificateresolvers?status=enabled'));
    assert.deepEqual(searched, [], 'filtered by status like the other lists');
  } finally {
    await gw.stop();
  }
});

test('the CA unreachable: the default certificate is served, the router stays enabled and routes, the error names the resolver and the domain', async () => {
  const apiPort = await freePort();
  const closed = await freePort(); // nothing listens there
  const gw = await gateway(
    { email: 'ops@example.test', caServer: `https://127.0.0.1:${closed}/dir`, storage: dir.file('down.json'), httpChallenge: { entryPoint: 'web' } },
    routers(suite.backend.url, { down: { rule: 'Host(`down.test`)', tls: { certResolver: 'le' } } }),
    apiPort,
  );
  try {
    const expected = /^acme resolver le: cannot obtain a certificate for down\.test: .*ECONNREFUSED.*; retrying in 60s \(the default certificate is served meanwhile\)$/;
    const errors = await eventually(() => gw.info.routers['down@inline']!.errors, 'the error on the router', ISSUANCE_MS);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, expected);
    assert.equal(gw.info.routers['down@inline']!.status, 'warning', 'the router is not disabled');
    // A new configuration generation (another router added) shows the standing failure again, without a new order.
    gw.configure(routers(suite.backend.url, { down: { rule: 'Host(`down.test`)', tls: { certResolver: 'le' } }, other: { rule: 'Host(`other.test`)', tls: {} } }));
    await eventually(() => gw.info.routers['other@inline'], 'the new generation live');
    assert.deepEqual(gw.info.routers['down@inline']!.errors, errors, 'the failure stays on the router after a reload');
    const router = json<{ status: string; error: string[] }>(await get(apiPort, '/api/http/routers/down@inline'));
    assert.equal(router.status, 'warning');
    assert.match(router.error[0]!, expected);
    const [le] = await eventually(async () => {
      const list = await resolvers(apiPort);
      return list[0]?.error?.length === 1 && list;
    }, 'the error in /api/certificateresolvers', ISSUANCE_MS);
    assert.match(le!.error![0]!, expected);
    assert.deepEqual(le!.certificates, []);
    const cert = await served(ports.websecure, 'down.test', suite.root);
    assert.equal(cert.issuer, 'WHARF DEFAULT CERT');
    assert.deepEqual(await httpsGet('down.test'), { status: 200, body: 'from the backend' });
  } finally {
    await gw.stop();
  }
});

/** An ACME server written here that rate-limits every new account, as Let's Encrypt answers once a limit is hit. */
async function rateLimitingCA(detail: string): Promise<{ url: string; close(): Promise<void> }> {
  let nonce = 0;
  const server = await startServer((req, res) => {
    const base = `http://${req.headers.host}`;
    res.setHeader('replay-nonce', `nonce-${++nonce}`);
    if (req.url === '/dir') return res.setHeader('content-type', 'application/json').end(JSON.stringify({ newNonce: `${base}/nonce`, newAccount: `${base}/account`, newOrder: `${base}/order`, revokeCert: `${base}/revoke`, keyChange: `${base}/key` }));
    if (req.url === '/nonce') return res.writeHead(200).end();
    req.resume();
    res.writeHead(429, { 'content-type': 'application/problem+json', 'retry-after': '1' }).end(JSON.stringify({ type: 'urn:ietf:params:acme:error:rateLimited', detail, status: 429 }));
  });
  return { url: `${server.url}/dir`, close: () => server.close() };
}

test('the CA rate-limiting: its problem detail is the error, naming the resolver and the domain, on the router and in the API', async () => {
  const apiPort = await freePort();
  const detail = 'too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s';
  const ca = await rateLimitingCA(detail);
  const gw = await gateway({ email: 'ops@example.test', caServer: ca.url, storage: dir.file('limited.json'), httpChallenge: { entryPoint: 'web' } }, routers(suite.backend.url, { limited: { rule: 'Host(`limited.test`)', tls: { certResolver: 'le' } } }), apiPort);
  try {
    const expected = `acme resolver le: cannot obtain a certificate for limited.test: ${detail}; retrying in 60s (the default certificate is served meanwhile)`;
    const errors = await eventually(() => gw.info.routers['limited@inline']!.errors, 'the rate limit on the router', ISSUANCE_MS);
    assert.deepEqual(errors, [expected]);
    const [le] = await eventually(async () => {
      const list = await resolvers(apiPort);
      return list[0]?.error?.length === 1 && list;
    }, 'the rate limit in /api/certificateresolvers', ISSUANCE_MS);
    assert.deepEqual(le!.error, [expected]);
    assert.equal((await served(ports.websecure, 'limited.test', suite.root)).issuer, 'WHARF DEFAULT CERT');
  } finally {
    await gw.stop();
    await ca.close();
  }
});
