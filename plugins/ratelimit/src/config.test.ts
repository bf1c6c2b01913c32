// Configuration: labels and a YAML file decode to the same options, cross-field errors name their fields, README matches.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway } from '@wharf/core';
import { decode, flatToTree, formatIssues, markedSection, optionRows, optionTable } from '@wharf/core/config';
import { eventually } from '@wharf/test-helpers';
import rateLimit, { limitsOf, schema, type RateLimitConfig } from './index.js';

// Every option, spelled as people write labels: some lower-case, some in Traefik's camelCase.
const LABELS: Record<string, string> = {
  'wharf.http.middlewares.api-rl.ratelimit.average': '100',
  'wharf.http.middlewares.api-rl.ratelimit.period': '1m30s',
  'wharf.http.middlewares.api-rl.ratelimit.burst': '200',
  'wharf.http.middlewares.api-rl.ratelimit.maxDelay': '250ms',
  'wharf.http.middlewares.api-rl.ratelimit.sourcecriterion.ipstrategy.depth': '2',
  'wharf.http.middlewares.api-rl.ratelimit.sourceCriterion.ipStrategy.excludedIPs': '10.0.0.0/8,192.168.0.1',
  'wharf.http.middlewares.api-rl.ratelimit.sourcecriterion.ipstrategy.ipv6subnet': '64',
  'wharf.http.middlewares.api-rl.ratelimit.scope': 'router',
  'wharf.http.middlewares.api-rl.ratelimit.headers': 'true',
  'wharf.http.middlewares.api-rl.ratelimit.maxkeys': '1000',
  'wharf.http.middlewares.api-rl.ratelimit.redis.endpoints': '10.0.0.1:6379,10.0.0.2:6380',
  'wharf.http.middlewares.api-rl.ratelimit.redis.username': 'wharf',
  'wharf.http.middlewares.api-rl.ratelimit.redis.password': 's3cret',
  'wharf.http.middlewares.api-rl.ratelimit.redis.db': '0',
  'wharf.http.middlewares.api-rl.ratelimit.redis.tls.ca': '/etc/wharf/ca.pem',
  'wharf.http.middlewares.api-rl.ratelimit.redis.tls.cert': '/etc/wharf/client.pem',
  'wharf.http.middlewares.api-rl.ratelimit.redis.tls.key': '/etc/wharf/client-key.pem',
  'wharf.http.middlewares.api-rl.ratelimit.redis.tls.insecureSkipVerify': 'true',
  'wharf.http.middlewares.api-rl.ratelimit.redis.dialtimeout': '2s',
  'wharf.http.middlewares.api-rl.ratelimit.redis.readTimeout': '500ms',
  'wharf.http.middlewares.api-rl.ratelimit.redis.writetimeout': '1s',
  'wharf.http.middlewares.api-rl.ratelimit.redis.poolsize': '10',
  'wharf.http.middlewares.api-rl.ratelimit.redis.minidleconns': '1',
  'wharf.http.middlewares.api-rl.ratelimit.redis.maxactiveconns': '20',
  'wharf.http.middlewares.api-rl.ratelimit.onstoreerror': 'deny',
  'wharf.http.middlewares.key-rl.ratelimit.average': '6',
  'wharf.http.middlewares.key-rl.ratelimit.sourcecriterion.requestheadername': 'X-Api-Key',
  'wharf.http.middlewares.key-rl.ratelimit.missingkey': 'shared',
  'wharf.http.middlewares.host-rl.ratelimit.average': '6',
  'wharf.http.middlewares.host-rl.ratelimit.sourcecriterion.requesthost': 'true',
};

const YAML = `
http:
  middlewares:
    api-rl:
      rateLimit:
        average: 100
        period: 1m30s
        burst: 200
        maxDelay: 250ms
        sourceCriterion:
          ipStrategy:
            depth: 2
            excludedIPs: [10.0.0.0/8, 192.168.0.1]
            ipv6Subnet: 64
        scope: router
        headers: true
        maxKeys: 1000
        redis:
          endpoints: [10.0.0.1:6379, 10.0.0.2:6380]
          username: wharf
          password: s3cret
          db: 0
          tls:
            ca: /etc/wharf/ca.pem
            cert: /etc/wharf/client.pem
            key: /etc/wharf/client-key.pem
            insecureSkipVerify: true
          dialTimeout: 2s
          readTimeout: 500ms
          writeTimeout: 1s
          poolSize: 10
          minIdleConns: 1
          maxActiveConns: 20
        onStoreError: deny
    key-rl:
      rateLimit:
        average: 6
        sourceCriterion:
          requestHeaderName: X-Api-Key
        missingKey: shared
    host-rl:
      rateLimit:
        average: 6
        sourceCriterion:
          requestHost: true
`;

const dir = await mkdtemp(join(tmpdir(), 'wharf-ratelimit-'));
const file = join(dir, 'dynamic.yml');
await writeFile(file, YAML);
// No router uses these middlewares, so nothing dials the example Redis endpoints.
const gateway = await startGateway({
  plugins: [rateLimit],
  args: ['--entrypoints.web.address=127.0.0.1:0', `--providers.file.filename=${file}`, '--providers.file.watch=false'],
});
after(async () => {
  await gateway.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Labels as the docker provider reads them: drop the `wharf.` prefix, then one tree. */
function labelTree(labels: Record<string, string>): ReturnType<typeof flatToTree> {
  return flatToTree(Object.entries(labels).map(([k, v]) => [k.replace(/^wharf\./, ''), v]));
}

test('labels and a YAML file give the same configuration, every option included', async () => {
  gateway.configure(labelTree(LABELS));
  await eventually(() => gateway.info.middlewares['api-rl@file'] !== undefined, 'the file provider');
  for (const name of ['api-rl', 'key-rl', 'host-rl']) {
    const fromLabels = gateway.info.middlewares[`${name}@inline`];
    const fromFile = gateway.info.middlewares[`${name}@file`];
    assert.equal(fromLabels?.status, 'enabled', JSON.stringify(fromLabels?.errors));
    assert.deepEqual(fromLabels?.config, fromFile?.config, name);
  }
  const api = (gateway.info.middlewares['api-rl@inline']!.config as { rateLimit: RateLimitConfig }).rateLimit;
  assert.equal(api.period, 90_000);
  assert.equal(api.maxDelay, 250);
  assert.deepEqual(api.sourceCriterion?.ipStrategy?.excludedIPs, ['10.0.0.0/8', '192.168.0.1']);
  assert.deepEqual(api.redis?.endpoints, ['10.0.0.1:6379', '10.0.0.2:6380']);
  assert.equal(api.redis?.readTimeout, 500);
});

test('defaults fill what is left out; burst below 1 and period 0 behave as Traefik', () => {
  const { value, issues } = decode<RateLimitConfig>(rateLimit.schema, flatToTree([['average', '100'], ['burst', '0'], ['period', '0']]));
  assert.deepEqual(issues, []);
  assert.deepEqual(value, { average: 100, burst: 0, period: 0, scope: 'middleware', headers: false, maxKeys: 65536, onStoreError: 'allow' });
  assert.deepEqual(limitsOf(value), { ratePerMs: 0.1, burst: 1, maxDelayMs: 5 });
  const slow = decode<RateLimitConfig>(rateLimit.schema, { average: 6, period: '1m' }).value;
  assert.deepEqual(limitsOf(slow), { ratePerMs: 0.0001, burst: 1, maxDelayMs: 500 });
  const redis = decode<RateLimitConfig>(rateLimit.schema, { average: 1, redis: true }).value;
  assert.deepEqual(redis.redis, { endpoints: ['127.0.0.1:6379'], db: 0, dialTimeout: 5000, readTimeout: 3000, writeTimeout: 3000 });
});

const INVALID: { desc: string; config: unknown; expectedError: RegExp }[] = [
  { desc: 'two criteria', config: { average: 1, sourceCriterion: { ipStrategy: { depth: 1 }, requestHeaderName: 'X-Key' } }, expectedError: /sourceCriterion\.ipStrategy and sourceCriterion\.requestHeaderName are mutually exclusive/ },
  { desc: 'header and host', config: { average: 1, sourceCriterion: { requestHeaderName: 'X-Key', requestHost: true } }, expectedError: /sourceCriterion\.requestHeaderName and sourceCriterion\.requestHost/ },
  { desc: 'missingKey without a header', config: { average: 1, missingKey: 'shared' }, expectedError: /missingKey: only applies with sourceCriterion\.requestHeaderName/ },
  { desc: 'bad excluded IP', config: { average: 1, sourceCriterion: { ipStrategy: { excludedIPs: ['10.0.0.0/33'] } } }, expectedError: /excludedIPs: '10\.0\.0\.0\/33' is not an IP/ },
  { desc: 'db on a cluster', config: { average: 1, redis: { endpoints: ['a:1', 'b:2'], db: 3 } }, expectedError: /redis\.db: a Redis Cluster/ },
  { desc: 'bad endpoint', config: { average: 1, redis: { endpoints: ['a:99999'] } }, expectedError: /redis\.endpoints: 'a:99999'/ },
  { desc: 'cert without key', config: { average: 1, redis: { tls: { cert: '/c.pem' } } }, expectedError: /redis\.tls: cert and key go together/ },
];

for (const { desc, config, expectedError } of INVALID) {
  test(`validate rejects ${desc}`, () => {
    const { value, issues } = decode<RateLimitConfig>(rateLimit.schema, config);
    assert.deepEqual(issues, []);
    assert.throws(() => rateLimit.validate!(value), expectedError);
  });
}

test('schema errors name the label', () => {
  const { issues } = decode(rateLimit.schema, flatToTree([['average', 'lots'], ['scope', 'global'], ['averag', '1']]), {
    describe: (w) => `wharf.http.middlewares.api-rl.ratelimit.${w.join('.')}`,
  });
  const text = formatIssues(issues);
  assert.match(text, /ratelimit\.average: expected a whole number \(got "lots"\)/);
  assert.match(text, /ratelimit\.averag: unknown field 'averag' \(did you mean 'average'\?\)/);
});

test('a configuration error disables the middleware and its routers, with the message', () => {
  gateway.configure({
    http: {
      routers: { r: { rule: 'PathPrefix(`/`)', middlewares: ['bad'], service: 'noop@internal' } },
      middlewares: { bad: { rateLimit: { average: 1, sourceCriterion: { requestHost: true, requestHeaderName: 'X' } } } },
    },
  });
  const info = gateway.info.middlewares['bad@inline'];
  assert.equal(info?.status, 'disabled');
  assert.match(String(info?.errors), /mutually exclusive/);
});

test('an unreadable redis.tls file disables the middleware with a message naming the field and the path', () => {
  gateway.configure({
    http: {
      routers: { r: { rule: 'PathPrefix(`/`)', middlewares: ['tls-rl'], service: 'noop@internal' } },
      middlewares: { 'tls-rl': { rateLimit: { average: 1, redis: { endpoints: ['127.0.0.1:1'], tls: { ca: '/nonexistent/ca.pem' } } } } },
    },
  });
  const info = gateway.info.middlewares['tls-rl@inline'];
  assert.equal(info?.status, 'disabled');
  assert.match(String(info?.errors), /redis\.tls\.ca: cannot read \/nonexistent\/ca\.pem \(ENOENT\)/);
});

test('the README option table is the one the schema renders', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  assert.equal(markedSection(readme, 'options'), optionTable(optionRows(schema)));
});
