// Service handlers: the server load balancer (with connect-failure retry) and the weighted service.
import type { Middleware, Next, WharfContext } from '../context.js';
import { SmoothWeightedBalancer } from './balancer.js';
import type { PoolLease, PoolSource, ServersTransport } from './pool.js';
import { parseUpstreamUrl } from './pool.js';
import type { ProxyLogger, ProxyTarget } from './proxy.js';
import { createProxyStep, createProxyTarget, isReplayable, respondPlain } from './proxy.js';

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
}

/** A service's request handler (callable itself, or via `middleware`), holding its servers' pools. */
export type ServiceHandler = Middleware & {
  readonly middleware: Middleware;
  /** Releases the pools; call once the configuration that built this handler is retired. */
  release(): void;
};

interface Member {
  readonly url: string;
  readonly weight: number;
  target?: ProxyTarget;
}

const NO_SERVER = 'Service Unavailable: no available server';

/**
 * Picks a server by smooth weighted round-robin and proxies to it. When the server cannot be
 * reached before any byte was sent and the request can be replayed, each other available server
 * is tried once (like nginx's proxy_next_upstream error/timeout) before answering 502.
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

  async function handle(ctx: WharfContext): Promise<void> {
    let member = balancer.next(available);
    if (member === undefined) {
      respondPlain(ctx, 503, NO_SERVER);
      return;
    }
    const replayable = isReplayable(ctx.req);
    let tried: Member[] | undefined;
    let lastError: Error | undefined;
    for (;;) {
      const error = await step.forward(ctx, member.target!, replayable);
      if (error === undefined) {
        const status = ctx.wharf.upstream?.status;
        if (onServerFailure && status !== undefined && status >= 500) onServerFailure(member.url, { status });
        else if (onServerFailure && status === undefined && ctx.status >= 502) onServerFailure(member.url, { error: `answered ${ctx.status}` });
        break;
      }
      onServerFailure?.(member.url, { error: error.message });
      lastError = error;
      (tried ??= []).push(member);
      const untried = tried;
      const next = balancer.next((m) => !untried.includes(m) && (available === undefined || available(m)));
      if (next === undefined) {
        step.fail(ctx, member.target!, error);
        return;
      }
      ctx.wharf.retryAttempts++;
      member = next;
    }
    if (tried !== undefined) {
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
  }

  let released = false;
  function release(): void {
    if (released) return;
    released = true;
    for (const lease of leases) lease.release();
  }

  const middleware: Middleware = (ctx: WharfContext, _next: Next) => handle(ctx);
  return Object.assign(middleware, { middleware, release });
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

export interface WeightedChild {
  /** Qualified name of the child service. */
  name: string;
  /** Default 1; 0 = never chosen. */
  weight?: number;
  /** The child service's handler. */
  handler: Middleware;
}

export interface WeightedHandlerOptions {
  /** Children it rejects (e.g. all their servers down) are skipped. */
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
      return Promise.resolve();
    }
    return child.handler(ctx, next);
  };
}
