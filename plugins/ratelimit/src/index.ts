// rateLimit: Traefik's token-bucket rate limiter, shared across --workers (cluster primary) and replicas (Redis).
import cluster from 'node:cluster';
import { setTimeout as sleep } from 'node:timers/promises';
import { definePlugin, type Next, type PluginContext, type WharfContext } from '@wharf/core';
import { checkRedisConnection } from '@wharf/redis';
import { RateLimiterRes, type RateLimiterCompatibleAbstract } from 'rate-limiter-flexible';
import {
  addHeadersAfterChain,
  addHeadersToResponse,
  headerPolicy,
  rateLimitHeaders,
  storeUnavailable,
  tooManyRequests,
  type HeaderPolicy,
} from './answer.js';
import type { BucketLimits } from './bucket.js';
import { bucketRes, type BucketLimiter, BucketRes, StoreUnavailableError } from './limiter.js';
import { MemoryBucketLimiter, retainTable, SharedBucketLimiter } from './memory.js';
import { redisLimiter } from './redis.js';
import { schema, type RateLimitConfig } from './schema.js';
import { checkSourceCriterion, sourceOf } from './source.js';

export { schema, type RateLimitConfig } from './schema.js';

/** average/period as a rate, burst at least 1, and Traefik's default maxDelay: half a token's time, at most 500 ms. */
export function limitsOf(options: RateLimitConfig): BucketLimits {
  const periodMs = options.period > 0 ? options.period : 1000;
  const ratePerMs = options.average / periodMs;
  const maxDelayMs = options.maxDelay ?? Math.min(1 / (2 * ratePerMs), 500);
  return { ratePerMs, burst: Math.max(1, options.burst), maxDelayMs };
}

/** What the middleware needs of a limiter: the library's consume (a BucketLimiter, or Redis in RLWrapperTimeouts). */
type Limiter = Pick<RateLimiterCompatibleAbstract, 'consume'>;

/** Redis (with the memory bucket as insurance for allow) when configured; else memory. */
function limiterFor(options: RateLimitConfig, limits: BucketLimits, context: PluginContext): Limiter {
  const prefix = `wharf:rl:${context.name}:`;
  // In memory means per Wharf, not per process: under --workers the cluster primary keeps the table.
  const memory = (name: string): BucketLimiter =>
    cluster.isWorker
      ? new SharedBucketLimiter(prefix, limits, context.shared, name, options.maxKeys)
      : new MemoryBucketLimiter(prefix, limits, retainTable(context, name, limits, options.maxKeys));
  if (!options.redis) return memory(context.name);
  return redisLimiter({
    config: options.redis,
    prefix,
    limits,
    insurance: options.onStoreError === 'allow' ? memory(`${context.name} insurance`) : undefined,
    log: context.log,
    signal: context.signal,
  });
}

export default definePlugin({
  name: 'rateLimit',
  description: 'Limit requests per client (IP, header or host) with a token bucket shared by workers and, through Redis, by replicas.',
  schema,
  validate(options) {
    checkSourceCriterion(options);
    if (options.redis) checkRedisConnection(options.redis);
  },
  create(options, context) {
    if (options.average === 0) {
      return async function rateLimit(_ctx: WharfContext, next: Next) {
        await next();
      };
    }
    const strategy = options.sourceCriterion?.ipStrategy;
    if (strategy?.depth && strategy.excludedIPs?.length) {
      context.log.warn('sourceCriterion.ipStrategy: depth is set, so excludedIPs is ignored (as in Traefik)');
    }
    const limits = limitsOf(options);
    const source = sourceOf(options);
    const byRouter = options.scope === 'router';
    const limiter = limiterFor(options, limits, context);
    const policy = options.headers ? headerPolicy(context.name, limits) : undefined;
    const admit = (ctx: WharfContext, next: Next, granted: BucketRes) => admitted(ctx, next, granted, policy);
    const reject = (ctx: WharfContext, err: unknown) => {
      // Named on the request so metrics count it per middleware (wharf_middleware_rejections_total).
      ctx.wharf.rejectedBy = context.name;
      return answerRejection(ctx, err, policy);
    };

    async function throughLimiter(ctx: WharfContext, next: Next, key: string): Promise<void> {
      let granted: BucketRes;
      try {
        granted = asBucketRes(await limiter.consume(key));
      } catch (err) {
        return reject(ctx, err);
      }
      return admit(ctx, next, granted);
    }

    // A bucket in this process answers synchronously: the common case (a token is there, no headers to add)
    // then costs one table lookup and no promise; everything else goes through the same answers as consume's.
    const local = limiter instanceof MemoryBucketLimiter ? limiter : undefined;
    return function rateLimit(ctx: WharfContext, next: Next): Promise<void> {
      const key = byRouter ? `${ctx.wharf.router ?? ''}|${source(ctx)}` : source(ctx);
      if (local === undefined) return throughLimiter(ctx, next, key);
      const take = local.takeNow(key);
      if (take.allowed && take.waitMs === 0 && policy === undefined) return next();
      const res = bucketRes(take, limits);
      if (take.allowed) return admit(ctx, next, res);
      reject(ctx, res);
      return Promise.resolve();
    };
  },
});

/** A granted request: held for its token if it is not there yet, then served (with the RateLimit fields when configured). */
async function admitted(ctx: WharfContext, next: Next, granted: BucketRes, policy: HeaderPolicy | undefined): Promise<void> {
  if (granted.delayMs > 0) await sleep(granted.delayMs);
  if (!policy) return next();
  return withHeaders(ctx, next, policy, granted);
}

/** The library's rejections: a RateLimiterRes is a refusal (429), StoreUnavailableError is deny's 503; anything else is a bug. */
function answerRejection(ctx: WharfContext, err: unknown, policy: HeaderPolicy | undefined): void {
  if (err instanceof StoreUnavailableError) return storeUnavailable(ctx);
  if (!(err instanceof RateLimiterRes)) throw err;
  const refused = asBucketRes(err);
  tooManyRequests(ctx, refused.msBeforeNext);
  if (policy) addHeadersAfterChain(ctx, rateLimitHeaders(policy, refused, Date.now(), refused.msBeforeNext));
}

/** Every limiter here (the insurance one too) answers BucketRes; the exact level is what the headers need. */
function asBucketRes(res: RateLimiterRes): BucketRes {
  if (res instanceof BucketRes) return res;
  throw new TypeError(`rateLimit: a limiter answered ${String(res)} without the token bucket's level`);
}

/** Runs the rest of the chain with the RateLimit fields on whatever answers: the upstream or a later middleware. */
async function withHeaders(ctx: WharfContext, next: Next, policy: HeaderPolicy, granted: BucketRes): Promise<void> {
  const fields = rateLimitHeaders(policy, granted, Date.now());
  addHeadersToResponse(ctx, fields);
  await next();
  addHeadersAfterChain(ctx, fields);
}
