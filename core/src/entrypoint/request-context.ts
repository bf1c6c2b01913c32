// The per-request context the entrypoint hands to plugins: Koa's context API at the cost of one fixed-shape object.
// Koa's own createContext makes three objects per request and its handleRequest adds on-finished listeners and two
// promises; a proxied request with an empty chain needs none of it. Here the Koa request/response pair is built
// only when a plugin touches the Koa API (ctx.body, ctx.set, ctx.request, …), and answers made in the chain are
// written by respond() below, the same steps as Koa's.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable, Stream } from 'node:stream';
import type Koa from 'koa';
import type { WharfContext, WharfState } from '../context.js';
import type { ResponseWriter } from '../response-writer.js';
import type { RequestTarget } from '../router/request-facts.js';

/** Builds contexts whose prototype is `app.context`, so every Koa context method and delegate works on them. */
export type ContextConstructor = new (req: IncomingMessage, res: ServerResponse, wharf: WharfState) => WharfContext;

interface KoaPair {
  request: Koa.Request;
  response: Koa.Response;
}

export function contextClass(app: Koa): ContextConstructor {
  /** Builds Koa's request/response pair for a context, wired as Koa's createContext wires them. */
  function koaPair(ctx: GatewayContext): KoaPair {
    const request = Object.create(app.request) as Koa.Request & Record<string, unknown>;
    const response = Object.create(app.response) as Koa.Response & Record<string, unknown>;
    request.app = response.app = app;
    request.req = response.req = ctx.req;
    request.res = response.res = ctx.res;
    request.ctx = response.ctx = ctx as unknown as Koa.Context;
    request.response = response;
    response.request = request;
    request.originalUrl = ctx.originalUrl;
    return { request, response };
  }

  class GatewayContext {
    req: IncomingMessage;
    res: ServerResponse;
    wharf: WharfState;
    /** Koa's switch: false = the response is written by whoever set it (the proxy step), not by respond(). */
    respond: boolean | undefined;
    originalUrl: string;
    private koa: KoaPair | undefined;
    private ownState: Record<string, unknown> | undefined;

    constructor(req: IncomingMessage, res: ServerResponse, wharf: WharfState) {
      this.req = req;
      this.res = res;
      this.wharf = wharf;
      this.respond = undefined;
      this.originalUrl = req.url ?? '';
      this.koa = undefined;
      this.ownState = undefined;
    }

    get request(): Koa.Request {
      return (this.koa ??= koaPair(this)).request;
    }

    set request(value: Koa.Request) {
      (this.koa ??= koaPair(this)).request = value;
    }

    get response(): Koa.Response {
      return (this.koa ??= koaPair(this)).response;
    }

    set response(value: Koa.Response) {
      (this.koa ??= koaPair(this)).response = value;
    }

    get state(): Record<string, unknown> {
      return (this.ownState ??= {});
    }

    set state(value: Record<string, unknown>) {
      this.ownState = value;
    }

  }
  Object.setPrototypeOf(GatewayContext.prototype, app.context);
  Object.defineProperty(GatewayContext.prototype, 'app', { value: app, writable: true, configurable: true, enumerable: false });
  return GatewayContext as unknown as ContextConstructor;
}

// statuses.empty: codes whose responses carry no body.
const EMPTY_STATUS = new Set([204, 205, 304]);

/** What respond() sends after the head: nothing, bytes, or a stream. */
type Answer = Buffer | string | Readable | undefined;

/**
 * Writes an answer a plugin made through the Koa API (ctx.body / ctx.status), as Koa's respond() does; nothing
 * when the response is someone else's to write (ctx.respond === false, as the proxy step sets). When a middleware
 * wrapped the response (wrapResponse), the answer goes through its writer.
 */
export function respond(ctx: WharfContext): void {
  if (ctx.respond === false) return;
  if (!ctx.writable) {
    ctx.res.end();
    return;
  }
  const answer = prepareAnswer(ctx);
  const out = ctx.wharf.writer;
  if (out === undefined) sendToResponse(ctx, answer);
  else sendToWriter(ctx, out, answer);
}

/** Koa's respond() steps up to the body: sets the headers it sets (type, length) and returns what to send. */
function prepareAnswer(ctx: WharfContext): Answer {
  const code = ctx.status;
  if (EMPTY_STATUS.has(code)) {
    ctx.body = null;
    return undefined;
  }
  if (ctx.method === 'HEAD') {
    prepareHead(ctx);
    return undefined;
  }
  const body: unknown = ctx.body;
  if (body === null || body === undefined) return prepareWithoutBody(ctx, code);
  if (Buffer.isBuffer(body) || typeof body === 'string') return body;
  const stream = streamOf(body);
  if (stream !== undefined) return stream;
  const json = JSON.stringify(body);
  if (!ctx.res.headersSent) ctx.length = Buffer.byteLength(json);
  return json;
}

function prepareHead(ctx: WharfContext): void {
  if (!ctx.res.headersSent && !ctx.res.hasHeader('Content-Length')) {
    const { length } = ctx.response;
    if (Number.isInteger(length)) ctx.length = length;
  }
}

function prepareWithoutBody(ctx: WharfContext, code: number): string | undefined {
  if ((ctx.response as Koa.Response & { _explicitNullBody?: boolean })._explicitNullBody) {
    ctx.response.remove('Content-Type');
    ctx.response.remove('Transfer-Encoding');
    ctx.length = 0;
    return undefined;
  }
  const body = ctx.req.httpVersionMajor >= 2 ? String(code) : ctx.message || String(code);
  if (!ctx.res.headersSent) {
    ctx.type = 'text';
    ctx.length = Buffer.byteLength(body);
  }
  return body;
}

function sendToResponse(ctx: WharfContext, answer: Answer): void {
  const res = ctx.res;
  if (answer === undefined || typeof answer === 'string' || Buffer.isBuffer(answer)) {
    res.end(answer);
    return;
  }
  Stream.pipeline(answer, res, (err) => {
    if (err && ctx.app.listenerCount('error')) ctx.onerror(err);
  });
}

/** The same answer through a middleware's writer: head from the headers Koa set, then the body with backpressure. */
function sendToWriter(ctx: WharfContext, out: ResponseWriter, answer: Answer): void {
  out.writeHead(ctx.status, takeHeaders(ctx.res));
  if (answer === undefined) {
    out.end();
  } else if (typeof answer === 'string' || Buffer.isBuffer(answer)) {
    out.write(typeof answer === 'string' ? Buffer.from(answer) : answer);
    out.end();
  } else {
    pumpToWriter(answer, out);
  }
}

/**
 * The head Koa set on the response, moved out of it: the writer owns it now. Left on `res`, the client writer's
 * res.writeHead would merge them back, so a header a wrapper removed (compress: Content-Length) would still go out.
 */
function takeHeaders(res: ServerResponse): OutgoingHttpHeaders {
  const headers = res.getHeaders();
  for (const name of Object.keys(headers)) res.removeHeader(name);
  return headers;
}

function pumpToWriter(stream: Readable, out: ResponseWriter): void {
  stream.on('data', (chunk: Buffer | string) => {
    if (!out.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) {
      stream.pause();
      out.onceDrain(() => stream.resume());
    }
  });
  stream.once('end', () => out.end());
  stream.once('error', (err) => out.abort(err));
}

function streamOf(body: unknown): Readable | undefined {
  if (body instanceof Blob) return Readable.from(body.stream() as unknown as AsyncIterable<unknown>);
  if (body instanceof ReadableStream) return Readable.from(body as unknown as AsyncIterable<unknown>);
  if (body instanceof Response) return Readable.from((body.body ?? '') as unknown as AsyncIterable<unknown>);
  if (body instanceof Stream || isStreamLike(body)) return body as Readable;
  return undefined;
}

/** Koa's is-stream: a readable from another copy of the stream module counts too. */
function isStreamLike(body: unknown): boolean {
  const b = body as Partial<Readable> | null;
  return typeof b === 'object' && b !== null && typeof b.pipe === 'function' && typeof b.read === 'function' && typeof b.readable === 'boolean';
}

/** ctx.wharf with every field present from the start: one object shape for every request, whatever plugins set. */
export class RequestState implements WharfState {
  router: string | undefined = undefined;
  service: string | undefined = undefined;
  observability: WharfState['observability'] = undefined;
  traceContext: unknown = undefined;
  upstream: WharfState['upstream'] = undefined;
  serviceAnswer: WharfState['serviceAnswer'] = undefined;
  rejectedBy: string | undefined = undefined;
  retryAttempts = 0;
  retry: WharfState['retry'] = undefined;
  upgradeHead: Buffer | undefined = undefined;
  responseHeaderHooks: WharfState['responseHeaderHooks'] = undefined;
  forwardedOverrides: WharfState['forwardedOverrides'] = undefined;
  writer: WharfState['writer'] = undefined;
  /** The request target split once (see request-facts.ts), for routing. */
  target: RequestTarget | undefined = undefined;
  requestBody: WharfState['requestBody'] = undefined;

  constructor(
    public entrypoint: string,
    public startTime: bigint,
    public clientIP: string,
    public trustForwarded: boolean,
  ) {}
}
