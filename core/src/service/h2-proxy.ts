// The proxy step over HTTP/2 upstreams (h2c://, https:// negotiating h2): one Node http2 stream per request, on a
// connection multiplexing many (gRPC calls, long streams). Request and response bodies flow independently (bidi),
// response trailers reach the client (grpc-status), and a cancel on either side resets the other.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import http2, { type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';
import { errors } from 'undici';
import type { UpstreamInfo, WharfContext } from '../context.js';
import type { ResponseWriter } from '../response-writer.js';
import type { H2Upstream } from './h2-upstream.js';
import { hasToken, stripResponseHopByHop, type UpstreamRequestHeaders } from './headers.js';
import type { HeldBackAnswer, ProxyTarget, Replay } from './proxy.js';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_FLAG_END_STREAM, HTTP2_HEADER_STATUS } = http2.constants;

/** What the HTTP/2 exchange needs from the proxy step (proxy.ts), passed in so the two files do not import in a cycle. */
export interface H2Forwarding {
  readonly fail: (ctx: WharfContext, target: ProxyTarget, error: Error) => void;
  readonly heldBack: (status: number) => HeldBackAnswer;
  readonly canCarryTrailers: (ctx: WharfContext, status: number, headers: IncomingHttpHeaders) => boolean;
  readonly runResponseHooks: (ctx: WharfContext, status: number, headers: OutgoingHttpHeaders) => void;
}

/** One request as the HTTP/1.1 path prepared it. */
export interface H2Request {
  readonly method: string;
  readonly path: string;
  readonly headers: UpstreamRequestHeaders;
  readonly body: Buffer | Readable | null;
}

// Connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2); Host travels as :authority.
const NOT_IN_H2 = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);

/** The :-headers and fields of the upstream request. */
function h2RequestHeaders(request: H2Request, h2: H2Upstream): OutgoingHttpHeaders {
  const headers = request.headers;
  const out: OutgoingHttpHeaders = {
    ':method': request.method,
    ':path': request.path,
    ':scheme': h2.scheme,
    ':authority': headers.host,
  };
  for (const name in headers) if (!NOT_IN_H2.has(name)) out[name] = headers[name];
  // TE: trailers is the one TE HTTP/2 allows; gRPC servers require it.
  if (headers.te !== undefined) out.te = 'trailers';
  return out;
}

/**
 * Forwards over HTTP/2; resolves like ProxyStep.forward. `viaHttp1` takes the request when TLS ALPN shows the
 * server speaks HTTP/1.1 only.
 */
export function forwardOverH2(
  ctx: WharfContext,
  target: ProxyTarget,
  h2: H2Upstream,
  request: H2Request,
  upstream: UpstreamInfo,
  deps: H2Forwarding,
  replay: Replay,
  holdBack: ((status: number) => boolean) | undefined,
  viaHttp1: () => Promise<Error | undefined>,
): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const exchange = new H2Exchange(ctx, target, upstream, deps, replay, holdBack, resolve);
    const ready = h2.ready();
    if (ready !== undefined) {
      exchange.start(ready, h2, request);
      return;
    }
    h2.open().then(
      (pick) => {
        if (pick !== 'http1') return exchange.start(pick, h2, request);
        exchange.handOver();
        viaHttp1().then(resolve, resolve);
      },
      (err: Error) => exchange.connectFailed(err),
    );
  });
}

class H2Exchange {
  private stream: ClientHttp2Stream | undefined = undefined;
  private settled = false;
  private clientGone = false;
  private responded = false;
  private relayTrailers = false;
  private trailers: OutgoingHttpHeaders | undefined = undefined;
  private held: HeldBackAnswer | undefined = undefined;
  private headerTimer: NodeJS.Timeout | undefined = undefined;
  private readonly out: ResponseWriter | undefined;
  private readonly startTime = process.hrtime.bigint();
  private readonly onClientClose = (): void => this.clientClosed();
  private onDrain: (() => void) | undefined = undefined;

  constructor(
    private readonly ctx: WharfContext,
    private readonly target: ProxyTarget,
    private readonly upstream: UpstreamInfo,
    private readonly deps: H2Forwarding,
    private readonly replay: Replay,
    private readonly holdBack: ((status: number) => boolean) | undefined,
    private readonly resolve: (result: Error | undefined) => void,
  ) {
    this.out = ctx.wharf.writer;
    ctx.res.on('close', this.onClientClose);
  }

  start(session: ClientHttp2Session, h2: H2Upstream, request: H2Request): void {
    if (this.settled) return;
    const endStream = request.body === null;
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(h2RequestHeaders(request, h2), { endStream });
    } catch (err) {
      // A session that closed in between, or an invalid header: nothing reached the server.
      this.connectFailed(err as Error);
      return;
    }
    this.stream = stream;
    h2.track(session, stream);
    // A plugin's response hook, or Node refusing a header or trailer, throws inside a stream event, where it would
    // crash the process: it fails the exchange instead (502 if nothing was sent yet, else the connection is cut).
    stream.on('response', (headers, flags) => {
      try {
        this.onResponse(headers, flags);
      } catch (err) {
        this.onError(err as Error);
      }
    });
    stream.on('data', (chunk: Buffer) => {
      try {
        this.onData(chunk);
      } catch (err) {
        this.onError(err as Error);
      }
    });
    stream.on('trailers', (trailers) => this.onTrailers(trailers));
    stream.on('end', () => {
      try {
        this.onEnd();
      } catch (err) {
        this.onError(err as Error);
      }
    });
    stream.on('error', (err) => this.onError(err));
    stream.on('close', () => this.onStreamClose());
    if (h2.responseHeaderTimeoutMs > 0) {
      this.headerTimer = setTimeout(() => this.onError(new errors.HeadersTimeoutError('Headers Timeout Error')), h2.responseHeaderTimeoutMs);
    }
    if (Buffer.isBuffer(request.body)) stream.end(request.body);
    else if (request.body !== null) this.sendBody(request.body, stream);
  }

  /** The request body streams up while the response streams down (gRPC bidi); the client's end ends the upload. */
  private sendBody(body: Readable, stream: ClientHttp2Stream): void {
    body.pipe(stream);
    body.once('error', () => stream.close(NGHTTP2_CANCEL));
  }

  /** The HTTP/1.1 path takes the request (the server chose HTTP/1.1): this exchange lets go of the response. */
  handOver(): void {
    this.settled = true;
    this.ctx.res.off('close', this.onClientClose);
  }

  /** The connection could not be opened (or refused the stream): nothing was sent. */
  connectFailed(error: Error): void {
    if (this.settled) return;
    if (this.clientGone) return this.settle(undefined);
    if (this.replay !== false) return this.settle(error);
    this.deps.fail(this.ctx, this.target, error);
    this.settle(undefined);
  }

  private clientClosed(): void {
    if (this.settled) return;
    this.clientGone = true;
    // RST_STREAM(CANCEL): a gRPC server sees its call cancelled (deadline passed, client gone).
    if (this.stream !== undefined && !this.stream.destroyed) this.stream.close(NGHTTP2_CANCEL);
    this.settle(undefined);
  }

  private onResponse(h2headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, flags: number): void {
    clearTimeout(this.headerTimer);
    const status = Number(h2headers[HTTP2_HEADER_STATUS]);
    this.upstream.status = status;
    if (this.holdBack !== undefined && this.holdBack(status)) {
      this.held = this.deps.heldBack(status);
      return;
    }
    const headers = fieldsOf(h2headers);
    const ctx = this.ctx;
    this.relayTrailers = hasToken(ctx.req.headers.te, 'trailers') && this.deps.canCarryTrailers(ctx, status, headers);
    stripResponseHopByHop(headers, this.relayTrailers, false);
    if (this.relayTrailers && (flags & NGHTTP2_FLAG_END_STREAM) !== 0) this.trailers = trailersOnly(headers);
    this.deps.runResponseHooks(ctx, status, headers as OutgoingHttpHeaders);
    this.responded = true;
    if (this.out !== undefined) this.out.writeHead(status, headers as OutgoingHttpHeaders);
    else ctx.res.writeHead(status, headers as OutgoingHttpHeaders);
  }

  private onData(chunk: Buffer): void {
    this.upstream.bytes += chunk.length;
    if (this.held !== undefined || this.settled) return;
    const stream = this.stream!;
    if (this.out !== undefined) {
      if (chunk.length === 0 || this.out.write(chunk)) return;
      stream.pause();
      this.out.onceDrain(() => stream.resume());
      return;
    }
    if (this.ctx.res.write(chunk)) return;
    stream.pause();
    if (this.onDrain === undefined) {
      this.onDrain = () => stream.resume();
      this.ctx.res.on('drain', this.onDrain);
    }
  }

  private onTrailers(trailers: http2.IncomingHttpHeaders): void {
    if (this.relayTrailers) this.trailers = fieldsOf(trailers) as OutgoingHttpHeaders;
  }

  private onEnd(): void {
    if (this.settled) return;
    if (this.held !== undefined) return this.settle(this.held);
    if (!this.responded) return; // 'close' reports a stream that ended without an answer.
    const res = this.ctx.res;
    if (this.out !== undefined) {
      this.out.end(this.trailers);
    } else {
      if (this.trailers !== undefined) res.addTrailers(this.trailers);
      res.end();
    }
    this.settle(undefined);
  }

  private onStreamClose(): void {
    if (this.settled) return;
    const code = this.stream?.rstCode ?? 0;
    const error = new Error(code === 0 ? 'upstream closed the stream before answering' : `upstream reset the stream (HTTP/2 error code ${code})`);
    // REFUSED_STREAM: the server processed nothing (RFC 9113 §8.7), as safe to replay as a failed connect.
    if (code === NGHTTP2_REFUSED_STREAM && !this.responded) return this.connectFailed(error);
    this.onError(error);
  }

  private onError(error: Error): void {
    if (this.settled) return;
    clearTimeout(this.headerTimer);
    if (this.stream !== undefined && !this.stream.destroyed) this.stream.close(NGHTTP2_CANCEL);
    if (this.clientGone) return this.settle(undefined);
    if (this.held !== undefined) return this.settle(this.held);
    if (!this.responded && !(this.out ?? this.ctx.res).headersSent && this.replayableAfterSending(error)) return this.settle(error);
    try {
      this.deps.fail(this.ctx, this.target, error);
    } catch {
      // Failing to answer must not throw out of a stream event.
    }
    this.settle(undefined);
  }

  /** Sent, nothing answered yet: a retry policy may send it again ('unanswered' not after a timeout). */
  private replayableAfterSending(error: Error): boolean {
    if (this.replay === 'unstarted') return true;
    return this.replay === 'unanswered' && !(error instanceof errors.HeadersTimeoutError);
  }

  private settle(result: Error | undefined): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.headerTimer);
    this.upstream.durationNs = process.hrtime.bigint() - this.startTime;
    const res = this.ctx.res;
    res.off('close', this.onClientClose);
    if (this.onDrain !== undefined) res.off('drain', this.onDrain);
    this.resolve(result);
  }
}

/**
 * gRPC's Trailers-Only answer (an error, no message) is one HEADERS frame ending the stream, all of its fields
 * trailers. Node's server response always sends the head apart, so the fields move to the trailers, where every
 * gRPC client reads status and trailing metadata; the head keeps the HTTP fields (Content-Type, Date, Server). Other answers are left as they are.
 */
const HEAD_FIELDS = new Set(['content-type', 'content-length', 'date', 'server']);

function trailersOnly(headers: IncomingHttpHeaders): OutgoingHttpHeaders | undefined {
  if (headers['grpc-status'] === undefined || !headers['content-type']?.startsWith('application/grpc')) return undefined;
  const trailers: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (HEAD_FIELDS.has(name)) continue;
    trailers[name] = headers[name];
    delete headers[name];
  }
  return trailers;
}

/** Header fields without pseudo-headers. */
function fieldsOf(h2headers: http2.IncomingHttpHeaders): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const name in h2headers) if (name.charCodeAt(0) !== 0x3a /* ':' */) headers[name] = h2headers[name] as string | string[];
  return headers;
}
