// Per-request state shared by the entrypoint, router dispatch, plugins and the proxy step.
import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { ParameterizedContext } from 'koa';
import type { ResponseWriter } from './response-writer.js';
import type { RequestTarget } from './router/request-facts.js';

/** What Wharf knows about one request; `ctx.wharf` on every Koa context the gateway creates. */
export interface WharfState {
  /** Entrypoint name the request arrived on. */
  entrypoint: string;
  /** process.hrtime.bigint() when the request line was handed to Wharf. */
  startTime: bigint;
  /** TCP peer address, IPv4-mapped IPv6 unwrapped (`::ffff:1.2.3.4` → `1.2.3.4`). */
  clientIP: string;
  /** Whether forwarded headers from this peer are trusted (forwardedHeaders.trustedIPs / insecure). */
  trustForwarded: boolean;
  /** Qualified router name (`api@file`) once routing picked one. */
  router?: string;
  /** Qualified service name once the router resolved one. */
  service?: string;
  /** The matched router's `observability` settings (accessLogs/metrics default true when absent). */
  observability?: { accessLogs?: boolean; metrics?: boolean; tracing?: boolean };
  /** Filled by the proxy step: what the upstream did. */
  upstream?: UpstreamInfo;
  /**
   * Set when the service step answered itself — 502/504 after the upstream failed, 503 with no server to try —:
   * the status and body size it wrote (Traefik's OriginStatus and OriginContentSize for such requests).
   */
  serviceAnswer?: { status: number; bytes: number };
  /**
   * Qualified name of the middleware that answered the request itself instead of forwarding it
   * (rate limit 429, auth 401, …), for metrics and the access log.
   */
  rejectedBy?: string;
  /** Number of retries the proxy (or the retry plugin) made. */
  retryAttempts: number;
  /**
   * Retry policy for the load balancer, set by the `retry` middleware: up to `attempts` tries in all
   * (first one included) across servers, waiting initialIntervalMs × 2^(n−1) (at most maxIntervalMs,
   * default 2 × initialIntervalMs) before the n-th retry. Without it the load balancer tries each
   * other server once, only for connection failures before anything was sent.
   */
  retry?: { attempts: number; initialIntervalMs: number; maxIntervalMs?: number };
  /** For `Upgrade` requests: the bytes Node read past the request head (from the 'upgrade' event). */
  upgradeHead?: Buffer;
  /**
   * Called in order with the upstream's status and headers just before they are written to the client,
   * so plugins can add, replace or remove response headers on a streamed response.
   */
  responseHeaderHooks?: ResponseHeaderHook[];
  /**
   * X-Forwarded-* (and X-Real-Ip) values a middleware set itself, lower-cased name → value ('' = send none): the
   * proxy step writes them over its own, as Traefik's proxy keeps what its middlewares set (headers'
   * customRequestHeaders). Undefined on most requests.
   */
  forwardedOverrides?: Record<string, string>;
  /** Set by `wrapResponse`: where the final response is written; absent = straight to `ctx.res`. */
  writer?: ResponseWriter;
  /** The request target as the entrypoint split it (routing reuses it while req.url is unchanged); internal. */
  target?: RequestTarget;
  /**
   * The request body to send upstream in place of `ctx.req`, set with `replaceRequestBody` by a middleware that
   * had to read the body (forwardAuth's forwardBody). Undefined: the proxy streams `ctx.req` itself.
   */
  requestBody?: Buffer | Readable;
}

export interface UpstreamInfo {
  /** Server URL chosen by the load balancer. */
  url: string;
  /** Upstream status code, once headers arrived. */
  status?: number;
  /** Response body bytes received from upstream. */
  bytes: number;
  /** Nanoseconds from sending the request to the end of the upstream response. */
  durationNs?: bigint;
}

export type ResponseHeaderHook = (status: number, headers: OutgoingHttpHeaders) => void;

declare module 'koa' {
  interface DefaultContext {
    wharf: WharfState;
  }
}

export type WharfContext = ParameterizedContext;
export type Next = () => Promise<void>;
/** The per-request function every plugin returns: a Koa middleware. */
export type Middleware = (ctx: WharfContext, next: Next) => Promise<void>;

/** Registers a response header hook on the request (see WharfState.responseHeaderHooks). */
export function onResponseHeaders(ctx: WharfContext, hook: ResponseHeaderHook): void {
  (ctx.wharf.responseHeaderHooks ??= []).push(hook);
}

/**
 * Hands the proxy the request body to send upstream, for a middleware that consumed `ctx.req` (read it whole to
 * inspect it): a Buffer of the bytes read, or a stream of them. Framing headers stay as the client sent them
 * (Content-Length, or chunked when the client chunked), so the body must be the same bytes.
 */
export function replaceRequestBody(ctx: WharfContext, body: Buffer | Readable): void {
  ctx.wharf.requestBody = body;
}
