// Streaming reverse-proxy step: forwards one Koa request to one upstream server through its undici pool.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import { util, type Dispatcher } from 'undici';
import { isReplayableBody, type ReplayableBody, type UpstreamInfo, type WharfContext } from '../context.js';
import type { ResponseWriter } from '../response-writer.js';
import { hasToken, isUpgrade, prepareRequestHeaders, stripResponseHopByHop, type UpstreamRequestHeaders } from './headers.js';
import { forwardOverH2, type H2Forwarding } from './h2-proxy.js';
import type { H2Upstream } from './h2-upstream.js';
import { brokeReusedConnection, h2UpstreamOf, parseUpstreamUrl, upstreamHostname } from './pool.js';

/** pino-compatible logger; the proxy only reports upstream failures. */
export interface ProxyLogger {
  warn(obj: object, msg: string): void;
}

/** One upstream server as the proxy uses it; built once per configuration generation. */
export interface ProxyTarget {
  /** Server URL as configured (for logs and ctx.wharf.upstream). */
  readonly url: string;
  /** Keep-alive pool for the server's origin. */
  readonly pool: Dispatcher;
  /** Constant per server so undici never reconnects because the Host header changed (see pool.ts). */
  readonly servername: string;
  /** With preservePath: the server URL's path (escaped), put in front of every request path. */
  readonly pathPrefix?: string;
  /** h2c:// and https:// servers (unless disableHTTP2): requests other than upgrades go over HTTP/2 (h2-proxy.ts). */
  readonly h2?: H2Upstream;
}

export interface ProxyStepOptions {
  /** Forward the client's Host (default) rather than the server's. */
  passHostHeader?: boolean;
  log?: ProxyLogger;
  /** Qualified service name for logs; defaults to ctx.wharf.service. */
  service?: string;
}

/**
 * Which failures `forward` hands back to the caller instead of answering them: `true` = failing to
 * reach the server before any request byte was sent; `'unanswered'` = also a connection the server
 * closed (or reset) after the request was sent but before any response byte reached the client;
 * `'unstarted'` = any failure before the response started, timeouts included.
 */
export type Replay = boolean | 'unanswered' | 'unstarted';

/** What `forward` hands back for an answer its `holdBack` kept from the client (body read and dropped). */
export class HeldBackAnswer extends Error {
  constructor(readonly status: number) {
    super(`answered ${status}, held back for a retry`);
  }
}

/** Forwards requests; see createProxyStep. */
export interface ProxyStep {
  /**
   * Forwards ctx to target and resolves once the exchange is over (response relayed, error
   * answered or client gone), ctx.wharf.upstream filled. Failures that `replay` covers are not
   * answered: it resolves to the error so the caller can try another server or call fail(). An answer
   * whose status `holdBack` accepts is not relayed either: it resolves to a HeldBackAnswer.
   */
  forward(ctx: WharfContext, target: ProxyTarget, replay?: Replay, holdBack?: (status: number) => boolean): Promise<Error | undefined>;
  /** Answers 502/504 (or cuts the connection if the response already started) and logs once. */
  fail(ctx: WharfContext, target: ProxyTarget, error: Error): void;
}

// undici accepts a per-request servername but does not declare it.
type DispatchOptions = Dispatcher.DispatchOptions & { servername?: string };

export function createProxyTarget(url: string, pool: Dispatcher, preservePath = false): ProxyTarget {
  const parsed = parseUpstreamUrl(url);
  const h2 = h2UpstreamOf(pool);
  const target: ProxyTarget = h2 === undefined ? { url, pool, servername: upstreamHostname(parsed) } : { url, pool, servername: upstreamHostname(parsed), h2 };
  return preservePath && parsed.pathname !== '/' ? { ...target, pathPrefix: parsed.pathname } : target;
}

/** Go's JoinURLPath on escaped paths, as Traefik's preservePath joins them: exactly one slash between the two. */
function joinServerPath(prefix: string, path: string): string {
  const endsWithSlash = prefix.endsWith('/');
  const startsWithSlash = path.startsWith('/');
  if (endsWithSlash && startsWithSlash) return prefix + path.slice(1);
  if (!endsWithSlash && !startsWithSlash) return `${prefix}/${path}`;
  return prefix + path;
}

/**
 * Uses undici's dispatch() with a handler that writes straight into the Node response: no
 * intermediate stream, backpressure by pausing the upstream parser, and every error arrives in
 * one callback (none can escape as an unhandled 'error' event).
 */
export function createProxyStep(options: ProxyStepOptions = {}): ProxyStep {
  const passHostHeader = options.passHostHeader ?? true;
  const log = options.log;

  function fail(ctx: WharfContext, target: ProxyTarget, error: Error): void {
    const status = statusForError(error);
    const out = ctx.wharf.writer;
    if (out !== undefined && out.headersSent) {
      out.abort(error);
    } else if (ctx.res.headersSent) {
      // The status line is gone: cutting the connection is the only way to signal a truncated response.
      socketOf(ctx.req, ctx.res)?.destroy();
    } else {
      respondPlain(ctx, status, status === 504 ? 'Gateway Timeout' : 'Bad Gateway');
    }
    log?.warn(
      {
        err: error,
        router: ctx.wharf.router,
        service: options.service ?? ctx.wharf.service,
        server: target.url,
        status,
        retryAttempts: ctx.wharf.retryAttempts,
      },
      'upstream request failed',
    );
  }

  function forward(ctx: WharfContext, target: ProxyTarget, replay: Replay = false, holdBack?: (status: number) => boolean): Promise<Error | undefined> {
    ctx.respond = false;
    const req = ctx.req;
    const upstream: UpstreamInfo = { url: target.url, bytes: 0 };
    ctx.wharf.upstream = upstream;
    if (isClientGone(req, ctx.res)) return Promise.resolve(undefined);
    // A second forward of the same request (a retry, an error page) after undici destroyed the first body finds
    // req.socket nulled by that destroy; the connection is still the response's, and headers read it (TLS or not).
    if (req.socket === null) req.socket = socketOf(req, ctx.res)!;
    const requested = originForm(req.url);
    const path = requested === undefined || target.pathPrefix === undefined ? requested : joinServerPath(target.pathPrefix, requested);
    if (path === undefined) {
      respondPlain(ctx, 400, 'Bad Request');
      return Promise.resolve(undefined);
    }
    const upgrade = isUpgrade(req) ? req.headers.upgrade : undefined;
    const headers = prepareRequestHeaders(req, ctx.wharf, passHostHeader);
    const replacement = ctx.wharf.requestBody;
    const dispatchOptions: DispatchOptions = {
      path,
      method: req.method ?? 'GET',
      headers,
      // A middleware that read the body whole hands it back through ctx.wharf.requestBody (replaceRequestBody).
      body: upgrade !== undefined ? null : replacement !== undefined ? replacementBody(replacement, headers) : hasRequestBody(req) ? req : null,
      upgrade: upgrade ?? null,
      servername: target.servername,
    };
    if (target.h2 !== undefined && upgrade === undefined && target.h2.speaksH2 !== false) {
      return forwardH2(ctx, target, target.h2, dispatchOptions, upstream, replay, holdBack);
    }
    return dispatchHttp1(ctx, target, dispatchOptions, upstream, replay, holdBack);
  }

  function dispatchHttp1(
    ctx: WharfContext,
    target: ProxyTarget,
    dispatchOptions: DispatchOptions,
    upstream: UpstreamInfo,
    replay: Replay,
    holdBack: ((status: number) => boolean) | undefined,
  ): Promise<Error | undefined> {
    return new Promise((resolve) => {
      dispatchExchange(target, dispatchOptions, new Exchange(ctx, target, fail, upstream, replay, holdBack, resolve, dispatchOptions));
    });
  }

  const h2Deps: H2Forwarding = {
    fail,
    heldBack: (status) => new HeldBackAnswer(status),
    canCarryTrailers: (ctx, status, headers) => canCarryTrailers(ctx.req, status, headers),
    runResponseHooks,
  };

  /** HTTP/2 upstreams: the same prepared request, sent on an http2 stream; HTTP/1.1 when the server chose it by ALPN. */
  function forwardH2(
    ctx: WharfContext,
    target: ProxyTarget,
    h2: H2Upstream,
    d: DispatchOptions,
    upstream: UpstreamInfo,
    replay: Replay,
    holdBack: ((status: number) => boolean) | undefined,
  ): Promise<Error | undefined> {
    const request = { method: d.method, path: d.path, headers: d.headers as UpstreamRequestHeaders, body: d.body as Buffer | Readable | null };
    return forwardOverH2(ctx, target, h2, request, upstream, h2Deps, replay, holdBack, () => dispatchHttp1(ctx, target, d, upstream, replay, holdBack));
  }

  return { forward, fail };
}

function dispatchExchange(target: ProxyTarget, options: DispatchOptions, exchange: Exchange): void {
  try {
    target.pool.dispatch(options, exchange);
  } catch (err) {
    exchange.onError(err as Error);
  }
}

/**
 * Go's transport (which Traefik proxies with) sends a request once more when it failed on a reused keep-alive
 * connection before any response byte: the server closed the connection as the request arrived (an idle timeout,
 * a task draining on SIGTERM), so it never saw it. Only what may be sent twice: an idempotent request (see
 * isIdempotentForResend) whose body was not consumed. Once; on whichever connection the pool gives, a fresh one
 * when the server closed the others (a refused fresh connection is then a connect failure, handed to the caller).
 * Counted in retryAttempts (access log, metrics). Returns false when the failure must be answered as it is.
 */
function resendOnFreshConnection(exchange: Exchange, ctx: WharfContext, target: ProxyTarget, options: DispatchOptions, error: Error): boolean {
  if (!brokeReusedConnection(error) || isTimeout(error) || !isIdempotentForResend(ctx.req)) return false;
  const body = resendBody(ctx, options);
  if (body === undefined) return false;
  ctx.wharf.retryAttempts++;
  dispatchExchange(target, { ...options, body }, exchange.successor());
  return true;
}

/** The methods Go's transport sends again without asking (Request.isReplayable). */
const REPLAYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Go's Request.isReplayable: GET, HEAD, OPTIONS, TRACE, or any method with an Idempotency-Key or X-Idempotency-Key. */
export function isIdempotentForResend(req: IncomingMessage): boolean {
  return REPLAYABLE_METHODS.has(req.method!) || req.headers['idempotency-key'] !== undefined || req.headers['x-idempotency-key'] !== undefined;
}

/** The body to send again: none, or a fresh copy of a replayable one; undefined once a one-pass body was consumed. */
function resendBody(ctx: WharfContext, options: DispatchOptions): DispatchOptions['body'] | undefined {
  if (options.body === null || options.body === undefined) return null;
  const replacement = ctx.wharf.requestBody;
  if (replacement === undefined || !isReplayableBody(replacement)) return undefined;
  return replacementBody(replacement, options.headers as UpstreamRequestHeaders);
}

/**
 * A body a middleware read in full (ctx.wharf.requestBody) goes out with its length rather than the client's
 * framing, a fresh copy per try so that a retry sends the same bytes; a one-pass stream goes out as it is.
 */
function replacementBody(body: Buffer | Readable | ReplayableBody, headers: UpstreamRequestHeaders): Buffer | Readable | null {
  if (!isReplayableBody(body)) return body;
  headers['content-length'] = String(body.length);
  if (body.length === 0) return null;
  return Buffer.isBuffer(body) ? body : body.open();
}

/** The request is safe to send again to another server: safe method, or nothing to replay. */
export function isReplayable(req: IncomingMessage): boolean {
  return REPLAYABLE_METHODS.has(req.method!) || !hasRequestBody(req);
}

/** The client announced a body (Content-Length other than 0, or Transfer-Encoding). */
export function hasRequestBody(req: IncomingMessage): boolean {
  const headers = req.headers;
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}

/** Path and query to send upstream; undefined when the request target cannot be forwarded. */
function originForm(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return '/';
  if (url.charCodeAt(0) === 0x2f /* '/' */) return url;
  // absolute-form (RFC 9112 §3.2.2) is meant for proxies; the origin server gets origin-form.
  if (url.startsWith('http://') || url.startsWith('https://')) {
    try {
      const parsed = new URL(url);
      return parsed.pathname + parsed.search;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const clientClosed = new Error('client closed the connection');

/** Failures that happened before the server got anything, i.e. worth another server. */
function isConnectFailure(err: Error): boolean {
  if (err === clientClosed) return false;
  const code = (err as { code?: unknown }).code;
  // Invalid requests fail identically everywhere; the rest is about reaching this server.
  return code !== 'UND_ERR_INVALID_ARG' && code !== 'UND_ERR_NOT_SUPPORTED' && code !== 'UND_ERR_ABORTED';
}

/** The server did not answer in time: it may still be working on the request. */
export function isTimeout(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT';
}

/** The status the client gets for a failed exchange: 504 for timeouts, else 502. */
export function statusForError(err: Error): number {
  switch ((err as { code?: unknown }).code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'ETIMEDOUT':
      return 504;
    default:
      return 502;
  }
}

/**
 * The client connection, or null once the response let go of it. Read from the response: Node
 * drops it from the request when the request stream is destroyed, which undici does to the body
 * it was uploading when the server closes the connection, while the client still waits for an answer.
 */
function socketOf(req: IncomingMessage, res: ServerResponse): Socket | null {
  return ((res.socket ?? req.socket) as Socket | null) ?? null;
}

/** The client connection is gone: there is nobody left to answer. */
export function isClientGone(req: IncomingMessage, res: ServerResponse): boolean {
  const socket = socketOf(req, res);
  return socket === null || socket.destroyed;
}

/** Short plain-text answer written by the gateway itself (errors, 503); bypasses Koa. */
export function respondPlain(ctx: WharfContext, status: number, body: string): void {
  ctx.respond = false;
  const res = ctx.res;
  const out = ctx.wharf.writer;
  if ((out ?? res).headersSent || isClientGone(ctx.req, res)) return;
  const base: OutgoingHttpHeaders = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  };
  ctx.wharf.serviceAnswer = { status, bytes: base['content-length'] as number };
  let headers: OutgoingHttpHeaders = { ...base };
  try {
    runResponseHooks(ctx, status, headers);
  } catch {
    // A failing plugin hook must not turn a gateway error into a hang.
    headers = base;
  }
  if (isUpgrade(ctx.req)) closeAfterResponse(ctx.req, res, headers);
  if (out !== undefined) {
    out.writeHead(status, headers);
    out.write(Buffer.from(body));
    out.end();
    return;
  }
  res.writeHead(status, headers);
  res.end(body);
}

function runResponseHooks(ctx: WharfContext, status: number, headers: OutgoingHttpHeaders): void {
  const hooks = ctx.wharf.responseHeaderHooks;
  if (hooks === undefined) return;
  for (let i = 0; i < hooks.length; i++) hooks[i]!(status, headers);
}

/**
 * An upgrade request's socket left Node's HTTP parser; nobody else will end it after a
 * non-101 answer, so announce the close and do it once the answer is flushed.
 */
function closeAfterResponse(req: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders): void {
  headers.connection = 'close';
  res.once('finish', () => req.socket.end());
}

function isHttp11(req: IncomingMessage): boolean {
  return req.httpVersionMajor > 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1);
}

/**
 * Trailers travel only in a chunked body (RFC 9112 §7.1.2), and Node refuses a Trailer header on
 * any other framing, so they are relayed only when Node is going to chunk this response.
 */
function canCarryTrailers(req: IncomingMessage, status: number, headers: IncomingHttpHeaders): boolean {
  return (
    req.method !== 'HEAD' &&
    status !== 204 &&
    status !== 304 &&
    headers['content-length'] === undefined &&
    isHttp11(req)
  );
}

/** 102 and 103 are relayed (Node can write those); RFC 9110 §15.2 forbids 1xx to HTTP/1.0 clients. */
function relayInformational(req: IncomingMessage, res: ServerResponse, status: number, headers: IncomingHttpHeaders): void {
  if (res.headersSent || !isHttp11(req)) return;
  try {
    if (status === 102) {
      res.writeProcessing();
    } else if (status === 103 && headers.link !== undefined) {
      stripResponseHopByHop(headers, false, false);
      res.writeEarlyHints(headers as Record<string, string | string[]>);
    }
  } catch {
    // Informational only: malformed hints are dropped, the final response still follows.
  }
}

/**
 * Node answers `Expect: 100-continue` itself unless the server has a 'checkContinue' listener;
 * in that case it is ours to send, now that the upstream is reachable (RFC 9110 §10.1.1).
 */
function sendContinueIfPending(req: IncomingMessage, res: ServerResponse): void {
  if (!hasToken(req.headers.expect, '100-continue')) return;
  if ((res as ServerResponse & { _sent100?: boolean })._sent100 === false) res.writeContinue();
}

/** Raw 101 head for the client socket; validates what plugin hooks may have added. */
function switchingProtocolsHead(headers: OutgoingHttpHeaders): string {
  let head = 'HTTP/1.1 101 Switching Protocols\r\n';
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    validateHeaderName(name);
    for (const item of Array.isArray(value) ? value : [String(value)]) {
      validateHeaderValue(name, item);
      head += `${name}: ${item}\r\n`;
    }
  }
  return head + '\r\n';
}

const EXCHANGE = Symbol('wharf.exchange');
type ExchangeResponse = ServerResponse & { [EXCHANGE]?: Exchange | undefined };

function onClientClose(this: ServerResponse): void {
  (this as ExchangeResponse)[EXCHANGE]?.clientClosed();
}

/** One request/response exchange with the upstream: undici calls these as the response arrives. */
const { parseHeaders } = util;

class Exchange implements Dispatcher.DispatchHandler {
  /** From undici once the request is on a connection: stops the exchange (reported back through onError). */
  private abort: ((reason: Error) => void) | undefined = undefined;
  /** From undici with the response head: resumes reading the upstream after onData returned false. */
  private resume: (() => void) | undefined = undefined;
  /** undici handed the request to a connection: bytes may have reached the server. */
  private sent = false;
  private clientGone = false;
  private settled = false;
  private relayTrailers = false;
  /** A 1xx answer arrived: response bytes came, so the request is not sent again. */
  private informational = false;
  /** An answer holdBack accepted: its body is read and dropped, and forward resolves to it. */
  private held: HeldBackAnswer | undefined = undefined;
  private readonly req: IncomingMessage;
  private readonly res: ServerResponse;
  /** A middleware's response writer (wrapResponse), else undefined: the response goes straight into res. */
  private readonly out: ResponseWriter | undefined;
  private readonly startTime = process.hrtime.bigint();

  constructor(
    private readonly ctx: WharfContext,
    private readonly target: ProxyTarget,
    private readonly fail: ProxyStep['fail'],
    private readonly upstream: UpstreamInfo,
    private readonly replay: Replay,
    private readonly holdBack: ((status: number) => boolean) | undefined,
    private readonly resolve: (result: Error | undefined) => void,
    /** What was dispatched, to send it once more (resendOnFreshConnection); undefined on that second try. */
    private readonly dispatched: DispatchOptions | undefined,
  ) {
    this.req = ctx.req;
    this.res = ctx.res;
    this.out = ctx.wharf.writer;
    // One shared listener finding the exchange on the response, and on/off rather than once(): nothing per request.
    (this.res as ExchangeResponse)[EXCHANGE] = this;
    this.res.on('close', onClientClose);
  }

  /** Built the first time the client is slower than the upstream. */
  private onDrain: (() => void) | undefined = undefined;

  /** Client went away before the response was complete: stop the upstream work too. */
  clientClosed(): void {
    if (this.settled) return;
    this.clientGone = true;
    this.abort?.(clientClosed);
  }

  // undici's own handler interface (onConnect, onHeaders, …): its newer controller interface (onRequestStart, …)
  // is adapted onto this one per request with two more objects and a parse of the (usually absent) trailers.

  onConnect(abort: (reason: Error) => void): void {
    this.abort = abort;
    if (this.clientGone) {
      abort(clientClosed);
      return;
    }
    this.sent = true;
    sendContinueIfPending(this.req, this.res);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusMessage?: string): boolean {
    this.resume = resume;
    this.responseStart(statusCode, parseHeaders(rawHeaders) as IncomingHttpHeaders, statusMessage);
    return true;
  }

  private responseStart(statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (statusCode < 200) {
      this.informational = true;
      relayInformational(this.req, this.res, statusCode, headers);
      return;
    }
    this.upstream.status = statusCode;
    if (this.holdBack !== undefined && this.holdBack(statusCode)) {
      // Read to the end rather than cut, so the connection stays in the pool for the next try.
      this.held = new HeldBackAnswer(statusCode);
      return;
    }
    this.relayTrailers = hasToken(this.req.headers.te, 'trailers') && canCarryTrailers(this.req, statusCode, headers);
    stripResponseHopByHop(headers, this.relayTrailers, false);
    runResponseHooks(this.ctx, statusCode, headers);
    if (isUpgrade(this.req)) closeAfterResponse(this.req, this.res, headers);
    if (this.out !== undefined) this.out.writeHead(statusCode, headers);
    else this.res.writeHead(statusCode, statusMessage || undefined, headers);
  }

  /** false pauses the upstream until the client drained what it was sent. */
  onData(chunk: Buffer): boolean {
    this.upstream.bytes += chunk.length;
    if (this.held !== undefined) return true;
    if (this.out !== undefined) return this.writeOut(this.out, chunk);
    if (this.res.write(chunk)) return true;
    if (this.onDrain === undefined) {
      this.onDrain = () => this.resume?.();
      this.res.on('drain', this.onDrain);
    }
    return false;
  }

  private writeOut(out: ResponseWriter, chunk: Buffer): boolean {
    // undici hands over empty chunks when it resumes; a writer holding data back could answer false to one and
    // never be asked to drain.
    if (chunk.length === 0) return true;
    if (out.write(chunk)) return true;
    out.onceDrain(() => this.resume?.());
    return false;
  }

  onComplete(rawTrailers: Buffer[] | string[] | null): void {
    if (this.held !== undefined) {
      this.settle(this.held);
      return;
    }
    const trailers = this.relayTrailers && rawTrailers && rawTrailers.length > 0 ? (parseHeaders(rawTrailers) as OutgoingHttpHeaders) : undefined;
    if (this.out !== undefined) {
      this.out.end(trailers);
    } else {
      if (trailers !== undefined) this.res.addTrailers(trailers);
      this.res.end();
    }
    this.settle(undefined);
  }

  onError(error: Error): void {
    try {
      this.handleError(error);
    } catch {
      // undici re-emits handler exceptions as pool 'error' events, which would crash the process.
      socketOf(this.req, this.res)?.destroy();
      this.settle(undefined);
    }
  }

  private handleError(error: Error): void {
    if (this.settled) return;
    if (this.clientGone || isClientGone(this.req, this.res)) {
      // The client left (or broke its upload): nobody to answer, and not the upstream's fault.
      this.settle(undefined);
      return;
    }
    if (this.held !== undefined) {
      // The held answer was going to be retried anyway; its body is not needed.
      this.settle(this.held);
      return;
    }
    if (this.mayResend() && resendOnFreshConnection(this, this.ctx, this.target, this.dispatched!, error)) return;
    if (this.replay !== false && isConnectFailure(error) && (!this.sent || this.replayableAfterSending(error))) {
      this.settle(error);
      return;
    }
    this.fail(this.ctx, this.target, error);
    this.settle(undefined);
  }

  /** A first try that reached a connection and broke before any response byte (resendOnFreshConnection decides). */
  private mayResend(): boolean {
    return this.dispatched !== undefined && this.sent && !this.informational && this.upstream.status === undefined && !(this.out ?? this.res).headersSent;
  }

  /** The exchange that sends the request once more, resolving this one's promise; this one lets go of the response. */
  successor(): Exchange {
    this.detach();
    return new Exchange(this.ctx, this.target, this.fail, this.upstream, this.replay, this.holdBack, this.resolve, undefined);
  }

  /** Sent, but the exchange broke before any response byte reached the client (a timeout only with 'unstarted'). */
  private replayableAfterSending(error: Error): boolean {
    if (this.upstream.status !== undefined || (this.out ?? this.res).headersSent) return false;
    return this.replay === 'unstarted' || (this.replay === 'unanswered' && !isTimeout(error));
  }

  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: Duplex): void {
    const headers = parseHeaders(rawHeaders ?? []) as IncomingHttpHeaders;
    this.upstream.status = statusCode;
    const client = socketOf(this.req, this.res);
    if (client === null || client.destroyed) {
      // The client left while the upstream was accepting: there is nobody to tunnel to.
      socket.destroy();
      this.settle(undefined);
      return;
    }
    stripResponseHopByHop(headers, false, true);
    runResponseHooks(this.ctx, statusCode, headers);
    // Throwing here (invalid hook output) makes undici report the error, answered as a 502.
    client.write(switchingProtocolsHead(headers));
    this.res.off('close', onClientClose);
    this.tunnel(client, socket);
  }

  /**
   * Relays bytes both ways. A half-close is passed on (pipe ends the other side's writes); once
   * one socket is gone the other is flushed then closed; an error on either destroys both.
   */
  private tunnel(client: Duplex, server: Duplex): void {
    const head = this.ctx.wharf.upgradeHead;
    if (head !== undefined && head.length > 0) server.write(head);
    server.on('data', (chunk: Buffer) => {
      this.upstream.bytes += chunk.length;
    });
    const destroyBoth = (): void => {
      client.destroy();
      server.destroy();
    };
    let open = 2;
    const closeOther = (other: Duplex) => (): void => {
      (other as Socket).destroySoon();
      if (--open === 0) this.settle(undefined);
    };
    client.on('error', destroyBoth);
    server.on('error', destroyBoth);
    client.on('close', closeOther(server));
    server.on('close', closeOther(client));
    client.pipe(server);
    server.pipe(client);
  }

  private settle(result: Error | undefined): void {
    if (this.settled) return;
    this.detach();
    this.upstream.durationNs = process.hrtime.bigint() - this.startTime;
    this.resolve(result);
  }

  /** Done with the client response: stops listening to it. */
  private detach(): void {
    this.settled = true;
    this.res.off('close', onClientClose);
    (this.res as ExchangeResponse)[EXCHANGE] = undefined;
    if (this.onDrain !== undefined) this.res.off('drain', this.onDrain);
  }
}
