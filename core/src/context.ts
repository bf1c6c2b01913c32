// Per-request state shared by the entrypoint, router dispatch, plugins and the proxy step.
import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { ParameterizedContext } from 'koa';
import type { RouterObservability } from './plugin/contract.js';
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
  observability?: RouterObservability;
  /**
   * The OpenTelemetry `Context` (of `@opentelemetry/api`) of the request's current span, kept by a tracing plugin
   * while the request is traced; undefined otherwise. Read it with `trace.getSpanContext(ctx.wharf.traceContext)`.
   */
  traceContext?: unknown;
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
   * Retry policy for the load balancer, set by the `retry` middleware (or `buffering`'s retryExpression).
   * Without it the load balancer tries each other server once, only for connection failures before
   * anything was sent. See RetryPolicy.
   */
  retry?: RetryPolicy;
  /**
   * The request body to send upstream in place of `ctx.req`, set with `replaceRequestBody` by a middleware that
   * read it (buffering, retry, forwardAuth's forwardBody). A Buffer or a ReplayableBody goes out with its
   * Content-Length and can be sent again on a retry; a Readable (one pass) is sent once. Undefined: the proxy
   * streams `ctx.req` itself.
   */
  requestBody?: Buffer | Readable | ReplayableBody;
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

/**
 * What the load balancer does when a try fails, read once per request from ctx.wharf.retry: up to
 * `attempts` tries in all (first one included), each to a server not tried yet while there is one
 * (never the same server twice in a row when another is in rotation), waiting initialIntervalMs × 2^(n−1)
 * (at most maxIntervalMs, default 2 × initialIntervalMs) before the n-th retry.
 *
 * A try that failed before the request left the gateway is retried unless `networkErrors` is false. A try
 * whose request was sent (the server closed the connection without answering) or that `retryOn` matched
 * (the answer is held back, its body discarded, and never reaches the client) is retried only when the
 * request can be sent again: its method is idempotent (or `nonIdempotent`), and it has no body or its
 * body was read in full (ctx.wharf.requestBody). Once `timeoutMs` has passed since the first try, the
 * next answer or failure is the client's.
 */
export interface RetryPolicy {
  attempts: number;
  initialIntervalMs: number;
  maxIntervalMs?: number;
  /** Retry connection failures (refused, reset, closed before answering); default true (Traefik's !disableRetryOnNetworkError). */
  networkErrors?: boolean;
  /**
   * Answers to hold back and retry: the upstream's status, or 502/504 for a try that failed (as the client
   * would see it); `attempt` is the number of tries made so far (1 after the first). Traefik's `status`.
   */
  retryOn?: (status: number, attempt: number, method: string) => boolean;
  /** Also send POST, PATCH and LOCK again once a server received them (Traefik's retryNonIdempotentMethod). */
  nonIdempotent?: boolean;
  /** No retry starts once this long has passed since the first try; 0 or absent = no limit (Traefik's timeout). */
  timeoutMs?: number;
}

/** A request body held by the gateway (in memory or in a file), replayable for each try, however large. */
export interface ReplayableBody {
  /** Its size in bytes, sent as Content-Length. */
  readonly length: number;
  /** The whole body from its first byte, for one try: the same Buffer each time, or a new stream per call. */
  open(): Buffer | Readable;
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
 * Hands the proxy the request body to send upstream, for a middleware that consumed `ctx.req` (read it whole):
 * a Buffer of the bytes read or a ReplayableBody (both sent with their Content-Length, and again on a retry), or
 * a one-pass stream of them (sent once, with the client's framing).
 */
export function replaceRequestBody(ctx: WharfContext, body: Buffer | Readable | ReplayableBody): void {
  ctx.wharf.requestBody = body;
}

/** The body ctx.wharf.requestBody holds can be sent again: a Buffer or a ReplayableBody, not a one-pass stream. */
export function isReplayableBody(body: WharfState['requestBody']): body is Buffer | ReplayableBody {
  return body !== undefined && (Buffer.isBuffer(body) || typeof (body as Partial<ReplayableBody>).open === 'function');
}
