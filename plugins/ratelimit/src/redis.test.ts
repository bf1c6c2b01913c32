// Redis store against real redis-server processes: accuracy, two Wharf processes sharing one budget, outages and recovery.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createLogger, startGateway } from '@wharf/core';
import { eventually, freePort, sleep } from '@wharf/test-helpers';
import rateLimit from './index.js';
import { accuracy, arrivalClock, backend, get, overloads, RedisServer, volley, WharfProcess } from './harness.test.helper.js';

const redis = await RedisServer.start();
const b = await backend();
const dir = await mkdtemp(join(tmpdir(), 'wharf-ratelimit-redis-'));
const probe = new Redis({ port: redis.port, host: '127.0.0.1', lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => 100 });
probe.on('error', () => undefined);
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  probe.disconnect();
  await redis.stop();
  await b.close();
  await rm(dir, { recursive: true, force: true });
});

/** Keys the gateways wrote: proof that a decision was made in Redis, not by the insurance bucket. */
async function redisKeys(pattern = 'wharf:rl:*'): Promise<string[]> {
  if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
  return probe.keys(pattern).catch(() => []);
}

const ACCURACY = [
  { desc: '20 per 1s, burst 20', average: 20, period: '1s', burst: 20, perSecond: 20, offered: 40 },
  { desc: '50 per 1s, burst 50', average: 50, period: '1s', burst: 50, perSecond: 50, offered: 100 },
  { desc: '6 per 1m, burst 20', average: 6, period: '1m', burst: 20, perSecond: 0.1, offered: 5 },
];

test('redis store: served vs burst + rate·t (±5%), buckets in Redis with a TTL', async (t) => {
  const clock = arrivalClock();
  const routers: Record<string, unknown> = {};
  const middlewares: Record<string, unknown> = { arrivals: { arrivals: {} } };
  ACCURACY.forEach((c, i) => {
    routers[`c${i}`] = { rule: `PathPrefix(\`/c${i}\`)`, middlewares: ['arrivals', `rl${i}`], service: 'b' };
    middlewares[`rl${i}`] = { rateLimit: { average: c.average, period: c.period, burst: c.burst, redis: { endpoints: [redis.endpoint] } } };
  });
  const gateway = await startGateway({
    plugins: [rateLimit, clock.plugin],
    args: ['--entrypoints.web.address=127.0.0.1:0'],
    dynamic: { http: { routers, middlewares, services: { b: { loadBalancer: { servers: [{ url: b.url }] } } } } },
  });
  cleanups.push(() => gateway.stop());
  const base = `http://127.0.0.1:${gateway.address('web').port}`;
  // The client connects in the background; wait until a decision lands in Redis before measuring.
  await eventually(async () => (await get(`${base}/c0/warm`, {})).status > 0 && (await redisKeys('wharf:rl:rl0@inline:*')).length > 0, 'redis decisions');
  await probe.flushall();
  clock.reset();
  const results = await overloads(
    ACCURACY.map((c, i) => ({ urls: [`${base}/c${i}`], options: { perSecond: c.offered, durationMs: 5000, maxInFlight: 64 } })),
  );
  ACCURACY.forEach((c, i) => {
    const r = results[i]!;
    const seconds = clock.seconds(`c${i}@inline`);
    const { ideal, error } = accuracy(r.served, c.burst, c.perSecond, seconds);
    t.diagnostic(`redis ${c.desc}: served ${r.served} of ${r.sent} in ${seconds.toFixed(2)}s, ideal ${ideal.toFixed(1)} (${(error * 100).toFixed(2)}%)`);
    assert.equal(r.other + r.unavailable, 0);
    assert.ok(r.limited > 0, `${c.desc}: the host could not offer an overload (${r.sent} requests sent)`);
    assert.ok(Math.abs(error) <= 0.05, `${c.desc}: served ${r.served}, ideal ${ideal.toFixed(1)}`);
  });
  // A new configuration generation with the same Redis settings keeps using the same connection.
  const connections = async () => (await probe.client('LIST') as string).split('\n').filter((l) => l.includes('name=wharf-ratelimit')).length;
  assert.equal(await connections(), 1);
  gateway.configure({ http: { routers: { ...routers, extra: { rule: 'PathPrefix(`/extra`)', service: 'b' } }, middlewares, services: { b: { loadBalancer: { servers: [{ url: b.url }] } } } } });
  await get(`${base}/c0`);
  assert.equal(await connections(), 1);
  const key = 'wharf:rl:rl2@inline:ip:127.0.0.1';
  const ttl = await probe.pttl(key);
  // (burst + 1) / rate + maxDelay = 21 / 0.1 s + 0.5 s: the key lives exactly as long as it matters.
  assert.ok(ttl > 200_000 && ttl <= 210_500, `ttl ${ttl}`);
  // One string per bucket: tokens and last (µs on Redis' clock) as two little-endian doubles.
  const state = await probe.getBuffer(key);
  assert.equal(state?.length, 16);
  assert.ok(state!.readDoubleLE(0) <= 20, `tokens ${state!.readDoubleLE(0)}`);
  const [seconds] = await probe.time();
  assert.ok(Math.abs(state!.readDoubleLE(8) / 1e6 - Number(seconds)) < 60, 'last is on Redis\' clock, in µs');
});

test('two Wharf processes sharing one redis-server stay within one limit together (±5%)', async (t) => {
  const config = join(dir, 'two.yml');
  const redisOptions = `redis: { endpoints: ["${redis.endpoint}"] }`;
  await writeFile(config, `
http:
  routers:
    api: { rule: "PathPrefix(\`/api\`)", middlewares: [api-rl], service: b }
    warm: { rule: "PathPrefix(\`/warm\`)", middlewares: [warm-rl], service: b }
  middlewares:
    api-rl: { rateLimit: { average: 50, burst: 50, ${redisOptions} } }
    warm-rl: { rateLimit: { average: 1000, sourceCriterion: { requestHeaderName: X-Gateway }, ${redisOptions} } }
  services:
    b: { loadBalancer: { servers: [{ url: "${b.url}" }] } }
`);
  const ports = [await freePort(), await freePort()];
  const gateways = ports.map((port) =>
    WharfProcess.start([`--entrypoints.web.address=127.0.0.1:${port}`, `--providers.file.filename=${config}`, '--log.level=WARN']),
  );
  cleanups.push(() => Promise.all(gateways.map((g) => g.stop())));
  // Each gateway's own Redis connection is up once its warm-up request left a key named after it.
  for (const [i, port] of ports.entries()) {
    await eventually(async () => {
      if (gateways[i]!.exited) throw new Error(`wharf ${i} exited:\n${gateways[i]!.log}`);
      await get(`http://127.0.0.1:${port}/warm`, { 'x-gateway': String(i) }).catch(() => undefined);
      return (await redisKeys(`wharf:rl:warm-rl@file:hdr:${i}`)).length === 1;
    }, `gateway ${i} deciding in Redis`);
  }
  const [r] = await overloads([{ urls: ports.map((p) => `http://127.0.0.1:${p}/api`), options: { perSecond: 100, durationMs: 5000, maxInFlight: 64 } }]);
  const { ideal, error } = accuracy(r!.served, 50, 50, r!.seconds);
  t.diagnostic(`two processes, load split 50/50: served ${r!.served} of ${r!.sent} in ${r!.seconds.toFixed(2)}s, ideal for one limit ${ideal.toFixed(1)} (${(error * 100).toFixed(2)}%)`);
  assert.equal(r!.other + r!.unavailable, 0);
  assert.ok(Math.abs(error) <= 0.05, `served ${r!.served}, ideal ${ideal.toFixed(1)}`);
});

test('redis killed mid-run: allow limits per replica, deny answers 503, no crash; back in Redis within a second of a restart', async () => {
  const logFile = join(dir, 'outage.log');
  const redisOptions = { endpoints: [redis.endpoint], readTimeout: '300ms', writeTimeout: '200ms' };
  // 6 per minute, burst 5: no token comes back during the test, so every count below is exact.
  const limit = { average: 6, period: '1m', burst: 5, redis: redisOptions };
  const gateway = await startGateway({
    plugins: [rateLimit],
    args: ['--entrypoints.web.address=127.0.0.1:0'],
    log: createLogger({ format: 'json', filePath: logFile, level: 'warn' }),
    dynamic: {
      http: {
        routers: {
          allow: { rule: 'PathPrefix(`/allow`)', middlewares: ['allow'], service: 'b' },
          deny: { rule: 'PathPrefix(`/deny`)', middlewares: ['deny'], service: 'b' },
          warm: { rule: 'PathPrefix(`/warm`)', middlewares: ['warm'], service: 'b' },
        },
        middlewares: {
          allow: { rateLimit: limit },
          deny: { rateLimit: { ...limit, onStoreError: 'deny' } },
          // Same Redis settings, so the same connection: warming it up spends none of the buckets under test.
          warm: { rateLimit: { average: 1000, redis: redisOptions } },
        },
        services: { b: { loadBalancer: { servers: [{ url: b.url }] } } },
      },
    },
  });
  cleanups.push(() => gateway.stop());
  const base = `http://127.0.0.1:${gateway.address('web').port}`;
  await eventually(async () => (await get(`${base}/warm`)).status === 200 && (await redisKeys('wharf:rl:warm@inline:*')).length === 1, 'redis decisions');
  assert.deepEqual(statuses(await volley(`${base}/allow`, 1)), { 200: 1 });

  await redis.kill();
  const denied = await volley(`${base}/deny`, 10);
  assert.deepEqual(statuses(denied), { 503: 10 });
  assert.match(denied[0]!.body, /rate limit store cannot be reached/);
  // The per-replica insurance bucket has the same settings and starts full: exactly burst pass.
  assert.deepEqual(statuses(await volley(`${base}/allow`, 20)), { 200: 5, 429: 15 });

  await redis.start();
  await sleep(1000);
  // Redis restarted empty: a fresh shared bucket of 5, and the decisions land there again.
  assert.deepEqual(statuses(await volley(`${base}/allow`, 3)), { 200: 3 });
  await eventually(() => probe.status === 'ready', 'the test probe reconnecting');
  assert.deepEqual(await redisKeys('wharf:rl:allow@inline:*'), ['wharf:rl:allow@inline:ip:127.0.0.1'], 'decided in Redis again');
  assert.deepEqual(statuses(await volley(`${base}/allow`, 6)), { 200: 2, 429: 4 });
  assert.deepEqual(statuses(await volley(`${base}/deny`, 1)), { 200: 1 });

  const lines = await logLines(logFile, (l) => /is back after an outage/.test(l.msg) && l.middleware === 'deny@inline');
  for (const middleware of ['allow@inline', 'deny@inline']) {
    const own = lines.filter((l) => l.middleware === middleware);
    assert.equal(own.filter((l) => /unavailable/.test(l.msg)).length, 1, `${middleware}: outage start logged once`);
    const ended = own.filter((l) => /is back after an outage/.test(l.msg));
    assert.equal(ended.length, 1, `${middleware}: outage end logged once`);
    assert.ok(ended[0]!.outageSeconds! > 0);
  }
});

test('a redis that stops answering: requests are decided by the insurance bucket within the timeouts', async () => {
  const gateway = await startGateway({
    plugins: [rateLimit],
    args: ['--entrypoints.web.address=127.0.0.1:0'],
    dynamic: {
      http: {
        routers: { slow: { rule: 'PathPrefix(`/`)', middlewares: ['slow'], service: 'b' } },
        middlewares: { slow: { rateLimit: { average: 10, burst: 5, redis: { endpoints: [redis.endpoint], readTimeout: '200ms', writeTimeout: '100ms' } } } },
        services: { b: { loadBalancer: { servers: [{ url: b.url }] } } },
      },
    },
  });
  cleanups.push(() => gateway.stop());
  const base = `http://127.0.0.1:${gateway.address('web').port}`;
  await eventually(async () => (await get(`${base}/`)).status === 200 && (await redisKeys('wharf:rl:slow@inline:*')).length === 1, 'redis decisions');
  redis.pause();
  try {
    const answers = await volley(`${base}/`, 12);
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200, 429]));
  } finally {
    redis.resume();
  }
  await probe.del('wharf:rl:slow@inline:ip:127.0.0.1');
  await eventually(async () => {
    await get(`${base}/`);
    return (await redisKeys('wharf:rl:slow@inline:*')).length === 1;
  }, 'decisions in Redis after it answers again');
});

test('several endpoints: a Redis Cluster, each bucket one key on the node owning its slot', async () => {
  const nodes = await RedisServer.cluster(3, dir);
  cleanups.push(() => Promise.all(nodes.map((n) => n.stop())));
  const gateway = await startGateway({
    plugins: [rateLimit],
    args: ['--entrypoints.web.address=127.0.0.1:0'],
    dynamic: {
      http: {
        routers: { r: { rule: 'PathPrefix(`/`)', middlewares: ['byKey'], service: 'b' } },
        middlewares: {
          byKey: {
            rateLimit: { average: 6, period: '1m', burst: 3, sourceCriterion: { requestHeaderName: 'X-Key' }, onStoreError: 'deny', redis: { endpoints: nodes.map((n) => n.endpoint) } },
          },
        },
        services: { b: { loadBalancer: { servers: [{ url: b.url }] } } },
      },
    },
  });
  cleanups.push(() => gateway.stop());
  const base = `http://127.0.0.1:${gateway.address('web').port}`;
  // deny answers 503 until the cluster client is ready; then every key gets exactly its burst.
  await eventually(async () => (await get(`${base}/`, { 'x-key': 'warm' })).status === 200, 'the cluster client');
  for (let k = 0; k < 12; k++) assert.deepEqual(statuses(await volley(`${base}/`, 4, { 'x-key': `client-${k}` })), { 200: 3, 429: 1 }, `client-${k}`);
  const perNode = await Promise.all(nodes.map(async (n) => {
    const client = new Redis({ port: n.port, host: '127.0.0.1' });
    try {
      return (await client.keys('wharf:rl:*')).length;
    } finally {
      client.disconnect();
    }
  }));
  assert.equal(perNode.reduce((a, c) => a + c, 0), 13);
  assert.ok(perNode.filter((c) => c > 0).length >= 2, `keys spread over the nodes: ${perNode.join(', ')}`);
});

function statuses(answers: { status: number }[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const a of answers) out[a.status] = (out[a.status] ?? 0) + 1;
  return out;
}

interface LogLine {
  msg: string;
  middleware?: string;
  outageSeconds?: number;
}

/** The JSON log lines, once one of them satisfies `until` (the logger writes asynchronously). */
async function logLines(file: string, until: (l: LogLine) => boolean): Promise<LogLine[]> {
  let lines: LogLine[] = [];
  await eventually(async () => {
    const text = await readFile(file, 'utf8').catch(() => '');
    lines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine);
    return lines.some(until);
  }, 'the log line');
  return lines;
}
