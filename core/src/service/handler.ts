// Service handlers: the server load balancer (with connect-failure retry and retry policies) and the weighted service.
import type { IncomingMessage } from 'node:http';
import { isReplayableBody, onResponseHeaders, type Middleware, type Next, type RetryPolicy, type WharfContext } from '../context.js';
import { SmoothWeightedBalancer } from './balancer.js';
import { createPicker, HighestRandomWeight, ResponseTimes, type Strategy } from './strategy.js';
import type { PoolLease, PoolSource, ServersTransport } from './pool.js';
import { createSticky, type StickyCookie } from './sticky.js';
import { parseUpstreamUrl } from './pool.js';
import type { ProxyLogger, ProxyTarget } from './proxy.js';
import { isUpgrade } from './headers.js';
import {
  createProxyStep,
  createProxyTarget,
  hasRequestBody,
  HeldBackAnswer,
  isClientGone,
  isReplayable,
  isTimeout,
  respondPlain,
  statusForError,
  type Replay,
} from './proxy.js';

export interface LoadBalancerServer {
  url: string;
  /** Default 1; 0 = never chosen. */
  weight?: number;
  /** Put the path of `url` in front of the request path (Traefik's servers[].preservePath); default false. */
  preservePath?: boolean;
}

export interface LoadBalancerOptions {
  /** Qualified service name, for logs. */
  service: string;
  servers: readonly LoadBalancerServer[];
  /** Forward the client's Host header (default true) rather than the server's. */
  passHostHeader?: boolean;
  pools: PoolSource;
  /** serversTransport the pools are built with. */
  transport?: ServersTransport;
  /** Health verdict per server URL (from a health-check plugin); servers it rejects are skipped. */
  isServerUp?: (url: string) => boolean;
  /** Told about every connection failure, timeout and 5xx answer of a server (passive health checks). */
  onServerFailure?: (url: string, detail: { status?: number; error?: string }) => void;
  log?: ProxyLogger;
  /** loadBalancer.sticky.cookie: pin each client to one server with a cookie. */
  stickyCookie?: StickyCookie;
  /** loadBalancer.strategy: wrr (default), p2c, hrw or leasttime. */
  strategy?: Strategy;
}

/** A service's request handler (callable itself, or via `middleware`), holding its servers' pools. */
export type ServiceHandler = Middleware & {
  readonly middleware: Middleware;
  /** Whether some server is in rotation; a `weighted` service with healthCheck skips children where it is not. */
  hasAvailableServer(): boolean;
  /** Releases the pools; call once the configuration that built this handler is retired. */
  release(): void;
};

interface Member {
  readonly url: string;
  readonly weight: number;
  readonly preservePath: boolean;
  target?: ProxyTarget;
  /** Requests forwarded to it now; counted only for strategies that read it (p2c, leasttime). */
  inflight: number;
  readonly responseTimes: ResponseTimes;
}

const NO_SERVER = 'Service Unavailable: no available server';
const RESOLVED = Promise.resolve();

/**
 * Picks a server by smooth weighted round-robin and proxies to it. When the server cannot be
 * reached before any byte was sent and the request can be replayed, each other available server
 * is tried once (like nginx's proxy_next_upstream error/timeout) before answering 502.
 *
 * With a retry policy on the request (ctx.wharf.retry, from the `retry` or `buffering` middleware),
 * tries follow that policy instead (see RetryPolicy): a request that may be sent again is also retried
 * after the server received it, and on the answers the policy holds back.
 */
export function createLoadBalancerHandler(options: LoadBalancerOptions): ServiceHandler {
  const { service, log, isServerUp, onServerFailure } = options;
  const members: Member[] = options.servers.map((server) => {
    parseUpstreamUrl(server.url);
    return { url: server.url, weight: server.weight ?? 1, preservePath: server.preservePath ?? false, inflight: 0, responseTimes: new ResponseTimes() };
  });
  // Built before any pool is acquired so invalid weights cannot leak leases.
  const picker = createPicker(options.strategy ?? 'wrr', members);
  const leases = acquireTargets(members, options.pools, options.transport);
  const step = createProxyStep({ passHostHeader: options.passHostHeader ?? true, log, service });
  const send = forwarder(step, picker.tracksLoad, picker.tracksTime);
  const available = isServerUp === undefined ? undefined : (member: Member) => isServerUp(member.url);

  /**
   * Next server for a retry: an untried available one; else (with a policy) another than the last one
   * tried, and the last one only when it is the only one in rotation.
   */
  function nextServer(ctx: WharfContext, tried: readonly Member[], anyAfterAll: boolean): Member | undefined {
    const key = ctx.wharf.clientIP;
    const untried = picker.next((m) => !tried.includes(m) && (available === undefined || available(m)), key);
    if (untried !== undefined || !anyAfterAll) return untried;
    const last = tried[tried.length - 1];
    return picker.next((m) => m !== last && (available === undefined || available(m)), key) ?? picker.next(available, key);
  }

  const sticky = options.stickyCookie ? createSticky(service, options.stickyCookie) : undefined;
  const byCookie = sticky ? new Map(members.map((m) => [sticky.valueFor(m.url), m])) : undefined;

  /** The server a sticky cookie names, while it is in rotation; else the balancer's pick. */
  function pick(ctx: WharfContext): Member | undefined {
    if (!sticky) return picker.next(available, ctx.wharf.clientIP);
    const cookie = sticky.read(ctx.req.headers.cookie);
    const pinned = cookie === undefined ? undefined : byCookie!.get(cookie);
    if (pinned && pinned.weight > 0 && (available === undefined || available(pinned))) return pinned;
    const chosen = picker.next(available, ctx.wharf.clientIP);
    if (chosen) {
      // The server that finally answered (after any retry) is the one the client is pinned to.
      onResponseHeaders(ctx, (_status, headers) => sticky.write(headers, sticky.valueFor(ctx.wharf.upstream?.url ?? chosen.url)));
    }
    return chosen;
  }

  /**
   * Not async: a request that reaches its server the first time (nearly all) costs the proxy step's promise and
   * one reaction; the retry loop is entered only once a try failed.
   */
  function handle(ctx: WharfContext): Promise<void> {
    const member = pick(ctx);
    if (member === undefined) {
      respondPlain(ctx, 503, NO_SERVER);
      return RESOLVED;
    }
    const policy = ctx.wharf.retry;
    if (policy !== undefined) return retryByPolicy(ctx, member, policy);
    // A body a middleware read in full can go to another server as well as no body can.
    const body = ctx.wharf.requestBody;
    const replay = body === undefined ? isReplayable(ctx.req) : isReplayableBody(body);
    return send(ctx, member, replay).then((error) => {
      if (error === undefined) {
        reportAnswer(ctx, member);
        return undefined;
      }
      return retry(ctx, member, error, replay);
    });
  }

  /** Passive health: a 5xx answer (or a gateway error in its place) counts against the server. */
  function reportAnswer(ctx: WharfContext, member: Member): void {
    if (onServerFailure === undefined) return;
    const status = ctx.wharf.upstream?.status;
    if (status !== undefined && status >= 500) onServerFailure(member.url, { status });
    else if (status === undefined && ctx.status >= 502) onServerFailure(member.url, { error: `answered ${ctx.status}` });
  }

  /** Without a policy, after a failed first try: each other server once, then 502/504. */
  async function retry(ctx: WharfContext, first: Member, firstError: Error, replay: Replay): Promise<void> {
    let member = first;
    let error: Error | undefined = firstError;
    const tried: Member[] = [];
    for (;;) {
      if (error === undefined) {
        reportAnswer(ctx, member);
        break;
      }
      onServerFailure?.(member.url, { error: error.message });
      tried.push(member);
      const next = nextServer(ctx, tried, false);
      if (next === undefined) {
        step.fail(ctx, member.target!, error);
        return;
      }
      ctx.wharf.retryAttempts++;
      member = next;
      error = await send(ctx, member, replay);
    }
    logRetried(ctx, member, tried, firstError);
  }

  /** With ctx.wharf.retry: up to `attempts` tries, held-back answers and back-off included (see RetryPolicy). */
  async function retryByPolicy(ctx: WharfContext, first: Member, policy: RetryPolicy): Promise<void> {
    const resend = canResend(ctx, policy);
    const networkErrors = policy.networkErrors !== false;
    const retryOn = resend ? policy.retryOn : undefined;
    const replay: Replay = retryOn !== undefined ? 'unstarted' : !networkErrors ? false : resend ? 'unanswered' : true;
    const started = policy.timeoutMs ? performance.now() : 0;
    const tried: Member[] = [];
    let attempt = 1;
    /** Another try may follow this one: attempts left, time left, a server in rotation. */
    const mayRetry = (): boolean =>
      attempt < policy.attempts && (!policy.timeoutMs || performance.now() - started < policy.timeoutMs) && hasAvailableServer();
    const method = ctx.req.method ?? 'GET';
    const holdBack = retryOn === undefined ? undefined : (status: number) => mayRetry() && retryOn(status, attempt, method);
    let member = first;
    let firstError: Error | undefined;
    for (;;) {
      const error = await send(ctx, member, replay, holdBack);
      if (error === undefined) {
        reportAnswer(ctx, member);
        break;
      }
      const held = error instanceof HeldBackAnswer;
      onServerFailure?.(member.url, held ? { status: error.status } : { error: error.message });
      firstError ??= error;
      tried.push(member);
      const retryable = held || (networkErrors && !isTimeout(error)) || retryOn?.(statusForError(error), attempt, method) === true;
      let next: Member | undefined;
      // A held answer was held because another try could follow; the time spent reading it does not undo that.
      if (retryable && (held || mayRetry())) {
        await backOff(policy, attempt);
        // The client may have left while we waited; nobody to answer then.
        if (isClientGone(ctx.req, ctx.res)) return;
        next = nextServer(ctx, tried, true);
      }
      if (next === undefined) {
        step.fail(ctx, member.target!, error);
        return;
      }
      attempt++;
      ctx.wharf.retryAttempts++;
      member = next;
    }
    if (firstError !== undefined) logRetried(ctx, member, tried, firstError);
  }

  function logRetried(ctx: WharfContext, member: Member, tried: readonly Member[], firstError: Error): void {
    log?.warn(
      {
        err: firstError,
        router: ctx.wharf.router,
        service,
        server: member.url,
        failedServers: tried.map((m) => m.url),
        retryAttempts: ctx.wharf.retryAttempts,
      },
      firstError instanceof HeldBackAnswer ? 'upstream answer held back, request retried' : 'upstream connection failed, request retried on another server',
    );
  }

  function hasAvailableServer(): boolean {
    return members.some((m) => m.weight > 0 && (available === undefined || available(m)));
  }

  let released = false;
  function release(): void {
    if (released) return;
    released = true;
    for (const lease of leases) lease.release();
  }

  const middleware: Middleware = (ctx: WharfContext, _next: Next) => handle(ctx);
  return Object.assign(middleware, { middleware, hasAvailableServer, release });
}

type Send = (ctx: WharfContext, member: Member, replay: Replay, holdBack?: (status: number) => boolean) => Promise<Error | undefined>;

/**
 * One try to one server. With wrr nothing but the proxy step; p2c and leasttime also count the requests in flight,
 * and leasttime records the time to the response head (Traefik's time to first byte).
 */
function forwarder(step: ReturnType<typeof createProxyStep>, tracksLoad: boolean, tracksTime: boolean): Send {
  if (!tracksLoad && !tracksTime) return (ctx, member, replay, holdBack) => step.forward(ctx, member.target!, replay, holdBack);
  return (ctx, member, replay, holdBack) => {
    member.inflight++;
    if (tracksTime) {
      const started = performance.now();
      // Only the try that answered: a failed one before it is not this server's answer time.
      onResponseHeaders(ctx, () => {
        if (ctx.wharf.upstream?.url === member.url) member.responseTimes.add(performance.now() - started);
      });
    }
    return step.forward(ctx, member.target!, replay, holdBack).finally(() => member.inflight--);
  };
}

/** Acquires one pool per weighted member; weight-0 servers never receive traffic, so get none. */
function acquireTargets(members: Member[], pools: PoolSource, transport: ServersTransport | undefined): PoolLease[] {
  const leases: PoolLease[] = [];
  for (const member of members) {
    if (member.weight === 0) continue;
    const lease = pools.acquire(member.url, transport);
    leases.push(lease);
    member.target = createProxyTarget(member.url, lease.pool, member.preservePath);
  }
  return leases;
}

const NON_IDEMPOTENT = new Set(['POST', 'PATCH', 'LOCK']);

/**
 * The request may go to a server again after one received it: its method allows it (Traefik counts every
 * method but POST, PATCH and LOCK as idempotent), and it has no body or one held in full, and no protocol switch.
 */
function canResend(ctx: WharfContext, policy: RetryPolicy): boolean {
  const req: IncomingMessage = ctx.req;
  if (!policy.nonIdempotent && NON_IDEMPOTENT.has(req.method ?? 'GET')) return false;
  if (isUpgrade(req)) return false;
  const body = ctx.wharf.requestBody;
  return body === undefined ? !hasRequestBody(req) : isReplayableBody(body);
}

/** Wait before the `retry`-th retry: initialInterval × 2^(retry−1), capped at maxInterval (default 2 × initialInterval). */
export function retryDelayMs(policy: RetryPolicy, retry: number): number {
  const { initialIntervalMs, maxIntervalMs = 2 * initialIntervalMs } = policy;
  return Math.min(initialIntervalMs * 2 ** (retry - 1), maxIntervalMs);
}

function backOff(policy: RetryPolicy, retry: number): Promise<void> {
  const ms = retryDelayMs(policy, retry);
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

export interface WeightedChild {
  /** Qualified name of the child service. */
  name: string;
  /** Default 1; 0 = never chosen. */
  weight?: number;
  /** The child service's handler. */
  handler: Middleware;
}

export interface WeightedHandlerOptions {
  /** Children it rejects (e.g. all their servers down) are skipped; without it every child is picked (Traefik without weighted.healthCheck). */
  isServiceUp?: (name: string) => boolean;
  /** weighted.sticky.cookie: pin each client to one child service with a cookie (needs `service`). */
  stickyCookie?: StickyCookie;
  /** Qualified name of the weighted service: the default cookie name derives from it. */
  service?: string;
}

/** weighted.services: picks a child service per request by smooth weighted round-robin. */
export function createWeightedHandler(children: readonly WeightedChild[], options: WeightedHandlerOptions = {}): Middleware {
  const { isServiceUp } = options;
  const balancer = new SmoothWeightedBalancer(children);
  const available = isServiceUp === undefined ? undefined : (child: WeightedChild) => isServiceUp(child.name);
  const pick = options.stickyCookie ? stickyChildPicker(children, balancer, available, createSticky(options.service ?? '', options.stickyCookie)) : undefined;

  return (ctx: WharfContext, next: Next): Promise<void> => {
    const child = pick === undefined ? balancer.next(available) : pick(ctx);
    if (child === undefined) {
      respondPlain(ctx, 503, NO_SERVER);
      return RESOLVED;
    }
    return child.handler(ctx, next);
  };
}

/**
 * weighted.sticky: the child a cookie names while it has a share and is available; else the balancer's pick, and a
 * cookie naming it on the answer. The child's own sticky cookie (if any) pins the server inside it.
 */
function stickyChildPicker(
  children: readonly WeightedChild[],
  balancer: SmoothWeightedBalancer<WeightedChild>,
  available: ((child: WeightedChild) => boolean) | undefined,
  sticky: ReturnType<typeof createSticky>,
): (ctx: WharfContext) => WeightedChild | undefined {
  const byCookie = new Map(children.map((c) => [sticky.valueFor(c.name), c]));
  return (ctx) => {
    const cookie = sticky.read(ctx.req.headers.cookie);
    const pinned = cookie === undefined ? undefined : byCookie.get(cookie);
    if (pinned && (pinned.weight ?? 1) > 0 && (available === undefined || available(pinned))) return pinned;
    const chosen = balancer.next(available);
    if (chosen) {
      const value = sticky.valueFor(chosen.name);
      onResponseHeaders(ctx, (_status, headers) => sticky.write(headers, value));
    }
    return chosen;
  };
}

/**
 * highestRandomWeight.services: each client address keeps one child service (rendezvous hashing over the child names,
 * weights deciding the share of addresses), while that child is available.
 */
export function createHighestRandomWeightHandler(children: readonly WeightedChild[], options: Pick<WeightedHandlerOptions, 'isServiceUp'> = {}): Middleware {
  const { isServiceUp } = options;
  const picker = new HighestRandomWeight(children.map((child) => ({ url: child.name, weight: child.weight, child })));
  const available = isServiceUp === undefined ? undefined : (item: { url: string }) => isServiceUp(item.url);

  return (ctx: WharfContext, next: Next): Promise<void> => {
    const picked = picker.next(available, ctx.wharf.clientIP);
    if (picked === undefined) {
      respondPlain(ctx, 503, NO_SERVER);
      return RESOLVED;
    }
    return picked.child.handler(ctx, next);
  };
}
