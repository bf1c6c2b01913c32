// Unit tables for the pure parts: token-bucket steps, the bounded table, Go durations, endpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goDuration, retryAfterSeconds } from './answer.js';
import { BucketTable, idleTtlMs, takeToken, type Bucket, type BucketLimits } from './bucket.js';
import { parseEndpoint } from '@wharf/redis';

// 10 tokens per second, burst 3, hold up to 150 ms.
const LIMITS: BucketLimits = { ratePerMs: 0.01, burst: 3, maxDelayMs: 150 };

test('takeToken: burst at once, then holds within maxDelay, then refusals that do not spend tokens', () => {
  const bucket: Bucket = { tokens: 3, last: 0 };
  const steps = [
    { at: 0, allowed: true, waitMs: 0 },
    { at: 0, allowed: true, waitMs: 0 },
    { at: 0, allowed: true, waitMs: 0 },
    { at: 0, allowed: true, waitMs: 100 }, // the 4th token exists at 100 ms: held
    { at: 0, allowed: false, waitMs: 200 }, // the 5th at 200 ms > 150 ms: refused, nothing spent
    { at: 60, allowed: true, waitMs: 140 }, // 200 - 60 = 140 ms ≤ 150: held
    { at: 500, allowed: true, waitMs: 0 }, // tokens refilled: -1.4 + 4.4 = 3 (capped) → takes one
  ];
  for (const [i, step] of steps.entries()) {
    const take = takeToken(bucket, step.at, LIMITS);
    assert.equal(take.allowed, step.allowed, `step ${i}`);
    assert.ok(Math.abs(take.waitMs - step.waitMs) < 1e-9, `step ${i}: wait ${take.waitMs}`);
  }
  assert.ok(Math.abs(bucket.tokens - 2) < 1e-9);
});

test('takeToken: a clock that goes backwards mints nothing', () => {
  const bucket: Bucket = { tokens: 0, last: 1000 };
  assert.equal(takeToken(bucket, 900, { ...LIMITS, maxDelayMs: 0 }).allowed, false);
  assert.equal(bucket.last, 1000);
});

test('served over a long overload is exactly burst + rate·t', () => {
  const bucket: Bucket = { tokens: 3, last: 0 };
  let served = 0;
  // One request every millisecond for 10 s.
  for (let t = 0; t <= 10_000; t++) if (takeToken(bucket, t, LIMITS).allowed) served++;
  // burst 3 + 100 tokens, plus the one held past the end (its token comes within maxDelay).
  assert.equal(served, 3 + 100 + 1);
});

test('BucketTable: least recently used goes first at maxKeys; full-again buckets expire', () => {
  const table = new BucketTable(2);
  table.take('a', 0, LIMITS);
  table.take('b', 0, LIMITS);
  table.take('a', 1, LIMITS);
  table.take('c', 2, LIMITS); // evicts b, the least recently used
  assert.equal(table.size, 2);
  for (let i = 0; i < 2; i++) table.take('a', 3, LIMITS);
  assert.equal(table.take('a', 3, LIMITS).allowed, false, 'a kept its state: burst spent');
  const ttl = idleTtlMs(LIMITS);
  assert.equal(ttl, 550); // (3 + 1) / 0.01 + 150
  table.take('d', 3 + ttl, LIMITS); // c (last 2) and a (last 3) are full again: dropped
  assert.equal(table.size, 1);
});

test('goDuration writes Go durations as Traefik does in X-Retry-In', () => {
  const table: [number, string][] = [
    [0, '0s'],
    [0.0005, '1µs'],
    [0.25, '250µs'],
    [12.5, '12.5ms'],
    [999, '999ms'],
    [1000, '1s'],
    [9874.1234, '9.874123s'],
    [60_000, '1m0s'],
    [90_500, '1m30.5s'],
    [3_723_000, '1h2m3s'],
  ];
  for (const [ms, text] of table) assert.equal(goDuration(ms), text, `${ms} ms`);
  assert.deepEqual([0.1, 999, 1000, 1001, 9999].map(retryAfterSeconds), [1, 1, 1, 2, 10]);
});

test('parseEndpoint: host:port, bare host, bracketed IPv6', () => {
  assert.deepEqual(parseEndpoint('redis:6380'), { host: 'redis', port: 6380 });
  assert.deepEqual(parseEndpoint('redis'), { host: 'redis', port: 6379 });
  assert.deepEqual(parseEndpoint('[::1]:7000'), { host: '::1', port: 7000 });
  assert.throws(() => parseEndpoint('redis:0'), /redis\.endpoints: 'redis:0' is not host:port/);
});
