// failover services: the main service while it has a server in rotation, the fallback while it has none
// (Traefik's pkg/server/service/loadbalancer/failover, health from the health-check verdicts).
import type { Middleware, Next, WharfContext } from '../context.js';
import { respondPlain } from './proxy.js';

export interface FailoverOptions {
  main: Middleware;
  fallback: Middleware;
  /** Whether the main service has a server in rotation, asked per request. */
  isMainUp: () => boolean;
  /** Whether the fallback has one; only with failover.healthCheck (else the fallback is always tried, as Traefik). */
  isFallbackUp?: () => boolean;
}

const RESOLVED = Promise.resolve();

/** Switches per request: no timer, no state; a recovered main service gets the next request. */
export function createFailoverHandler(options: FailoverOptions): Middleware {
  const { main, fallback, isMainUp, isFallbackUp } = options;
  return function failover(ctx: WharfContext, next: Next): Promise<void> {
    if (isMainUp()) return main(ctx, next);
    if (isFallbackUp === undefined || isFallbackUp()) return fallback(ctx, next);
    respondPlain(ctx, 503, 'Service Unavailable');
    return RESOLVED;
  };
}
