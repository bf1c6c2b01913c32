// What the access log records about one request while it runs: arrival, body bytes each way, headers, final status.
import { IncomingMessage, ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { isSpanContextValid, trace, type Context, type SpanContext } from '@opentelemetry/api';
import { hasRequestBody, onResponseHeaders, type WharfContext } from '@wharf/core';
import { wireText } from './values.js';

/** One request as the access log sees it; lives on the response (see EXCHANGE) until its line is written. */
export interface Exchange {
  readonly ctx: WharfContext;
  /** The connection: req.socket is gone by the time a finished request is logged. */
  readonly socket: Socket;
  /** Wall-clock milliseconds at arrival (StartUTC / StartLocal). */
  readonly startMs: number;
  /** Request-target as the client sent it: routing and stripPrefix may rewrite req.url later. */
  readonly target: string;
  /** Request body bytes read from the client (counted only when RequestContentSize is written). */
  bytesIn: number;
  /** Response body bytes written to the client (counted only when DownstreamContentSize is written). */
  bytesOut: number;
  /** The request went past every entrypoint middleware, i.e. routing ran. */
  routed: boolean;
  /** Upstream response headers before any plugin changed them (only when origin_ headers may be written). */
  originHeaders?: OutgoingHttpHeaders;
  /** The header object the proxy or an error answer wrote with writeHead (Node does not keep it). */
  writtenHeaders?: OutgoingHttpHeaders;
  /** The entrypoint span a tracing plugin opened before this line began (TraceId, SpanId). */
  trace: SpanContext | undefined;
  /** Filled by settle() once the response is over. */
  status: number;
  durationNs: number;
}

/** What to capture beyond the basics; decided once from the fields configuration. */
export interface CapturePlan {
  countRequestBody: boolean;
  countResponseBody: boolean;
  /** Watch the response headers: origin_ needs a copy before plugins change them, downstream_ the final object. */
  originHeaders: boolean;
  downstreamHeaders: boolean;
  /** fields.queryParameters applied to the logged target; undefined when every parameter is kept. */
  query?: (target: string) => string;
}

export const EXCHANGE = Symbol('wharf.accessLog.exchange');
export type TrackedResponse = ServerResponse & { [EXCHANGE]?: Exchange };

// Traefik's code for a client that went away before the answer (nginx's convention).
const CLIENT_CLOSED_REQUEST = 499;

/** Starts recording a request; call before the rest of the chain runs. */
export function begin(ctx: WharfContext, plan: CapturePlan): Exchange {
  const x: Exchange = {
    ctx,
    socket: ctx.req.socket,
    startMs: Date.now(),
    target: loggedTarget(ctx.req.url, plan),
    bytesIn: 0,
    bytesOut: 0,
    routed: false,
    trace: activeTrace(ctx),
    status: 0,
    durationNs: 0,
  };
  (ctx.res as TrackedResponse)[EXCHANGE] = x;
  if (plan.countRequestBody && hasRequestBody(ctx.req)) countRequestBody(ctx.req, x);
  if (plan.countResponseBody) countResponseBody(ctx.res, x);
  if (plan.originHeaders || plan.downstreamHeaders) watchHeaders(ctx, x, plan.originHeaders);
  return x;
}

/** The span a tracing plugin (running before the access log, as in Traefik) opened for this request. */
function activeTrace(ctx: WharfContext): SpanContext | undefined {
  const current = ctx.wharf.traceContext as Context | undefined;
  if (current === undefined) return undefined;
  const span = trace.getSpanContext(current);
  return span !== undefined && isSpanContextValid(span) ? span : undefined;
}

/** The trace ids to log: none when the tracing plugin dropped the request's trace since (a router without tracing). */
export function loggedTrace(x: Exchange): SpanContext | undefined {
  return x.ctx.wharf.traceContext === undefined ? undefined : x.trace;
}

/** Fixes the final status and duration when the response is over (finish, or the client left). */
export function settle(x: Exchange): void {
  const { res, wharf } = x.ctx;
  x.durationNs = Number(process.hrtime.bigint() - wharf.startTime);
  const upstream = wharf.upstream;
  if (upstream?.status === 101) {
    // A tunnel: the 101 went straight to the socket and the body bytes are the upstream's.
    x.status = 101;
    x.bytesOut = upstream.bytes;
  } else {
    x.status = res.headersSent ? res.statusCode : CLIENT_CLOSED_REQUEST;
  }
}

/** The target as the log shows it: path, query (after fields.queryParameters) and fragment, as UTF-8 text. */
function loggedTarget(url: string | undefined, plan: CapturePlan): string {
  const target = wireText(requestTarget(url));
  return plan.query ? plan.query(target) : target;
}

/** Traefik logs path, query and fragment only; absolute-form targets (proxy requests) are reduced to that. */
function requestTarget(url: string | undefined): string {
  if (url === undefined || url === '') return '/';
  if (url.charCodeAt(0) === 0x2f /* '/' */ || url === '*') return url;
  try {
    const parsed = new URL(url);
    return parsed.pathname + parsed.search + parsed.hash;
  } catch {
    return url;
  }
}

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return (chunk as Uint8Array | null | undefined)?.byteLength ?? 0;
}

type TrackedRequest = IncomingMessage & { [EXCHANGE]?: Exchange };

const nodePush = IncomingMessage.prototype.push;

/** Shared by every request, like the response counters below (no closure per request). */
function countedPush(this: TrackedRequest, chunk: unknown, encoding?: BufferEncoding): boolean {
  const x = this[EXCHANGE];
  if (x !== undefined) x.bytesIn += byteLength(chunk, encoding);
  return nodePush.call(this, chunk, encoding);
}

/**
 * Node's parser hands every body chunk to push(), whoever reads the stream and even when nobody does;
 * counting there leaves the stream's flow alone (a 'data' listener would start it before the proxy reads).
 */
function countRequestBody(req: IncomingMessage, x: Exchange): void {
  const push = req.push;
  if (push === nodePush) {
    (req as TrackedRequest)[EXCHANGE] = x;
    req.push = countedPush;
    return;
  }
  req.push = function countedWrapperPush(this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding): boolean {
    x.bytesIn += byteLength(chunk, encoding);
    return push.call(this, chunk, encoding);
  };
}

// Node's own write/end, which the shared counters below call.
const nodeWrite = ServerResponse.prototype.write;
const nodeEnd = ServerResponse.prototype.end;

/*
 * One pair of counters for every response, finding the exchange on the response itself: a pair of
 * closures per request measured ~8 µs of CPU more per request (mostly garbage collection: the closures
 * kept a megabyte or so of each young generation alive into the old one). `arguments` goes straight to
 * apply, so Node sees the caller's exact arguments.
 */
/* eslint-disable prefer-rest-params -- `arguments` is passed to apply untouched: no array per write (see above) */
function countedWrite(this: TrackedResponse, chunk: unknown): boolean {
  const x = this[EXCHANGE];
  if (x !== undefined) x.bytesOut += byteLength(chunk, arguments[1]);
  return (nodeWrite as (...args: unknown[]) => boolean).apply(this, arguments as unknown as unknown[]);
}

function countedEnd(this: TrackedResponse, chunk?: unknown): ServerResponse {
  const x = this[EXCHANGE];
  if (x !== undefined && typeof chunk !== 'function') x.bytesOut += byteLength(chunk, arguments[1]);
  return (nodeEnd as (...args: unknown[]) => ServerResponse).apply(this, arguments as unknown as unknown[]);
}

/** Counts body bytes on the response's own write/end: the proxy, Koa and plugins all write through them. */
function countResponseBody(res: ServerResponse, x: Exchange): void {
  const write = res.write;
  const end = res.end;
  if (write === nodeWrite && end === nodeEnd) {
    res.write = countedWrite as ServerResponse['write'];
    res.end = countedEnd as ServerResponse['end'];
    return;
  }
  // Someone wrapped them already: wrap their wrappers.
  res.write = function countedWrapperWrite(this: ServerResponse, chunk: unknown): boolean {
    x.bytesOut += byteLength(chunk, arguments[1]);
    return (write as (...args: unknown[]) => boolean).apply(this, arguments as unknown as unknown[]);
  } as ServerResponse['write'];
  res.end = function countedWrapperEnd(this: ServerResponse, chunk?: unknown): ServerResponse {
    if (typeof chunk !== 'function') x.bytesOut += byteLength(chunk, arguments[1]);
    return (end as (...args: unknown[]) => ServerResponse).apply(this, arguments as unknown as unknown[]);
  } as ServerResponse['end'];
}
/* eslint-enable prefer-rest-params */

/**
 * The header hook runs first (this middleware registers it before any router plugin), so it sees the
 * upstream's headers untouched; later hooks change the same object, which writeHead then sends.
 */
function watchHeaders(ctx: WharfContext, x: Exchange, origin: boolean): void {
  onResponseHeaders(ctx, function accessLogHeaders(_status, headers) {
    if (origin && ctx.wharf.upstream?.status !== undefined) x.originHeaders = { ...headers };
    x.writtenHeaders = headers;
  });
}

/** Headers the client received: those set on the response plus those passed to writeHead. */
export function downstreamHeaders(x: Exchange): OutgoingHttpHeaders {
  const own = x.ctx.res.getHeaders();
  return x.writtenHeaders ? { ...x.writtenHeaders, ...own } : own;
}
