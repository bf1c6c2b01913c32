// rate-limiter-flexible's limiter protocol for Wharf's token buckets: a RateLimiterCompatibleAbstract base and RateLimiterRes answers.
import { RateLimiterCompatibleAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { msUntilFull, type BucketLimits, type Take } from './bucket.js';

/**
 * A token-bucket answer in the library's shape, so RLWrapperTimeouts and its insurance fallback can pass it
 * on. Granted (resolved): msBeforeNext = ms until the bucket is full again, what the library's
 * msBeforeNext is for a granted window (the X-RateLimit-Reset time); delayMs = how long to hold the request
 * for its token (0 when it was there). Refused (rejected): msBeforeNext = ms until the tokens would exist
 * (Retry-After). remainingPoints = whole tokens left; consumedPoints = tokens in use (burst − tokens).
 */
export class BucketRes extends RateLimiterRes {
  constructor(
    /** The exact level: fractional while refilling, negative while held requests wait for theirs. */
    readonly tokens: number,
    readonly delayMs: number,
    msBeforeNext: number,
    burst: number,
  ) {
    super(Math.max(0, Math.floor(tokens)), msBeforeNext, burst - tokens);
  }
}

/** One take from bucket.ts's arithmetic (any store) as the library's answer. */
export function bucketRes(take: Take, limits: BucketLimits): BucketRes {
  if (!take.allowed) return new BucketRes(take.tokens, 0, take.waitMs, limits.burst);
  return new BucketRes(take.tokens, take.waitMs, msUntilFull(take.tokens, limits), limits.burst);
}

/**
 * A store that could not decide (not connected, failed, too slow). It is not a RateLimiterRes, so the
 * library hands the request to the insurance limiter; without one (onStoreError: deny) the answer is 503.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/**
 * A token-bucket store as a rate-limiter-flexible limiter. `consume` resolves a BucketRes when the tokens
 * are granted (delayMs > 0: held for them) and rejects with one when they are refused, which is the
 * protocol RLWrapperTimeouts and insuranceLimiter rely on. Subclasses say where the buckets live.
 */
export abstract class BucketLimiter extends RateLimiterCompatibleAbstract {
  constructor(
    override readonly keyPrefix: string,
    readonly limits: BucketLimits,
  ) {
    super();
    // The library's base class declares these as accessors that throw; a bucket has fixed answers.
    fixedOff(this, 'blockDuration', 0);
    fixedOff(this, 'execEvenly', false);
  }

  /** Refill, then take `points` now or within maxDelay (bucket.ts's takeToken, wherever the bucket lives). */
  protected abstract take(key: string, points: number): Take | Promise<Take>;
  /** Tokens in the bucket now, taking none; undefined = no bucket (a full one). */
  protected abstract peek(key: string): number | undefined | Promise<number | undefined>;
  /** Forgets the bucket; true if there was one. */
  protected abstract forget(key: string): boolean | Promise<boolean>;

  override async consume(key: string | number, points = 1): Promise<BucketRes> {
    checkPoints(points);
    // More than burst can never be granted (Go's ReserveN says the same): refused for good, nothing taken.
    if (points > this.limits.burst) throw new BucketRes((await this.peek(String(key))) ?? this.limits.burst, 0, Infinity, this.limits.burst);
    const take = await this.take(String(key), points);
    const res = bucketRes(take, this.limits);
    // The library's protocol: a refusal is a rejection with the RateLimiterRes, not an error.
    if (!take.allowed) throw res;
    return res;
  }

  /** The bucket now, as a granted answer would describe it; null when there is none (the library's contract). */
  override async get(key: string | number): Promise<BucketRes | null> {
    const tokens = await this.peek(String(key));
    return tokens === undefined ? null : new BucketRes(tokens, 0, msUntilFull(tokens, this.limits), this.limits.burst);
  }

  override async delete(key: string | number): Promise<boolean> {
    return this.forget(String(key));
  }

  // Async, so a misuse rejects: RLWrapperTimeouts awaits these inside a promise executor, where a synchronous
  // throw would be lost and look like a timeout.
  override async penalty(_key: string | number, ..._args: unknown[]): Promise<RateLimiterRes> {
    throw notSupported('penalty');
  }

  override async reward(_key: string | number, ..._args: unknown[]): Promise<RateLimiterRes> {
    throw notSupported('reward');
  }

  override async set(_key: string | number, ..._args: unknown[]): Promise<RateLimiterRes> {
    throw notSupported('set');
  }

  override async block(_key: string | number, ..._args: unknown[]): Promise<RateLimiterRes> {
    throw notSupported('block');
  }
}

function checkPoints(points: number): void {
  if (!(points > 0 && Number.isFinite(points))) throw new RangeError(`rateLimit: points must be a positive number, got ${points}`);
}

function notSupported(method: string): Error {
  return new Error(`rateLimit token bucket: ${method}() is not supported; a bucket only takes (consume), reads (get) and forgets (delete) tokens`);
}

/**
 * blockDuration / execEvenly: RLWrapperTimeouts copies its own (0 / false) onto its insurance limiter. A
 * bucket neither blocks keys nor spreads requests, so turning either on is refused rather than ignored.
 */
function fixedOff(limiter: object, name: 'blockDuration' | 'execEvenly', value: 0 | false): void {
  Object.defineProperty(limiter, name, {
    get: () => value,
    set: (wanted: unknown) => {
      if (wanted) throw new Error(`rateLimit token bucket: ${name} is not supported (got ${String(wanted)})`);
    },
  });
}
