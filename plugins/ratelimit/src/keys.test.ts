// Which requests share a bucket: client IP, trusted X-Forwarded-For (depth, excludedIPs, ipv6Subnet), header, host, scope.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '@wharf/core';
import rateLimit from './index.js';
import { backend, get } from './harness.test.helper.js';

// 6 per minute with a burst of 2: each bucket serves exactly 2 requests during the test, then answers 429.
const LIMIT = { average: 6, period: '1m', burst: 2 };
const MIDDLEWARES: Record<string, Record<string, unknown>> = {
  peer: {},
  depth1: { sourceCriterion: { ipStrategy: { depth: 1 } } },
  depth2: { sourceCriterion: { ipStrategy: { depth: 2 } } },
  excluded: { sourceCriterion: { ipStrategy: { excludedIPs: ['10.0.0.0/8', '192.168.1.1'] } } },
  subnet: { sourceCriterion: { ipStrategy: { depth: 1, ipv6Subnet: 64 } } },
  header: { sourceCriterion: { requestHeaderName: 'X-Api-Key' } },
  headerShared: { sourceCriterion: { requestHeaderName: 'X-Api-Key' }, missingKey: 'shared' },
  host: { sourceCriterion: { requestHost: true } },
  perMiddleware: {},
  perRouter: { scope: 'router' },
};

const b = await backend();
const routers: Record<string, unknown> = {};
const middlewares: Record<string, unknown> = {};
for (const [name, options] of Object.entries(MIDDLEWARES)) {
  middlewares[name] = { rateLimit: { ...LIMIT, ...options } };
  routers[name] = { rule: `PathPrefix(\`/${name}/\`)`, middlewares: [name], service: 'b' };
}
// Two routers on each scope middleware.
for (const n of [1, 2]) {
  routers[`mw${n}`] = { rule: `PathPrefix(\`/scope-middleware-${n}/\`)`, middlewares: ['perMiddleware'], service: 'b' };
  routers[`rt${n}`] = { rule: `PathPrefix(\`/scope-router-${n}/\`)`, middlewares: ['perRouter'], service: 'b' };
}
const gateway = await startGateway({
  plugins: [rateLimit],
  args: [
    '--entrypoints.trusted.address=127.0.0.1:0',
    '--entrypoints.trusted.forwardedHeaders.trustedIPs=127.0.0.1',
    '--entrypoints.untrusted.address=127.0.0.1:0',
  ],
  dynamic: { http: { routers, middlewares, services: { b: { loadBalancer: { servers: [{ url: b.url }] } } } } },
});
after(async () => {
  await gateway.stop();
  await b.close();
});
const trusted = `http://127.0.0.1:${gateway.address('trusted').port}`;
const untrusted = `http://127.0.0.1:${gateway.address('untrusted').port}`;

/** How many of `n` sequential requests were served (200). */
async function served(url: string, headers: Record<string, string> = {}, n = 3): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) if ((await get(url, headers)).status === 200) ok++;
  return ok;
}

const xff = (value: string) => ({ 'x-forwarded-for': value });

test('default: every request from one TCP peer shares a bucket, whatever X-Forwarded-For says', async () => {
  assert.equal(await served(`${trusted}/peer/a`, xff('1.1.1.1')), 2);
  assert.equal(await served(`${trusted}/peer/b`, xff('2.2.2.2'), 1), 0);
});

test('ipStrategy.depth reads X-Forwarded-For from the right, only from a trusted peer', async () => {
  assert.equal(await served(`${trusted}/depth1/`, xff('9.9.9.9, 1.0.0.1')), 2);
  assert.equal(await served(`${trusted}/depth1/`, xff('8.8.8.8, 1.0.0.1'), 1), 0, 'same rightmost address, same bucket');
  assert.equal(await served(`${trusted}/depth1/`, xff('1.0.0.2')), 2, 'another address, another bucket');
  assert.equal(await served(`${trusted}/depth2/`, xff('7.7.7.7, 1.0.0.3, 10.0.0.1')), 2);
  assert.equal(await served(`${trusted}/depth2/`, xff('1.0.0.3, 10.0.0.2'), 1), 0, 'second from the right decides');
  // Untrusted peer: the header is ignored, so rotating it does not escape the limit.
  assert.equal(await served(`${untrusted}/depth1/`, xff('1.0.0.4')), 2);
  assert.equal(await served(`${untrusted}/depth1/`, xff('1.0.0.5'), 1), 0);
});

test('ipStrategy.excludedIPs skips your proxies from the right', async () => {
  assert.equal(await served(`${trusted}/excluded/`, xff('2.0.0.1, 10.1.2.3, 192.168.1.1')), 2);
  assert.equal(await served(`${trusted}/excluded/`, xff('2.0.0.1, 10.9.9.9'), 1), 0, 'same first non-excluded address');
  assert.equal(await served(`${trusted}/excluded/`, xff('2.0.0.2, 10.1.2.3')), 2);
});

test('ipStrategy.ipv6Subnet groups an IPv6 prefix into one bucket', async () => {
  assert.equal(await served(`${trusted}/subnet/`, xff('2001:db8:0:1::1')), 2);
  assert.equal(await served(`${trusted}/subnet/`, xff('2001:db8:0:1:ffff::2'), 1), 0, 'same /64');
  assert.equal(await served(`${trusted}/subnet/`, xff('2001:db8:0:2::1')), 2, 'another /64');
});

test('requestHeaderName: a bucket per header value; without it, per client IP or one shared bucket', async () => {
  assert.equal(await served(`${trusted}/header/`, { 'x-api-key': 'alice' }), 2);
  assert.equal(await served(`${trusted}/header/`, { 'x-api-key': 'bob' }), 2);
  assert.equal(await served(`${untrusted}/header/`), 2, 'missing header: limited under the client IP');
  assert.equal(await served(`${trusted}/header/`, {}, 1), 0, 'same client IP, same bucket');
  assert.equal(await served(`${trusted}/header/`, { 'x-api-key': 'carol' }), 2, 'a key is not charged for keyless requests');
  assert.equal(await served(`${trusted}/headerShared/`), 2, 'missingKey shared: one bucket for all keyless requests');
  assert.equal(await served(`${trusted}/headerShared/`, { 'x-api-key': 'alice' }), 2);
});

test('requestHost: a bucket per Host', async () => {
  assert.equal(await served(`${trusted}/host/`, { host: 'a.example' }), 2);
  assert.equal(await served(`${trusted}/host/`, { host: 'A.EXAMPLE' }, 1), 0, 'hosts compare case-insensitively');
  assert.equal(await served(`${trusted}/host/`, { host: 'b.example' }), 2);
});

test('scope middleware: one budget across routers; scope router: one budget per router', async () => {
  assert.equal(await served(`${trusted}/scope-middleware-1/`, {}, 1), 1);
  assert.equal(await served(`${trusted}/scope-middleware-2/`, {}, 1), 1);
  assert.equal(await served(`${trusted}/scope-middleware-1/`, {}, 1), 0, 'the two routers drew from one bucket');
  assert.equal(await served(`${trusted}/scope-router-1/`), 2);
  assert.equal(await served(`${trusted}/scope-router-2/`), 2);
});

test('a reload keeps the buckets of middlewares whose settings did not change', async () => {
  const services = { b: { loadBalancer: { servers: [{ url: b.url }] } } };
  // `peer` was spent by the first test; a new generation with one more router must not refill it.
  gateway.configure({ http: { routers: { ...routers, extra: { rule: 'PathPrefix(`/extra/`)', service: 'b' } }, middlewares, services } });
  assert.equal(await served(`${trusted}/peer/c`, {}, 1), 0);
  // Changed settings are a new bucket.
  gateway.configure({ http: { routers, middlewares: { ...middlewares, peer: { rateLimit: { ...LIMIT, burst: 3 } } }, services } });
  assert.equal(await served(`${trusted}/peer/d`, {}, 4), 3);
});
