// Service handlers: the server load balancer (with connect-failure retry and retry policies) and the weighted service.
import type { Middleware, Next, WharfContext, WharfState } from '../context.js';
import { SmoothWeightedBalancer } from './balancer.js';
import type { PoolLease, PoolSource, ServersTransport } from './pool.js';
import { createSticky, type StickyCookie } from './sticky.js';
import { onResponseHeaders } from '../context.js';
import { parseUpstreamUrl } from './pool.js';
import type { ProxyLogger, ProxyTarget } from './proxy.js';
import { createProxyStep, createProxyTarget, isClientGone, isReplayable, isResendable, respondPlain, type Replay } from './proxy.js';

export interface LoadBalancerServer {
  url: string;
  /** Default 1; 0 = never chosen. */
  weight?: number;
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
  target?: ProxyTarget;
}

const NO_SERVER = 'Service Unavailable: no available server';
const RESOLVED = Promise.resolve();

/**
 * Picks a server by smooth weighted round-robin and proxies to it. When the server cannot be
 * reached before any byte was sent and the request can be replayed, each other available server
 * is tried once (like nginx's proxy_next_upstream error/timeout) before answering 502.
 *
 * With a retry policy on the request (ctx.wharf.retry, from the `retry` middleware), up to
 * `attempts` tries are made with exponential back-off, preferring servers not tried yet: after a
 * connection failure before anything was sent (any request: its body has not started streaming),
 * and for idempotent requests without a body also after a connection the server closed before
 * answering.
 */
export function createLoadBalancerHandler(options: LoadBalancerOptions): ServiceHandler {
  const { service, log, isServerUp, onServerFailure } = options;
  const members: Member[] = options.servers.map((server) => {
    parseUpstreamUrl(server.url);
    return { url: server.url, weight: server.weight ?? 1 };
  });
  // Built before any pool is acquired so invalid weights cannot leak leases.
  const balancer = new SmoothWeightedBalancer(members);
  const leases = acquireTargets(members, options.pools, options.transport);
  const step = createProxyStep({ passHostHeader: options.passHostHeader ?? true, log, service });
  const available = isServerUp === undefined ? undefined : (member: Member) => isServerUp(member.url);

  /** Next server for a retry: an untried available one, else (with a policy) any available one. */
  function nextServer(tried: readonly Member[], anyAfterAll: boolean): Member | undefined {
    const untried = balancer.next((m) => !tried.includes(m) && (available === undefined || available(m)));
    return untried ?? (anyAfterAll ? balancer.next(available) : undefined);
  }

  const sticky = options.stickyCookie ? createSticky(service, options.stickyCookie) : undefined;
  const byCookie = sticky ? new Map(members.map((m) => [sticky.valueFor(m.url), m])) : undefined;

  /** The server a sticky cookie names, while it is in rotation; else the balancer's pick. */
  function pick(ctx: WharfContext): Member | undefined {
    if (!sticky) return balancer.next(available);
    const cookie = sticky.read(ctx.req.headers.cookie);
    const pinned = cookie === undefined ? undefined : byCookie!.get(cookie);
    if (pinned && pinned.weight > 0 && (available === undefined || available(pinned))) return pinned;
    const chosen = balancer.next(available);
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
    const replay: Replay = policy === undefined ? isReplayable(ctx.req) : isResendable(ctx.req) ? 'unanswered' : true;
    return step.forward(ctx, member.target!, replay).then((error) => {
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

  /** After a failed first try: other servers (or the retry policy's attempts), then 502/504. */
  async function retry(ctx: WharfContext, first: Member, firstError: Error, replay: Replay): Promise<void> {
    const policy = ctx.wharf.retry;
    let member = first;
    let error: Error | undefined = firstError;
    const tried: Member[] = [];
    let lastError: Error = firstError;
    for (let attempt = 1; ; attempt++) {
      if (error === undefined) {
        reportAnswer(ctx, member);
        break;
      }
      onServerFailure?.(member.url, { error: error.message });
      lastError = error;
      tried.push(member);
      let next: Member | undefined;
      if (policy === undefined) {
        next = nextServer(tried, false);
      } else if (attempt < policy.attempts) {
        await backOff(policy, attempt);
        // The client may have left while we waited; nobody to answer then.
        if (isClientGone(ctx.req, ctx.res)) return;
        next = nextServer(tried, true);
      }
      if (next === undefined) {
        step.fail(ctx, member.target!, error);
        return;
      }
      ctx.wharf.retryAttempts++;
      member = next;
      error = await step.forward(ctx, member.target!, replay);
    }
    log?.warn(
      {
        err: lastError,
        router: ctx.wharf.router,
        service,
        server: member.url,
        failedServers: tried.map((m) => m.url),
        retryAttempts: ctx.wharf.retryAttempts,
      },
      'upstream connection failed, request retried on another server',
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

/** Acquires one pool per weighted member; weight-0 servers never receive traffic, so get none. */
function acquireTargets(members: Member[], pools: PoolSource, transport: ServersTransport | undefined): PoolLease[] {
  const leases: PoolLease[] = [];
  for (const member of members) {
    if (member.weight === 0) continue;
    const lease = pools.acquire(member.url, transport);
    leases.push(lease);
    member.target = createProxyTarget(member.url, lease.pool);
  }
  return leases;
}

/** Wait before the `retry`-th retry: initialInterval × 2^(retry−1), capped at maxInterval (default 2 × initialInterval). */
export function retryDelayMs(policy: NonNullable<WharfState['retry']>, retry: number): number {
  const { initialIntervalMs, maxIntervalMs = 2 * initialIntervalMs } = policy;
  return Math.min(initialIntervalMs * 2 ** (retry - 1), maxIntervalMs);
}

function backOff(policy: NonNullable<WharfState['retry']>, retry: number): Promise<void> {
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
}

/** weighted.services: picks a child service per request by smooth weighted round-robin. */
export function createWeightedHandler(children: readonly WeightedChild[], options: WeightedHandlerOptions = {}): Middleware {
  const { isServiceUp } = options;
  const balancer = new SmoothWeightedBalancer(children);
  const available = isServiceUp === undefined ? undefined : (child: WeightedChild) => isServiceUp(child.name);

  return (ctx: WharfContext, next: Next): Promise<void> => {
    const child = balancer.next(available);
    if (child === undefined) {
      respondPlain(ctx, 503, NO_SERVER);
      return RESOLVED;
    }
    return child.handler(ctx, next);
  };
}
