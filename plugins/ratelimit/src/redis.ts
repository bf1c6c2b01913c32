// Redis limiter: one atomic Lua take per request on Redis' clock, shared ioredis clients, RLWrapperTimeouts with insurance or 503.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { RateLimiterRes, RLWrapperTimeouts, type RateLimiterCompatibleAbstract } from 'rate-limiter-flexible';
import type { Logger } from '@wharf/core';
import { idleTtlMs, tokensAt, type BucketLimits, type Take } from './bucket.js';
import { BucketLimiter, StoreUnavailableError } from './limiter.js';
import type { RedisConfig } from './schema.js';

declare module 'rate-limiter-flexible' {
  // RateLimiterInsuredAbstract's hook (in the JS, not in the library's types): consume() runs it, then sends
  // any rejection that is not a RateLimiterRes to the insurance limiter.
  interface RLWrapperTimeouts {
    _consume(key: string | number, points: number, options: object): Promise<RateLimiterRes>;
    readonly timeoutMs: number;
    readonly insuranceLimiter: RateLimiterCompatibleAbstract | undefined;
  }
}

/**
 * bucket.ts's takeToken in Lua, in microseconds on Redis' own clock (TIME) so replicas with skewed clocks
 * agree. Redis ≥ 5 replicates a script by its effects, which is what allows TIME before a write.
 * ARGV: rate (tokens/µs), burst, maxDelay (µs), idle TTL (ms), tokens to take. Returns {allowed, wait µs,
 * tokens}; the numbers travel as strings because Redis truncates Lua numbers in replies to integers.
 */
export const TAKE_TOKEN_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local max_delay = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'last')
local tokens = tonumber(state[1])
local last = tonumber(state[2])
if tokens == nil or last == nil then
  tokens = burst
  last = now
end
if now > last then
  tokens = math.min(burst, tokens + (now - last) * rate)
  last = now
end
local after = tokens - tonumber(ARGV[5])
local wait = 0
local allowed = 1
if after >= 0 then
  tokens = after
else
  wait = -after / rate
  if wait > max_delay then allowed = 0 else tokens = after end
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'last', string.format('%.17g', last))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {allowed, string.format('%.17g', wait), string.format('%.17g', tokens)}
`;

/** The stored bucket and Redis' clock, read in one step for `get`; the refill is computed by bucket.ts. */
export const PEEK_TOKENS_LUA = `
return {redis.call('TIME'), redis.call('HMGET', KEYS[1], 'tokens', 'last')}
`;

const COMMAND = 'wharfTakeToken';
const PEEK = 'wharfPeekTokens';
// Redis must be usable again within a second of coming back: re-dial at most this far apart.
const MAX_RECONNECT_DELAY_MS = 500;
// After a failed command, decide without Redis for this long instead of making every request wait for a timeout.
const BACKOFF_AFTER_FAILURE_MS = 250;
// setTimeout's largest delay: RLWrapperTimeouts needs a bound, and zero timeouts mean none (as ioredis reads them).
const MAX_TIMER_MS = 2 ** 31 - 1;

type Client = (Redis | Cluster) & {
  [COMMAND](key: string, rate: string, burst: string, maxDelay: string, ttl: string, points: string): Promise<[number, string, string]>;
  [PEEK](key: string): Promise<[[string, string], [string | null, string | null]]>;
};

export interface SharedClient {
  readonly client: Client;
  readonly description: string;
  refs: number;
  lastError?: string;
}

/** One client per distinct Redis setting in this process, shared by every middleware and generation using it. */
const clients = new Map<string, SharedClient>();

/** The client for these settings, held until `signal` aborts (closed when nobody holds it any more). */
export function retainClient(config: RedisConfig, signal: AbortSignal): SharedClient {
  const options = clientOptions(config);
  const id = createHash('sha256').update(JSON.stringify(options)).digest('hex');
  let shared = clients.get(id);
  if (!shared) {
    shared = connect(options);
    clients.set(id, shared);
  }
  const held = shared;
  held.refs++;
  signal.addEventListener('abort', () => {
    if (--held.refs > 0) return;
    clients.delete(id);
    held.client.disconnect();
  }, { once: true });
  return held;
}

interface ClientOptions {
  nodes: { host: string; port: number }[];
  redis: RedisOptions;
}

/** Schema options → ioredis options: bounded timeouts, no offline queue, no retries, quick re-dial. */
function clientOptions(config: RedisConfig): ClientOptions {
  const nodes = config.endpoints.map(parseEndpoint);
  const redis: RedisOptions = {
    username: config.username,
    password: config.password,
    db: config.db,
    connectTimeout: config.dialTimeout,
    // ioredis has no separate write deadline: one command must be written and answered within both.
    // 0 means no bound: ioredis would otherwise fail every command (and drop every socket) at once.
    commandTimeout: config.writeTimeout + config.readTimeout || undefined,
    socketTimeout: config.readTimeout || undefined,
    // A decision must never wait for a reconnect nor be replayed after one (that would take a token twice).
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectionName: 'wharf-ratelimit',
    // Decisions taken in the same event-loop turn go out in one write: far fewer syscalls under load.
    enableAutoPipelining: true,
  };
  if (config.tls) {
    redis.tls = {
      ca: pem(config.tls.ca, 'redis.tls.ca'),
      cert: pem(config.tls.cert, 'redis.tls.cert'),
      key: pem(config.tls.key, 'redis.tls.key'),
      rejectUnauthorized: config.tls.insecureSkipVerify !== true,
    };
  }
  return { nodes, redis };
}

function connect({ nodes, redis }: ClientOptions): SharedClient {
  const retry = (times: number) => Math.min(50 * 2 ** Math.min(times, 10), MAX_RECONNECT_DELAY_MS);
  const scripts = { [COMMAND]: { lua: TAKE_TOKEN_LUA, numberOfKeys: 1 }, [PEEK]: { lua: PEEK_TOKENS_LUA, numberOfKeys: 1 } };
  const description = nodes.map((n) => `${n.host}:${n.port}`).join(',');
  let client: Redis | Cluster;
  if (nodes.length === 1) {
    client = new Redis({ ...redis, ...nodes[0], retryStrategy: retry, scripts });
  } else {
    const { enableOfflineQueue: _queue, ...perNode } = redis;
    const options: ClusterOptions = { enableOfflineQueue: false, clusterRetryStrategy: retry, redisOptions: perNode, scripts };
    client = new Cluster(nodes, options);
  }
  const shared: SharedClient = { client: client as Client, description, refs: 0 };
  // Without a listener ioredis prints every connection error; the middleware reports outages itself.
  client.on('error', (err: Error) => (shared.lastError = err.message));
  client.on('ready', () => (shared.lastError = undefined));
  return shared;
}

/** `host:port`, `host` (port 6379) or `[::1]:6379`. */
export function parseEndpoint(endpoint: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(endpoint.trim());
  const port = m?.[3] === undefined ? 6379 : Number(m[3]);
  if (!m || port < 1 || port > 65535) throw new Error(`redis.endpoints: '${endpoint}' is not host:port`);
  return { host: (m[1] ?? m[2])!, port };
}

/** A PEM given inline, or the path of a file holding it (read once, at configuration time). */
function pem(value: string | undefined, field: string): string | undefined {
  if (value === undefined || value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (err) {
    throw new Error(`${field}: cannot read '${value}': ${(err as Error).message}`, { cause: err });
  }
}

/** Cross-field checks for `validate`. */
export function checkRedis(config: RedisConfig): void {
  for (const endpoint of config.endpoints) parseEndpoint(endpoint);
  if (config.endpoints.length === 0) throw new Error('redis.endpoints: give at least one host:port');
  if (config.endpoints.length > 1 && config.db !== 0) throw new Error('redis.db: a Redis Cluster (several endpoints) only has database 0');
  if (config.tls && (config.tls.cert === undefined) !== (config.tls.key === undefined)) {
    throw new Error('redis.tls: cert and key go together');
  }
}

export interface RedisLimiterOptions {
  config: RedisConfig;
  /** `wharf:rl:<middleware>:` */
  prefix: string;
  limits: BucketLimits;
  /** Decides while Redis cannot (onStoreError: allow); undefined = answer 503 (deny). */
  insurance: BucketLimiter | undefined;
  log: Logger;
  signal: AbortSignal;
}

/**
 * The Redis bucket wrapped in the library's RLWrapperTimeouts: each call bounded by writeTimeout + readTimeout,
 * failures decided by the insurance limiter (allow) or rejected as StoreUnavailableError (deny: 503).
 */
export function redisLimiter(options: RedisLimiterOptions): InsuredRedisLimiter {
  const { config, prefix, limits, insurance, log } = options;
  return new InsuredRedisLimiter({
    limiter: new RedisBucketLimiter(prefix, limits, retainClient(config, options.signal)),
    // The same bound as ioredis' commandTimeout: that one drops the command, this one answers the request.
    timeoutMs: config.writeTimeout + config.readTimeout || MAX_TIMER_MS,
    insuranceLimiter: insurance,
    log,
  });
}

/** Buckets in Redis: bucket.ts's arithmetic in Lua (TAKE_TOKEN_LUA), one hash per key, on Redis' clock. */
export class RedisBucketLimiter extends BucketLimiter {
  private readonly args: readonly [string, string, string, string];

  constructor(keyPrefix: string, limits: BucketLimits, private readonly shared: SharedClient) {
    super(keyPrefix, limits);
    this.args = [String(limits.ratePerMs / 1000), String(limits.burst), String(limits.maxDelayMs * 1000), String(idleTtlMs(limits))];
  }

  /** `host:port[,host:port…]`, for the outage log. */
  get endpoints(): string {
    return this.shared.description;
  }

  protected async take(key: string, points: number): Promise<Take> {
    const [allowed, wait, tokens] = await this.connected()[COMMAND](this.keyPrefix + key, ...this.args, String(points));
    return { allowed: allowed === 1, waitMs: Number(wait) / 1000, tokens: Number(tokens) };
  }

  protected async peek(key: string): Promise<number | undefined> {
    const [[seconds, micros], [tokens, last]] = await this.connected()[PEEK](this.keyPrefix + key);
    if (tokens === null || last === null) return undefined;
    // The Lua script keeps µs; bucket.ts counts ms.
    const now = (Number(seconds) * 1e6 + Number(micros)) / 1000;
    return tokensAt({ tokens: Number(tokens), last: Number(last) / 1000 }, now, this.limits);
  }

  protected async forget(key: string): Promise<boolean> {
    return (await this.connected().del(this.keyPrefix + key)) > 0;
  }

  /** The client if it is ready; otherwise fail now with the connection's last error, rather than ioredis' generic refusal. */
  private connected(): Client {
    const { client, lastError } = this.shared;
    if (client.status !== 'ready') throw new StoreUnavailableError(lastError ?? `not connected: ${client.status}`);
    return client;
  }
}

export interface InsuredRedisOptions {
  limiter: RedisBucketLimiter;
  /** RLWrapperTimeouts' bound on each call. */
  timeoutMs: number;
  /** onStoreError: allow's memory bucket; undefined = deny. */
  insuranceLimiter: BucketLimiter | undefined;
  log: Logger;
}

/**
 * RLWrapperTimeouts, watched at the one place that sees both Redis' answers and its failures: between the
 * timeout and the library's insurance fallback. There it logs outages, skips a Redis that just failed for
 * BACKOFF_AFTER_FAILURE_MS, and turns failures into StoreUnavailableError (what deny answers 503 to).
 */
export class InsuredRedisLimiter extends RLWrapperTimeouts {
  private skipUntil = 0;
  private skipReason = '';
  private readonly outage: OutageTracker;

  constructor({ limiter, timeoutMs, insuranceLimiter, log }: InsuredRedisOptions) {
    super({ limiter, timeoutMs, insuranceLimiter, keyPrefix: limiter.keyPrefix });
    const fallback = insuranceLimiter ? 'limited per replica by the insurance bucket' : 'answered 503';
    this.outage = outageTracker(log, limiter.endpoints, fallback);
  }

  override async _consume(key: string | number, points: number, options: object): Promise<RateLimiterRes> {
    if (performance.now() < this.skipUntil) throw this.failed(new StoreUnavailableError(this.skipReason));
    try {
      const res = await super._consume(key, points, options);
      this.outage.ended();
      return res;
    } catch (err) {
      // A refusal is Redis answering: the outage (if any) is over, and the library passes the refusal on.
      if (err instanceof RateLimiterRes) {
        this.outage.ended();
        throw err;
      }
      // A command that failed or timed out (not a connection known to be down): the next ones would likely wait too.
      if (!(err instanceof StoreUnavailableError)) this.backOff(messageOf(err));
      throw this.failed(err);
    }
  }

  private backOff(reason: string): void {
    this.skipUntil = performance.now() + BACKOFF_AFTER_FAILURE_MS;
    this.skipReason = reason;
  }

  /** Counts a decision made without Redis; the error the insurance limiter (or, without one, the 503) gets. */
  private failed(err: unknown): StoreUnavailableError {
    this.outage.failed(messageOf(err));
    return err instanceof StoreUnavailableError ? err : new StoreUnavailableError(messageOf(err), { cause: err });
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

type OutageTracker = ReturnType<typeof outageTracker>;

/** Logs the start of an outage once, and its end once with its duration and how many decisions it took over. */
function outageTracker(log: Logger, endpoints: string, fallback: string) {
  let since: number | undefined;
  let decisions = 0;
  return {
    failed(reason: string) {
      decisions++;
      if (since !== undefined) return;
      since = performance.now();
      decisions = 1;
      log.warn({ redis: endpoints }, `rate limit store redis ${endpoints} unavailable (${reason}); requests are ${fallback} until it is back`);
    },
    ended() {
      if (since === undefined) return;
      const seconds = ((performance.now() - since) / 1000).toFixed(1);
      log.warn({ redis: endpoints, outageSeconds: Number(seconds), decisions }, `rate limit store redis ${endpoints} is back after an outage of ${seconds}s; ${decisions} requests were ${fallback} meanwhile`);
      since = undefined;
    },
  };
}
