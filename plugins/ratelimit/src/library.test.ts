// The stores as rate-limiter-flexible limiters: RateLimiterRes answers, and RLWrapperTimeouts' insurance fallback on a paused or killed Redis.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { RateLimiterCompatibleAbstract, RateLimiterRes, RLWrapperTimeouts } from 'rate-limiter-flexible';
import type { Logger, SharedState } from '@wharf/core';
import { eventually } from '@wharf/test-helpers';
import { BucketTable, type BucketLimits } from './bucket.js';
import { BucketRes, StoreUnavailableError, type BucketLimiter } from './limiter.js';
import { MemoryBucketLimiter, SharedBucketLimiter, sharedReducer } from './memory.js';
import { InsuredRedisLimiter, MAX_BATCHES_IN_FLIGHT, redisLimiter, RedisBucketLimiter, retainClient } from './redis.js';
import type { RedisConfig } from './schema.js';
import { RedisServer } from './harness.test.helper.js';

// A token every 10 s, so the few milliseconds between calls change no assertion below.
const TEN_SECONDS = 10_000;
const SLOW: BucketLimits = { ratePerMs: 1 / TEN_SECONDS, burst: 2, maxDelayMs: 15_000 };
// Real time passes between the calls (a loaded host may stall): msBeforeNext may have shrunk by this much.
const SLACK_MS = 2000;

function near(actual: number, expected: number, what: string): void {
  assert.ok(actual <= expected + 1 && actual > expected - SLACK_MS, `${what}: ${actual}, expected about ${expected}`);
}

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => assert.fail(`resolved with ${String(value)}`),
    (err: unknown) => err,
  );
}

/** The protocol every bucket limiter keeps, whatever its store. */
async function checkProtocol(limiter: BucketLimiter): Promise<void> {
  assert.ok(limiter instanceof RateLimiterCompatibleAbstract);
  const first = await limiter.consume('a');
  assert.ok(first instanceof RateLimiterRes && first instanceof BucketRes);
  assert.deepEqual([first.remainingPoints, first.consumedPoints, first.delayMs], [1, 1, 0]);
  near(first.msBeforeNext, TEN_SECONDS, 'granted: msBeforeNext = until the bucket is full');
  await limiter.consume('a');
  // No token left, the next one exists in 10 s ≤ maxDelay 15 s: granted, held for it (Traefik's reservation).
  const held = await limiter.consume('a');
  near(held.delayMs, TEN_SECONDS, 'held: delayMs');
  assert.equal(held.remainingPoints, 0);
  // The one after exists in 20 s > 15 s: refused, as the library refuses, by rejecting with a RateLimiterRes.
  const refused = await rejection(limiter.consume('a'));
  assert.ok(refused instanceof RateLimiterRes && refused instanceof BucketRes, `refused with ${String(refused)}`);
  near(refused.msBeforeNext, 2 * TEN_SECONDS, 'refused: msBeforeNext = until its token exists');
  // A refusal spends nothing: the bucket still owes the held request's token.
  const now = await limiter.get('a');
  assert.ok(now && Math.abs(now.tokens + 1) < 0.2, `tokens ${now?.tokens}`);
  assert.equal(await limiter.get('never-seen'), null);
  assert.equal(await limiter.delete('a'), true);
  assert.equal(await limiter.get('a'), null);
  // Two tokens at once; more than burst can never be granted.
  assert.equal((await limiter.consume('b', 2)).remainingPoints, 0);
  const never = await rejection(limiter.consume('c', 3));
  assert.ok(never instanceof RateLimiterRes && never.msBeforeNext === Infinity);
  await assert.rejects(limiter.penalty('a'), /penalty\(\) is not supported/);
  await assert.rejects(limiter.block('a', 60), /block\(\) is not supported/);
  assert.throws(() => (limiter.blockDuration = 60), /blockDuration is not supported/);
  limiter.execEvenly = false; // what RLWrapperTimeouts copies onto its insurance limiter
}

test('memory bucket: granted, held and refused as RateLimiterRes; get, delete; unsupported members say so', async () => {
  await checkProtocol(new MemoryBucketLimiter('wharf:rl:memory:', SLOW, new BucketTable(16)));
});

test('cluster bucket: the same protocol through the primary reducer (JSON round trips, as over IPC)', async () => {
  const state = new Map<string, unknown>();
  const json = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
  const shared: SharedState = { call: async <R>(_reducer: string, name: string, arg: unknown) => json(sharedReducer(state, name, json(arg))) as R };
  await checkProtocol(new SharedBucketLimiter('wharf:rl:shared:', SLOW, shared, 'shared@test', 16));
});

const redis = await RedisServer.start();
const probe = new Redis({ port: redis.port, host: '127.0.0.1', lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => 100 });
probe.on('error', () => undefined);
const closeClients = new AbortController();
after(async () => {
  closeClients.abort();
  probe.disconnect();
  redis.resume();
  await redis.stop();
});

/** Schema defaults, with timeouts long enough that only RLWrapperTimeouts' own bound can fire in these tests. */
function redisConfig(overrides: Partial<RedisConfig> = {}): RedisConfig {
  return { endpoints: [redis.endpoint], db: 0, dialTimeout: 5000, readTimeout: 3000, writeTimeout: 3000, ...overrides };
}

/** A logger keeping the warnings, the only level the limiter uses. */
function recordingLog(): { log: Logger; warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, log: { warn: (_fields: object, msg: string) => void warnings.push(msg) } as unknown as Logger };
}

test('redis bucket: the same protocol, in Lua on Redis\' clock (get reads the packed bucket and TIME, delete drops the key)', async () => {
  const client = retainClient(redisConfig(), closeClients.signal);
  await eventually(() => client.client.status === 'ready', 'the redis client');
  await checkProtocol(new RedisBucketLimiter('wharf:rl:protocol@test:', SLOW, client));
});

/** Keeps the Redis server busy for ARGV[1] milliseconds (a script runs alone: other clients' commands wait). */
const BUSY_SCRIPT = `
local function now() local t = redis.call('TIME'); return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000 end
local until_ms = now() + tonumber(ARGV[1])
while now() < until_ms do end
return 1`;

test('redis bucket: takes of many event-loop turns go in several batches at once, never more than the bound, and stay exact', async () => {
  const client = retainClient(redisConfig(), closeClients.signal);
  await eventually(() => client.client.status === 'ready', 'the redis client');
  const burst = 100;
  const bucket = new RedisBucketLimiter('wharf:rl:pipeline@test:', { ratePerMs: 1 / TEN_SECONDS, burst, maxDelayMs: 0 }, client);
  const outcomes: Promise<boolean>[] = [];
  let mostInFlight = 0;
  // Redis on loopback can answer a batch within one event-loop turn, and then no two would ever overlap: a
  // script on another connection keeps the server busy for 300 ms, so batches sent meanwhile are all in flight.
  const blocker = (client.client as Redis).duplicate(); // a single-node test server
  await eventually(() => blocker.status === 'ready', 'the blocking connection');
  const busy = blocker.eval(BUSY_SCRIPT, 0, 300);
  // 30 turns of 5 takes each, one turn after the other: far quicker than the server's 300 ms of work.
  for (let turn = 0; turn < 30; turn++) {
    for (let i = 0; i < 5; i++) outcomes.push(bucket.consume('k').then(() => true, () => false));
    await new Promise((resolve) => setImmediate(resolve));
    mostInFlight = Math.max(mostInFlight, bucket.batchesInFlight);
  }
  const granted = (await Promise.all(outcomes)).filter(Boolean).length;
  await busy;
  blocker.disconnect();
  assert.equal(granted, burst, 'exactly burst granted out of 150, whatever the batching');
  assert.ok(mostInFlight > 1, `batches overlapped (most in flight: ${mostInFlight})`);
  assert.ok(mostInFlight <= MAX_BATCHES_IN_FLIGHT, `at most ${MAX_BATCHES_IN_FLIGHT} in flight, saw ${mostInFlight}`);
  assert.equal(bucket.batchesInFlight, 0);
});

test('redis bucket: a key left in another layout (an older version\'s hash, or garbage) counts as a full bucket and is replaced', async () => {
  const prefix = 'wharf:rl:layout@test:';
  const client = retainClient(redisConfig(), closeClients.signal);
  await eventually(() => client.client.status === 'ready', 'the redis client');
  const direct = client.client;
  await direct.hset(`${prefix}hash`, { tokens: '0', last: '0' });
  await direct.set(`${prefix}short`, 'abc');
  const bucket = new RedisBucketLimiter(prefix, SLOW, client);
  for (const key of ['hash', 'short']) {
    assert.equal((await bucket.get(key)), null, `${key}: no bucket yet`);
    assert.equal((await bucket.consume(key)).remainingPoints, SLOW.burst - 1, `${key}: a full bucket minus one`);
    assert.equal((await direct.getBuffer(`${prefix}${key}`))?.length, 16, `${key}: rewritten as a packed bucket`);
  }
});

test('redisLimiter is RLWrapperTimeouts bounded by writeTimeout + readTimeout, insured by the memory bucket (allow) or not (deny)', () => {
  const insurance = new MemoryBucketLimiter('wharf:rl:f:', SLOW, new BucketTable(16));
  const base = { prefix: 'wharf:rl:f:', limits: SLOW, log: recordingLog().log, signal: closeClients.signal };
  const allow = redisLimiter({ ...base, config: redisConfig({ readTimeout: 300, writeTimeout: 200 }), insurance });
  assert.ok(allow instanceof RLWrapperTimeouts);
  assert.equal(allow.timeoutMs, 500);
  assert.equal(allow.insuranceLimiter, insurance);
  const deny = redisLimiter({ ...base, config: redisConfig(), insurance: undefined });
  assert.equal(deny.timeoutMs, 6000);
  assert.equal(deny.insuranceLimiter, undefined);
});

test('redis bucket in RLWrapperTimeouts: refusals reject with RateLimiterRes; paused (timeout) and killed (error) Redis go to the insurance limiter', async () => {
  const prefix = 'wharf:rl:lib@test:';
  const limits: BucketLimits = { ratePerMs: 1 / TEN_SECONDS, burst: 3, maxDelayMs: 0 };
  const client = retainClient(redisConfig(), closeClients.signal);
  await eventually(() => client.client.status === 'ready', 'the redis client');
  const bucket = new RedisBucketLimiter(prefix, limits, client);
  const insurance = new MemoryBucketLimiter(prefix, limits, new BucketTable(16));
  const { log, warnings } = recordingLog();
  const TIMEOUT_MS = 150;
  const allow = new InsuredRedisLimiter({ limiter: bucket, timeoutMs: TIMEOUT_MS, insuranceLimiter: insurance, log });
  const deny = new InsuredRedisLimiter({ limiter: bucket, timeoutMs: TIMEOUT_MS, insuranceLimiter: undefined, log: recordingLog().log });

  // Redis answers: burst granted, then a refusal is the library's RateLimiterRes rejection, and nothing is insured.
  for (let i = 0; i < 3; i++) assert.equal((await allow.consume('k')).remainingPoints, 2 - i);
  const refused = await rejection(allow.consume('k'));
  assert.ok(refused instanceof RateLimiterRes, `refused with ${String(refused)}`);
  near(refused.msBeforeNext, TEN_SECONDS, 'msBeforeNext from Redis');
  await probe.connect();
  assert.ok(Math.abs((await probe.getBuffer(`${prefix}k`))!.readDoubleLE(0)) < 0.1, 'the tokens were taken in Redis');
  assert.equal(await insurance.get('k'), null);
  assert.deepEqual(warnings, []);

  // SIGSTOP: the connection stays open and silent; RLWrapperTimeouts gives up after its bound, the insurance bucket decides.
  redis.pause();
  try {
    const started = performance.now();
    const insured = await allow.consume('paused');
    const waited = performance.now() - started;
    assert.ok(waited >= TIMEOUT_MS - 5 && waited < 2000, `decided after ${waited.toFixed(0)} ms`);
    assert.equal(insured.remainingPoints, 2);
    assert.equal((await insurance.get('paused'))?.remainingPoints, 2, 'decided by the insurance bucket');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /unavailable \(Operation timed out\); requests are limited per replica by the insurance bucket/);
  } finally {
    redis.resume();
  }
  // Answering again: decisions land in Redis, and the outage's end is logged once, with its duration.
  await eventually(async () => (await allow.consume('back').then(() => true, () => false)) && (await probe.exists(`${prefix}back`)) === 1, 'redis answering again');
  assert.equal(warnings.length, 2);
  assert.match(warnings[1]!, /is back after an outage of \d+\.\ds; \d+ requests were limited per replica/);

  // SIGKILL: commands fail (connection closed / refused); allow is insured, deny rejects with StoreUnavailableError.
  await redis.kill();
  const afterKill = await allow.consume('killed');
  assert.equal(afterKill.remainingPoints, 2);
  assert.equal((await insurance.get('killed'))?.remainingPoints, 2, 'decided by the insurance bucket');
  const denied = await rejection(deny.consume('killed'));
  assert.ok(denied instanceof StoreUnavailableError && !(denied instanceof RateLimiterRes), `deny: ${String(denied)}`);
  assert.equal(warnings.length, 3);
  assert.doesNotMatch(warnings[2]!, /Operation timed out/);
  // Refusals by the insurance bucket are refusals too: burst 3 per replica.
  await allow.consume('killed');
  await allow.consume('killed');
  assert.ok((await rejection(allow.consume('killed'))) instanceof RateLimiterRes);
  assert.equal(warnings.length, 3, 'one outage, logged once');
});
