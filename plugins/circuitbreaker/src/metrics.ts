// What the circuit breaker measures, as oxy's memmetrics.RTMetrics does: counters over a rolling window of 10 buckets
// of 1 s (total, network errors = status 502/504, one per status code), and latencies in a rolling histogram of 6
// sub-histograms rotated every 10 s, with HdrHistogram's 2 significant figures over microseconds.
import type { Metrics } from './expression.js';

const COUNTER_BUCKETS = 10;
const COUNTER_RESOLUTION_MS = 1000;
const HISTOGRAM_BUCKETS = 6;
const HISTOGRAM_PERIOD_MS = 10_000;
/** HdrHistogram's highest trackable value in oxy: one hour in microseconds; longer latencies are not recorded. */
const HISTOGRAM_MAX_US = 3_600_000_000;

export type Clock = () => number;

/** Counts over the last 10 s, in 1 s buckets aligned on wall-clock seconds (oxy's RollingCounter). */
export class RollingCounter {
  private readonly values = new Array<number>(COUNTER_BUCKETS).fill(0);
  /** Second (ms / 1000, floored) of the last increment; -Infinity when reset. */
  private lastSecond = -Infinity;

  constructor(private readonly now: Clock) {}

  inc(n: number): void {
    const second = this.cleanup();
    this.values[second % COUNTER_BUCKETS]! += n;
    this.lastSecond = second;
  }

  count(): number {
    this.cleanup();
    let sum = 0;
    for (const v of this.values) sum += v;
    return sum;
  }

  reset(): void {
    this.values.fill(0);
    this.lastSecond = -Infinity;
  }

  /** Zeroes the buckets of the seconds since the last increment; returns the current second. */
  private cleanup(): number {
    const second = Math.floor(this.now() / COUNTER_RESOLUTION_MS);
    for (let i = 0; i < COUNTER_BUCKETS; i++) {
      const check = second - i;
      if (check <= this.lastSecond) break;
      this.values[check % COUNTER_BUCKETS] = 0;
    }
    return second;
  }
}

/**
 * HdrHistogram's bucket for a value with 2 significant figures: exact below 256, then 128 sub-buckets per power of
 * two. Returns the lowest value of the bucket; `highestEquivalent` its highest.
 */
export function lowestEquivalent(value: number): number {
  if (value < 256) return value;
  const shift = 31 - Math.clz32(value) - 7;
  return (value >>> shift) << shift;
}

export function highestEquivalent(value: number): number {
  if (value < 256) return value;
  const shift = 31 - Math.clz32(value) - 7;
  return lowestEquivalent(value) + (1 << shift) - 1;
}

/** Microsecond latencies: bucket → count. */
class Histogram {
  counts = new Map<number, number>();
  total = 0;

  record(us: number): void {
    const key = lowestEquivalent(us);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.total++;
  }

  reset(): void {
    this.counts.clear();
    this.total = 0;
  }
}

/** HdrHistogram's ValueAtQuantile (q in percent, 0–100) over the merged counts; 0 when empty. */
export function valueAtQuantile(counts: ReadonlyMap<number, number>, total: number, quantile: number): number {
  const q = Math.min(quantile, 100);
  const target = Math.trunc((q / 100) * total + 0.5);
  if (target <= 0) return 0;
  const keys = [...counts.keys()].sort((a, b) => a - b);
  let seen = 0;
  for (const key of keys) {
    seen += counts.get(key)!;
    if (seen >= target) return highestEquivalent(key);
  }
  return 0;
}

/** oxy's RollingHDRHistogram: the current sub-histogram changes every 10 s on record; all 6 are merged on read. */
class RollingHistogram {
  private readonly buckets = Array.from({ length: HISTOGRAM_BUCKETS }, () => new Histogram());
  private idx = 0;
  private lastRoll = 0;

  constructor(private readonly now: Clock) {}

  record(us: number): void {
    if (us > HISTOGRAM_MAX_US) return;
    const now = this.now();
    if (now - this.lastRoll >= HISTOGRAM_PERIOD_MS) {
      this.idx = (this.idx + 1) % HISTOGRAM_BUCKETS;
      this.buckets[this.idx]!.reset();
      this.lastRoll = now;
    }
    this.buckets[this.idx]!.record(us);
  }

  quantileUs(quantile: number): number {
    const merged = new Map<number, number>();
    let total = 0;
    for (const h of this.buckets) {
      total += h.total;
      for (const [k, n] of h.counts) merged.set(k, (merged.get(k) ?? 0) + n);
    }
    return valueAtQuantile(merged, total, quantile);
  }

  reset(): void {
    this.idx = 0;
    this.lastRoll = this.now();
    for (const h of this.buckets) h.reset();
  }
}

/** Round-trip metrics of one circuit breaker: what its expression reads. */
export class RoundTripMetrics implements Metrics {
  private readonly total: RollingCounter;
  private readonly netErrors: RollingCounter;
  private statusCodes = new Map<number, RollingCounter>();
  private readonly histogram: RollingHistogram;

  constructor(private readonly now: Clock = Date.now) {
    this.total = new RollingCounter(now);
    this.netErrors = new RollingCounter(now);
    this.histogram = new RollingHistogram(now);
  }

  /** One response: its status as sent to the client and its latency in microseconds. */
  record(status: number, latencyUs: number): void {
    this.total.inc(1);
    // oxy counts every 502 and 504 as a network error: the proxy's own answer to a failed upstream, or the backend's.
    if (status === 502 || status === 504) this.netErrors.inc(1);
    let counter = this.statusCodes.get(status);
    if (counter === undefined) this.statusCodes.set(status, (counter = new RollingCounter(this.now)));
    counter.inc(1);
    this.histogram.record(latencyUs);
  }

  networkErrorRatio(): number {
    const total = this.total.count();
    return total === 0 ? 0 : this.netErrors.count() / total;
  }

  /** count(from ≤ status < to) / count(dividedByFrom ≤ status < dividedByTo); 0 when the divisor is 0. */
  responseCodeRatio(from: number, to: number, dividedByFrom: number, dividedByTo: number): number {
    let a = 0;
    let b = 0;
    for (const [code, counter] of this.statusCodes) {
      const n = counter.count();
      if (code >= from && code < to) a += n;
      if (code >= dividedByFrom && code < dividedByTo) b += n;
    }
    return b === 0 ? 0 : a / b;
  }

  latencyAtQuantileMS(quantile: number): number {
    return Math.trunc(this.histogram.quantileUs(quantile) / 1000);
  }

  totalCount(): number {
    return this.total.count();
  }

  reset(): void {
    this.total.reset();
    this.netErrors.reset();
    this.statusCodes = new Map();
    this.histogram.reset();
  }
}
