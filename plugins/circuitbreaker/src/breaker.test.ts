// oxy's cbreaker and memmetrics, replayed on a clock the test moves: rolling windows, HdrHistogram quantiles, and the
// closed → open → recovering → closed cycle (TestCircuitBreaker_fullCycle, _requestThreshold, re-trip in recovery).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BreakerAuthority, Gate, stateAt, type BreakerSettings } from './breaker.js';
import { highestEquivalent, lowestEquivalent, RoundTripMetrics, valueAtQuantile } from './metrics.js';

function clock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('RoundTripMetrics', () => {
  test('NetworkErrorRatio counts 502 and 504 among all responses; 0 without any', () => {
    const c = clock();
    const m = new RoundTripMetrics(c.now);
    assert.equal(m.networkErrorRatio(), 0);
    for (const status of [200, 502, 504, 500]) m.record(status, 0);
    assert.equal(m.networkErrorRatio(), 0.5);
    assert.equal(m.totalCount(), 4);
  });

  test('ResponseCodeRatio: from inclusive, to exclusive; 0 when the divisor is 0', () => {
    const m = new RoundTripMetrics(clock().now);
    for (let i = 0; i < 5; i++) m.record(200, 0);
    for (let i = 0; i < 6; i++) m.record(500, 0);
    m.record(600, 0);
    assert.equal(m.responseCodeRatio(500, 600, 0, 600), 6 / 11);
    assert.equal(m.responseCodeRatio(500, 600, 700, 800), 0);
    assert.equal(m.responseCodeRatio(200, 201, 200, 201), 1);
  });

  test('counters forget what is older than the 10 s window, bucket by bucket', () => {
    const c = clock(1_700_000_000_000);
    const m = new RoundTripMetrics(c.now);
    m.record(502, 0);
    c.advance(5000);
    m.record(200, 0);
    assert.equal(m.totalCount(), 2);
    c.advance(5000);
    assert.equal(m.totalCount(), 1, 'the first second left the window');
    assert.equal(m.networkErrorRatio(), 0);
    c.advance(5000);
    assert.equal(m.totalCount(), 0);
  });

  test('LatencyAtQuantileMS: HdrHistogram with 2 significant figures, truncated to whole ms', () => {
    const m = new RoundTripMetrics(clock().now);
    assert.equal(m.latencyAtQuantileMS(50), 0, 'empty');
    m.record(200, 51_000);
    assert.equal(m.latencyAtQuantileMS(50), 51, "oxy's statsLatencyAtQuantile: one 51 ms request");
    for (let i = 1; i <= 100; i++) m.record(200, i * 1000);
    assert.equal(m.latencyAtQuantileMS(99), 99);
    assert.equal(m.latencyAtQuantileMS(100), 100);
  });

  test('HdrHistogram buckets: exact below 256, then 1/128 of the power of two', () => {
    assert.deepEqual([lowestEquivalent(255), highestEquivalent(255)], [255, 255]);
    assert.deepEqual([lowestEquivalent(300), highestEquivalent(300)], [300, 301]);
    assert.deepEqual([lowestEquivalent(51_000), highestEquivalent(51_000)], [50_944, 51_199]);
    assert.equal(valueAtQuantile(new Map([[10, 1], [20, 1], [30, 2]]), 4, 50), 20);
    assert.equal(valueAtQuantile(new Map([[10, 1]]), 1, 0), 0, 'quantile 0 is 0, as in hdrhistogram-go');
  });

  test('reset empties every metric', () => {
    const m = new RoundTripMetrics(clock().now);
    m.record(504, 9000);
    m.reset();
    assert.deepEqual([m.totalCount(), m.networkErrorRatio(), m.responseCodeRatio(0, 600, 0, 600), m.latencyAtQuantileMS(50)], [0, 0, 0, 0]);
  });
});

describe('the breaker cycle', () => {
  const settings: BreakerSettings = { expression: 'NetworkErrorRatio() > 0.5', checkPeriod: 100, fallbackDuration: 10_000, recoveryDuration: 10_000 };

  function setup(overrides: Partial<BreakerSettings> = {}) {
    const c = clock();
    const log: string[] = [];
    const authority = new BreakerAuthority({ ...settings, ...overrides }, (state) => log.push(state), c.now);
    const gate = new Gate(overrides.recoveryDuration ?? settings.recoveryDuration);
    /** Serves one request through the gate like the middleware: fallback (false) or recorded with `status`. */
    const serve = (status: number): boolean => {
      if (!gate.allow(authority.view, c.now())) return false;
      authority.record(status, 0);
      authority.check();
      return true;
    };
    return { c, log, authority, serve, state: () => stateAt(authority.view, c.now()) };
  }

  test('full cycle: trips when the condition holds at a check, falls back, recovers linearly, closes', () => {
    const { c, serve, state, authority } = setup();
    assert.equal(serve(200), true);
    assert.equal(state(), 'closed');
    for (let i = 0; i < 60; i++) authority.record(504, 0);
    c.advance(101);
    assert.equal(serve(200), true, 'the request that finds the condition is served');
    assert.equal(state(), 'open');
    c.advance(9000);
    assert.equal(serve(200), false, 'still open');
    c.advance(1001);
    assert.equal(state(), 'recovering');
    assert.equal(serve(200), false, 'the first request of recovery is refused: the ratio starts at 0');
    c.advance(5000);
    let allowed = 0;
    for (let i = 0; i < 100; i++) if (serve(200)) allowed++;
    assert.ok(allowed > 0 && allowed < 100, `some requests let through half-way into recovery (${allowed})`);
    c.advance(5001);
    assert.equal(state(), 'closed');
    assert.equal(serve(200), true);
  });

  test('not evaluated more than once per checkPeriod', () => {
    const { c, serve, state, authority } = setup({ checkPeriod: 1000 });
    serve(200);
    for (let i = 0; i < 10; i++) authority.record(502, 0);
    c.advance(500);
    serve(502);
    assert.equal(state(), 'closed', 'within the check period');
    c.advance(501);
    serve(502);
    assert.equal(state(), 'open');
  });

  test('RequestThreshold: 19 network errors do not trip, the 20th does (oxy)', () => {
    const { c, serve, state, authority } = setup({ expression: 'NetworkErrorRatio() > 0.5 && RequestThreshold() >= 20' });
    for (let i = 0; i < 18; i++) authority.record(504, 0);
    c.advance(101);
    serve(504);
    assert.equal(state(), 'closed');
    c.advance(101);
    serve(504);
    assert.equal(state(), 'open');
    assert.equal(serve(200), false);
  });

  test('failing again while recovering re-opens, with fresh metrics', () => {
    const { c, serve, state, authority, log } = setup();
    for (let i = 0; i < 10; i++) authority.record(502, 0);
    c.advance(101);
    serve(502);
    assert.equal(state(), 'open');
    c.advance(10_000 + 5000);
    assert.equal(state(), 'recovering');
    let served = 0;
    for (let i = 0; i < 100 && state() === 'recovering'; i++) {
      if (serve(502)) served++;
      c.advance(2);
    }
    assert.ok(served > 0);
    assert.equal(state(), 'open', 'network errors during recovery trip it again');
    assert.deepEqual(log, ['open', 'open']);
    authority.close();
  });
});
