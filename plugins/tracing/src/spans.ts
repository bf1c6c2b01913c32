// The request path: the entrypoint's server span (before routing) and, through core's router instrumentation,
// the Router, middleware and Service spans (traceVerbosity detailed) and the ReverseProxy client span, with W3C
// trace context and baggage taken from the client and handed to the upstream.
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  defaultTextMapSetter,
  trace,
  type Context,
  type Span,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';
import { ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';
import { onResponseHeaders, type InstrumentedRouter, type Middleware, type Next, type RouterInstrumentation, type WharfContext } from '@wharf/core';
import { clientRequestAttributes, recordResponse, serverRequestAttributes, type Capture } from './attributes.js';
import type { Verbosity } from './options.js';

export interface Tracing {
  tracer: Tracer;
  propagator: TextMapPropagator;
  capture: Capture;
  addInternals: boolean;
  /** Each entrypoint's observability.{tracing,traceVerbosity}. */
  entryPoints: ReadonlyMap<string, { tracing: boolean; verbosity: Verbosity }>;
}

/** The status the client gets: the one written, else the one Koa will write after the chain. */
function statusOf(ctx: WharfContext): number {
  return ctx.res.headersSent ? ctx.res.statusCode : ctx.status;
}

/**
 * The entrypoint's server span, named after the method as Traefik does. It ends when the chain is over; it is
 * never ended — and so never exported — when the router turned tracing off, or no router took the request and
 * internals are not traced (ctx.wharf.traceContext is then cleared for the access log).
 */
export function entryPointTracing(t: Tracing): Middleware {
  const { tracer, propagator, capture, addInternals } = t;
  const watchHeaders = capture.responseHeaders.length > 0;
  return async function tracingEntryPoint(ctx: WharfContext, next: Next) {
    const parent = propagator.extract(ROOT_CONTEXT, ctx.req.headers, defaultTextMapGetter);
    const span = tracer.startSpan(ctx.req.method ?? 'GET', { kind: SpanKind.SERVER }, parent);
    const recording = span.isRecording();
    // A proxied answer's headers go out with writeHead, which Node does not keep: look at them on the way.
    let proxied: Record<string, unknown> | undefined;
    if (recording) {
      span.setAttributes(serverRequestAttributes(ctx, capture));
      span.setAttribute('entry_point', ctx.wharf.entrypoint);
      if (watchHeaders) onResponseHeaders(ctx, (_status, headers) => void (proxied = headers));
    }
    const own = trace.setSpan(parent, span);
    ctx.wharf.traceContext = own;
    let thrown = false;
    try {
      await next();
    } catch (err) {
      thrown = true;
      if (recording) failed(span, err);
      throw err;
    } finally {
      const wanted = ctx.wharf.traceContext !== undefined && (addInternals || ctx.wharf.router !== undefined);
      if (!wanted) ctx.wharf.traceContext = undefined;
      else {
        ctx.wharf.traceContext = own;
        if (recording) {
          if (!thrown) recordResponse(span, statusOf(ctx), (name) => proxied?.[name] ?? ctx.res.getHeader(name), 'server', capture);
          span.end();
        }
      }
    }
  };
}

/** An exception escaping the chain: Koa answers it with its status (500 by default). */
function failed(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  const status = (err as { status?: number }).status ?? 500;
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  span.setStatus({ code: status >= 500 ? SpanStatusCode.ERROR : SpanStatusCode.UNSET, message: error.message });
}

/** Runs `handler` inside a child span of the current one; skips the span when the request is not recorded. */
function inChildSpan(tracer: Tracer, name: string, kind: SpanKind, attributes: Record<string, string>, handler: Middleware, after?: (ctx: WharfContext, span: Span) => void): Middleware {
  return async function traced(ctx: WharfContext, next: Next) {
    const parent = ctx.wharf.traceContext as Context | undefined;
    if (parent === undefined || !trace.getSpan(parent)?.isRecording()) return handler(ctx, next);
    const span = tracer.startSpan(name, { kind, attributes }, parent);
    ctx.wharf.traceContext = trace.setSpan(parent, span);
    try {
      await handler(ctx, next);
      after?.(ctx, span);
    } catch (err) {
      failed(span, err);
      throw err;
    } finally {
      span.end();
      ctx.wharf.traceContext = parent;
    }
  };
}

/** A middleware that answered itself (rateLimit's 429, basicAuth's 401) marks its span failed, with an event. */
function rejection(name: string, spanName: string) {
  return (ctx: WharfContext, span: Span) => {
    if (ctx.wharf.rejectedBy !== name) return;
    const status = statusOf(ctx);
    span.addEvent('rejected', { [ATTR_HTTP_RESPONSE_STATUS_CODE]: status, 'traefik.middleware.name': name });
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${spanName} answered ${status}` });
  };
}

/** Traefik's ReverseProxy span: the call to the upstream, with the trace context injected into its headers. */
function upstreamCall(t: Tracing, service: string, handler: Middleware): Middleware {
  const { tracer, propagator, capture } = t;
  return async function tracedUpstream(ctx: WharfContext, next: Next) {
    const parent = ctx.wharf.traceContext as Context | undefined;
    if (parent === undefined) return handler(ctx, next);
    if (!trace.getSpan(parent)?.isRecording()) {
      // Not sampled: the upstream still learns the trace and the decision.
      propagator.inject(parent, ctx.req.headers, defaultTextMapSetter);
      return handler(ctx, next);
    }
    const span = tracer.startSpan('ReverseProxy', { kind: SpanKind.CLIENT, attributes: { 'traefik.service.name': service } }, parent);
    propagator.inject(trace.setSpan(parent, span), ctx.req.headers, defaultTextMapSetter);
    let upstreamHeaders: Record<string, unknown> | undefined;
    if (capture.responseHeaders.length > 0) onResponseHeaders(ctx, (_status, headers) => void (upstreamHeaders = headers));
    let thrown = false;
    try {
      await handler(ctx, next);
    } catch (err) {
      thrown = true;
      failed(span, err);
      throw err;
    } finally {
      const upstream = ctx.wharf.upstream;
      if (upstream) span.setAttributes(clientRequestAttributes(ctx, upstream.url, capture));
      if (!thrown) recordResponse(span, upstream?.status ?? ctx.wharf.serviceAnswer?.status ?? statusOf(ctx), (name) => upstreamHeaders?.[name], 'client', capture);
      span.end();
    }
  };
}

/** Traefik's span names for its middlewares (their Go type names, pkg/middlewares), by plugin name in lower case. */
const TRAEFIK_SPAN_NAMES: ReadonlyMap<string, string> = new Map([
  ['addprefix', 'AddPrefix'],
  ['basicauth', 'BasicAuth'],
  ['digestauth', 'digestAuth'],
  ['forwardauth', 'ForwardAuth'],
  ['buffering', 'Buffer'],
  ['circuitbreaker', 'CircuitBreaker'],
  ['compress', 'Compress'],
  ['errors', 'CustomError'],
  ['headers', 'Headers'],
  ['inflightreq', 'InFlightReq'],
  ['ipallowlist', 'IPAllowLister'],
  ['ipwhitelist', 'IPWhiteLister'],
  ['passtlsclientcert', 'PassClientTLSCert'],
  ['ratelimit', 'RateLimiter'],
  ['redirectregex', 'Redirect'],
  ['redirectscheme', 'Redirect'],
  ['replacepath', 'ReplacePath'],
  ['replacepathregex', 'ReplacePathRegex'],
  ['stripprefix', 'StripPrefix'],
  ['stripprefixregex', 'StripPrefixRegex'],
]);

/** A middleware span's name: Traefik's for its middlewares, the plugin's own name for the others. */
export function middlewareSpanName(type: string): string {
  return TRAEFIK_SPAN_NAMES.get(type.toLowerCase()) ?? type;
}

/** Whether a router on its entrypoint is traced, and how finely (the router's settings, else the entrypoint's). */
function routerSettings(t: Tracing, router: InstrumentedRouter): { traced: boolean; detailed: boolean } {
  const ep = t.entryPoints.get(router.entrypoint) ?? { tracing: true, verbosity: 'minimal' as const };
  const internal = router.service.endsWith('@internal');
  const traced = ep.tracing && (router.observability?.tracing ?? true) && (t.addInternals || !internal);
  return { traced, detailed: traced && (router.observability?.traceVerbosity ?? ep.verbosity) === 'detailed' };
}

/** The spans inside a router's chain, wrapped in when each configuration generation is built. */
export function routerInstrumentation(t: Tracing): RouterInstrumentation {
  const { tracer } = t;
  return {
    router(router, chain) {
      const { traced, detailed } = routerSettings(t, router);
      // On an entrypoint without tracing no span was opened: nothing to drop.
      if (!traced && t.entryPoints.get(router.entrypoint)?.tracing === false) return chain;
      if (!traced) {
        return function untraced(ctx: WharfContext, next: Next) {
          ctx.wharf.traceContext = undefined;
          return chain(ctx, next);
        };
      }
      if (!detailed) return chain;
      return inChildSpan(tracer, 'Router', SpanKind.INTERNAL, { 'traefik.service.name': router.service, 'traefik.router.name': router.name, [ATTR_HTTP_ROUTE]: router.rule }, chain);
    },
    middleware(middleware, router, handler) {
      if (!routerSettings(t, router).detailed) return handler;
      const name = middlewareSpanName(middleware.type);
      return inChildSpan(tracer, name, SpanKind.INTERNAL, { 'traefik.middleware.name': middleware.name }, handler, rejection(middleware.name, name));
    },
    service(service, router, handler) {
      const { traced, detailed } = routerSettings(t, router);
      if (!traced || service.internal) return handler;
      const call = upstreamCall(t, service.name, handler);
      return detailed ? inChildSpan(tracer, 'Service', SpanKind.INTERNAL, { 'traefik.service.name': service.name }, call) : call;
    },
  };
}

