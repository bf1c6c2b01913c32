// circuitBreaker: stop sending requests to a service that is failing — Traefik's CircuitBreaker (oxy's cbreaker).
// It watches what happens after it in the chain (status as sent to the client, latency); when `expression` holds,
// the circuit opens and every request gets `responseCode` for fallbackDuration, then traffic is let back in over
// recoveryDuration. One breaker per router, as in Traefik; under --workers one for all workers (shared.ts).
import { STATUS_CODES } from 'node:http';
import { performance } from 'node:perf_hooks';
import { definePlugin, onResponseHeaders, type Next, type PluginContext, type WharfContext } from '@wharf/core';
import { BreakerRegistry, Gate, type BreakerSettings, type BreakerView } from './breaker.js';
import { parseExpression } from './expression.js';
import { schema, type CircuitBreakerConfig } from './schema.js';
import { isWorker, RemoteBreaker, setPrimaryLog, transitionLog } from './shared.js';

export { schema, type CircuitBreakerConfig } from './schema.js';
export { parseExpression, ExpressionError, type Metrics } from './expression.js';
export { RoundTripMetrics } from './metrics.js';
export { BreakerAuthority, Gate, stateAt, type BreakerView, type BreakerState } from './breaker.js';

/** oxy's defaults, used where Traefik passes 0 (unset). */
const DEFAULTS = { checkPeriod: 100, fallbackDuration: 10_000, recoveryDuration: 10_000 };

/** Traefik's StatusClientClosedRequest: what its proxy records when the client left before any answer. */
const CLIENT_CLOSED = 499;

/** One router's breaker as a request sees it. */
interface Breaker {
  readonly gate: Gate;
  view(): BreakerView;
  record(status: number, latencyUs: number): void;
}

function settingsOf(options: CircuitBreakerConfig): BreakerSettings {
  return {
    expression: options.expression,
    checkPeriod: options.checkPeriod || DEFAULTS.checkPeriod,
    fallbackDuration: options.fallbackDuration || DEFAULTS.fallbackDuration,
    recoveryDuration: options.recoveryDuration || DEFAULTS.recoveryDuration,
  };
}

/** Single process: one registry per gateway (its SharedState), so two embedded gateways never share breakers. */
const localRegistries = new WeakMap<object, BreakerRegistry>();

function localBreaker(key: string, router: string, settings: BreakerSettings, context: PluginContext): Breaker {
  let registry = localRegistries.get(context.shared);
  if (!registry) localRegistries.set(context.shared, (registry = new BreakerRegistry()));
  const authority = registry.get(key, settings, transitionLog(() => context.log, { router }));
  return {
    gate: new Gate(settings.recoveryDuration),
    view: () => authority.view,
    record(status, latencyUs) {
      authority.record(status, latencyUs);
      authority.check();
    },
  };
}

function workerBreaker(key: string, router: string, settings: BreakerSettings, context: PluginContext): Breaker {
  const remote = new RemoteBreaker(key, { middleware: context.name, router, settings }, context);
  return { gate: new Gate(settings.recoveryDuration), view: () => remote.view, record: (status, us) => remote.record(status, us) };
}

/**
 * The status of the answer made after the breaker: a Koa-style answer (ctx.body), else what the proxy answered or
 * relayed, seen by a response header hook (it also sees Wharf's own 502/504, and is right even when a middleware
 * before the breaker holds the response back); none at all means the client left first.
 */
function outcomeStatus(ctx: WharfContext, proxied: number | undefined): number {
  if (ctx.respond !== false) return ctx.status;
  return proxied ?? CLIENT_CLOSED;
}

/** The status Koa's error funnel will answer for an error thrown after the breaker. */
function errorStatus(err: unknown): number {
  const status = (err as { status?: unknown; statusCode?: unknown } | null)?.status ?? (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

export default definePlugin({
  name: 'circuitBreaker',
  description: 'Open the circuit (answer responseCode) while an expression over network errors, status ratios or latency holds; recover progressively.',
  schema,
  validate(options) {
    parseExpression(options.expression);
  },
  primary(_config, host) {
    setPrimaryLog(host.log);
  },
  create(options, context) {
    const settings = settingsOf(options);
    const settingsKey = JSON.stringify(settings);
    const make = isWorker() ? workerBreaker : localBreaker;
    const breakers = new Map<string, Breaker>();
    const code = options.responseCode;
    // Traefik writes the reason phrase with no Content-Type (its entrypoints turn Go's sniffing off).
    const body = STATUS_CODES[code] ?? '';
    const breakerFor = (router: string): Breaker => {
      let breaker = breakers.get(router);
      if (!breaker) breakers.set(router, (breaker = make(`${context.name}\n${router}\n${settingsKey}`, router, settings, context)));
      return breaker;
    };

    return async function circuitBreaker(ctx: WharfContext, next: Next): Promise<void> {
      const breaker = breakerFor(ctx.wharf.router ?? '');
      if (!breaker.gate.allow(breaker.view(), Date.now())) {
        ctx.wharf.rejectedBy = context.name;
        ctx.status = code;
        ctx.body = body;
        ctx.remove('Content-Type');
        return;
      }
      const start = performance.now();
      let proxied: number | undefined;
      onResponseHeaders(ctx, (sent) => void (proxied = sent));
      let status = 500;
      try {
        await next();
        status = outcomeStatus(ctx, proxied);
      } catch (err) {
        status = errorStatus(err);
        throw err;
      } finally {
        breaker.record(status, Math.round((performance.now() - start) * 1000));
      }
    };
  },
});
