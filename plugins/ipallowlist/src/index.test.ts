// ipAllowList: options from labels (errors naming the field and entry), and which requests pass through a real
// gateway in front of a real backend, for the peer, depth, excludedIPs and ipv6Subnet strategies (Traefik's cases).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { definePlugin, onResponseHeaders, startGateway, Type, type EmbeddedGateway, type Next, type WharfContext } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import { eventually, get, startBackend, type Backend } from '@wharf/test-helpers';
import ipAllowList, { ipWhiteList, ipWhiteListSchema, schema } from './index.js';

describe('ipAllowList options', () => {
  const cases: Array<{ desc: string; labels: Record<string, string>; expected?: unknown; issues?: string[] }> = [
    { desc: 'defaults filled in, list from commas', labels: { sourceRange: '10.0.0.0/8, 192.168.1.7' }, expected: { sourceRange: ['10.0.0.0/8', '192.168.1.7'], rejectStatusCode: 403 } },
    {
      desc: 'ipStrategy keys case-insensitive, numbers coerced',
      labels: { sourcerange: '::1', 'ipstrategy.depth': '2', 'ipStrategy.excludedIPs': '10.0.0.1', 'ipstrategy.ipv6subnet': '64', rejectstatuscode: '404' },
      expected: { sourceRange: ['::1'], ipStrategy: { depth: 2, excludedIPs: ['10.0.0.1'], ipv6Subnet: 64 }, rejectStatusCode: 404 },
    },
    { desc: 'ipStrategy=true is the TCP peer', labels: { sourceRange: '::1', ipStrategy: 'true' }, expected: { sourceRange: ['::1'], ipStrategy: {}, rejectStatusCode: 403 } },
    { desc: 'sourceRange is required', labels: { rejectStatusCode: '403' }, issues: ['sourceRange: is required'] },
  ];
  for (const { desc, labels, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, flatToTree(Object.entries(labels)));
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected) assert.deepEqual(result.value, expected);
    });
  }

  test('ipWhiteList takes the same options without rejectStatusCode, as in Traefik', () => {
    const ok = decode(ipWhiteListSchema, flatToTree(Object.entries({ sourceRange: '10.0.0.0/8', 'ipStrategy.depth': '1' })));
    assert.deepEqual([ok.issues, ok.value], [[], { sourceRange: ['10.0.0.0/8'], ipStrategy: { depth: 1 } }]);
    const extra = decode(ipWhiteListSchema, flatToTree(Object.entries({ sourceRange: '10.0.0.0/8', rejectStatusCode: '404' })));
    assert.match(extra.issues.map((i) => `${i.source}: ${i.message}`).join('\n'), /^rejectStatusCode: unknown field 'rejectStatusCode'/);
  });

  test('validate names the field and the entry', () => {
    const invalid: Array<[Record<string, unknown>, string]> = [
      [{ sourceRange: [] }, 'sourceRange: is empty; list the allowed IPs or CIDR ranges'],
      [{ sourceRange: ['10.0.0.0/8', '10.0.0.300'] }, "sourceRange: '10.0.0.300' is not an IP address or CIDR range"],
      [{ sourceRange: ['2001:db8::/129'] }, "sourceRange: '2001:db8::/129' is not an IP address or CIDR range"],
      [{ sourceRange: ['::1'], ipStrategy: { excludedIPs: ['proxy'] } }, "ipStrategy.excludedIPs: 'proxy' is not an IP address or CIDR range"],
      [{ sourceRange: ['::1'], rejectStatusCode: 499 }, 'rejectStatusCode: 499 is not a known HTTP status code'],
    ];
    for (const [options, message] of invalid) {
      assert.throws(() => ipAllowList.validate!({ rejectStatusCode: 403, ...options } as never), { message }, message);
    }
    assert.doesNotThrow(() => ipAllowList.validate!({ sourceRange: ['::1'], rejectStatusCode: 0 }));
  });
});

/** Reports, after the chain, which middleware refused the request (what the access log and metrics read). */
const probe = definePlugin({
  name: 'probe',
  schema: Type.Object({}),
  create() {
    return async function probe(ctx: WharfContext, next: Next) {
      onResponseHeaders(ctx, (_status, headers) => void (headers['x-rejected-by'] = ctx.wharf.rejectedBy ?? '-'));
      await next();
      if (!ctx.res.headersSent) ctx.set('X-Rejected-By', ctx.wharf.rejectedBy ?? '-');
    };
  },
});

describe('ipAllowList through a gateway', () => {
  let backend: Backend;
  let gateway: EmbeddedGateway;
  let trusted: number;
  let untrusted: number;
  const warnings: string[] = [];

  // name → options; each gets a router on /<name>/ (probe first, so it sees the refusal).
  const MIDDLEWARES: Record<string, Record<string, unknown>> = {
    peer: { ipAllowList: { sourceRange: ['127.0.0.1'] } },
    peerRange: { ipAllowList: { sourceRange: ['10.0.0.0/8', '127.0.0.0/24'] } },
    other: { ipAllowList: { sourceRange: ['10.0.0.0/8', '::1'] } },
    status: { ipAllowList: { sourceRange: ['10.0.0.0/8'], rejectStatusCode: 404 } },
    depth1: { ipAllowList: { sourceRange: ['10.0.0.1'], ipStrategy: { depth: 1 } } },
    depth2: { ipAllowList: { sourceRange: ['1.2.3.4'], ipStrategy: { depth: 2 } } },
    excluded: { ipAllowList: { sourceRange: ['1.2.3.0/24'], ipStrategy: { excludedIPs: ['10.0.0.0/8', '192.168.1.1'] } } },
    subnet: { ipAllowList: { sourceRange: ['2001:db8:1:2::'], ipStrategy: { depth: 1, ipv6Subnet: 64 } } },
    legacy: { ipWhiteList: { sourceRange: ['127.0.0.1'] } },
    legacyOther: { ipWhiteList: { sourceRange: ['10.0.0.0/8'] } },
    broken: { ipAllowList: { sourceRange: ['10.0.0.0/8', 'not-an-ip'] } },
  };

  before(async () => {
    backend = await startBackend('b');
    const routers: Record<string, unknown> = {};
    for (const name of Object.keys(MIDDLEWARES)) {
      routers[name] = { rule: `PathPrefix(\`/${name}/\`)`, middlewares: ['probe', name], service: 'b' };
    }
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
    gateway = await startGateway({
      plugins: [ipAllowList, ipWhiteList, probe],
      log,
      args: [
        '--entrypoints.trusted.address=127.0.0.1:0',
        '--entrypoints.trusted.forwardedHeaders.trustedIPs=127.0.0.1',
        '--entrypoints.untrusted.address=127.0.0.1:0',
      ],
      dynamic: {
        http: {
          routers,
          middlewares: { probe: { probe: {} }, ...MIDDLEWARES },
          services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } },
        },
      },
    });
    trusted = gateway.address('trusted').port;
    untrusted = gateway.address('untrusted').port;
  });

  after(async () => {
    await gateway.stop();
    await backend.close();
  });

  test('allows or refuses as Traefik does', async () => {
    const cases: Array<{ desc: string; path: string; port?: 'untrusted'; xff?: string; status: number; body?: string }> = [
      { desc: 'peer address listed', path: '/peer/', status: 200 },
      { desc: 'peer inside a listed CIDR', path: '/peerRange/', status: 200 },
      { desc: 'peer not listed: 403 Forbidden', path: '/other/', status: 403, body: 'Forbidden' },
      { desc: 'X-Forwarded-For ignored without a strategy', path: '/other/', xff: '10.0.0.1', status: 403 },
      { desc: 'rejectStatusCode with its status text', path: '/status/', status: 404, body: 'Not Found' },
      { desc: 'depth 1: the last entry', path: '/depth1/', xff: '1.2.3.4, 10.0.0.1', status: 200 },
      { desc: 'depth 1: the last entry not listed', path: '/depth1/', xff: '10.0.0.1, 1.2.3.4', status: 403 },
      { desc: 'depth 2: the entry before the last', path: '/depth2/', xff: '9.9.9.9,1.2.3.4,10.0.0.1', status: 200 },
      { desc: 'depth beyond the list: refused, not the peer', path: '/depth2/', xff: '1.2.3.4', status: 403 },
      { desc: 'depth without the header: refused', path: '/depth1/', status: 403 },
      { desc: 'untrusted peer: its X-Forwarded-For does not count', path: '/depth1/', port: 'untrusted', xff: '10.0.0.1', status: 403 },
      { desc: 'excludedIPs skips the proxies from the right', path: '/excluded/', xff: '9.9.9.9, 1.2.3.9, 10.1.1.1, 192.168.1.1', status: 200 },
      { desc: 'excludedIPs: the first not excluded is judged', path: '/excluded/', xff: '1.2.3.9, 9.9.9.9, 10.1.1.1', status: 403 },
      { desc: 'excludedIPs: all excluded is refused', path: '/excluded/', xff: '10.1.1.1, 192.168.1.1', status: 403 },
      { desc: 'ipv6Subnet: judged by the first address of the /64', path: '/subnet/', xff: '2001:db8:1:2:3:4:5:6', status: 200 },
      { desc: 'ipv6Subnet: another /64', path: '/subnet/', xff: '2001:db8:1:3::1', status: 403 },
      { desc: 'ipWhiteList: same middleware, allowed', path: '/legacy/', status: 200 },
      { desc: 'ipWhiteList: refused with 403', path: '/legacyOther/', status: 403, body: 'Forbidden' },
    ];
    for (const { desc, path, port, xff, status, body } of cases) {
      const reply = await get(port === 'untrusted' ? untrusted : trusted, path, 'localhost', xff === undefined ? {} : { 'x-forwarded-for': xff });
      assert.equal(reply.status, status, desc);
      if (body !== undefined) assert.equal(reply.body, body, desc);
      const name = path.split('/')[1]!;
      assert.equal(reply.headers['x-rejected-by'], status === 200 ? '-' : `${name}@inline`, `${desc}: rejectedBy`);
    }
  });

  test('only allowed requests reach the backend', async () => {
    const before = backend.requests.length;
    await get(trusted, '/other/');
    await get(trusted, '/peer/');
    assert.deepEqual(backend.requests.slice(before).map((r) => r.url), ['/peer/']);
  });

  test('an invalid entry disables only its router, naming the entry', async () => {
    await eventually(() => gateway.info.routers['broken@inline']?.status === 'disabled', 'the broken router disabled');
    assert.match(gateway.info.routers['broken@inline']?.errors?.join('\n') ?? '', /sourceRange: 'not-an-ip' is not an IP address or CIDR range/);
    assert.equal((await get(trusted, '/peer/')).status, 200);
  });

  test('ipWhiteList logs that it is deprecated', async () => {
    await eventually(() => warnings.find((w) => /legacy@inline: ipWhiteList is deprecated, use ipAllowList/.test(w)), 'the deprecation warning');
  });
});
