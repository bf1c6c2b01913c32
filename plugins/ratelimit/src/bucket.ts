// Exact token-bucket arithmetic (golang.org/x/time/rate reservations, as Traefik uses them) and a bounded table of buckets.

export interface BucketLimits {
  /** Tokens added per millisecond: average / period. */
  readonly ratePerMs: number;
  /** Bucket size: how many requests pass at once after idling. */
  readonly burst: number;
  /** Longest a request may be held for its token; a longer wait is refused. */
  readonly maxDelayMs: number;
}

export interface Bucket {
  /** Tokens now; negative while tokens are promised to held requests. */
  tokens: number;
  /** Time of the last refill, in the store's clock (ms). */
  last: number;
}

/** The outcome of asking for tokens (one per request). */
export interface Take {
  allowed: boolean;
  /** Allowed: how long to hold the request for its tokens. Refused: how long until they would exist. */
  waitMs: number;
  /** Tokens left afterwards (negative while held requests wait for theirs). */
  tokens: number;
}

/** Tokens `bucket` holds at `now`: refilled at the rate, capped at burst; a clock that went backwards adds none. */
export function tokensAt(bucket: Bucket, now: number, limits: BucketLimits): number {
  if (now <= bucket.last) return bucket.tokens;
  return Math.min(limits.burst, bucket.tokens + (now - bucket.last) * limits.ratePerMs);
}

/**
 * Refills `bucket` up to `now`, then takes `n` tokens if they are there now or within maxDelay; mutates the
 * bucket. The caller refuses n > burst up front (it could never be granted, as Go's ReserveN says).
 * redis.ts runs the same steps in Lua: change both together.
 */
export function takeToken(bucket: Bucket, now: number, limits: BucketLimits, n = 1): Take {
  const { ratePerMs, maxDelayMs } = limits;
  // A clock that went backwards (another store's, or a restored state) must not mint tokens.
  if (now > bucket.last) {
    bucket.tokens = tokensAt(bucket, now, limits);
    bucket.last = now;
  }
  const after = bucket.tokens - n;
  if (after >= 0) {
    bucket.tokens = after;
    return { allowed: true, waitMs: 0, tokens: after };
  }
  const waitMs = -after / ratePerMs;
  if (waitMs > maxDelayMs) return { allowed: false, waitMs, tokens: bucket.tokens };
  // The tokens are promised to this request: later ones queue behind it, as with Go's Reserve.
  bucket.tokens = after;
  return { allowed: true, waitMs, tokens: after };
}

/**
 * After this long untouched a bucket is full again from any state, so forgetting it changes nothing:
 * idle expiry is exact, only LRU eviction at maxKeys can hand a client a fresh burst.
 */
export function idleTtlMs(limits: BucketLimits): number {
  return Math.ceil((limits.burst + 1) / limits.ratePerMs + limits.maxDelayMs);
}

/** Milliseconds until a bucket holding `tokens` is full. */
export function msUntilFull(tokens: number, limits: BucketLimits): number {
  return Math.max(0, (limits.burst - tokens) / limits.ratePerMs);
}

/** Buckets by key, least recently used first (Map order), bounded by maxKeys, idle ones dropped as they age. */
export class BucketTable {
  private readonly buckets = new Map<string, Bucket>();
  /** Idle time after which a bucket is full again, for the limits of the latest take. */
  private ttlMs = Infinity;

  constructor(public maxKeys: number) {}

  get size(): number {
    return this.buckets.size;
  }

  take(key: string, now: number, limits: BucketLimits, n = 1): Take {
    let bucket = this.buckets.get(key);
    if (bucket) this.buckets.delete(key);
    else bucket = { tokens: limits.burst, last: now };
    const result = takeToken(bucket, now, limits, n);
    this.buckets.set(key, bucket);
    this.ttlMs = idleTtlMs(limits);
    this.expire(now, 2);
    while (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    return result;
  }

  /** Tokens in `key`'s bucket at `now`, without taking any or refreshing its place; undefined = no bucket (full). */
  peek(key: string, now: number, limits: BucketLimits): number | undefined {
    const bucket = this.buckets.get(key);
    return bucket && tokensAt(bucket, now, limits);
  }

  /** Forgets `key`'s bucket: its next request finds a full one. */
  delete(key: string): boolean {
    return this.buckets.delete(key);
  }

  /** Drops up to `limit` of the oldest buckets that are full again (all of them when limit is Infinity). */
  expire(now: number, limit = Infinity): void {
    let checked = 0;
    for (const [key, bucket] of this.buckets) {
      if (checked++ >= limit || now - bucket.last < this.ttlMs) return;
      this.buckets.delete(key);
    }
  }
}
