// The seam through which a middleware sees, holds back or transforms the final response (compress, errors,
// buffering). Nothing is built while no middleware wraps: the proxy then writes straight into the Node response.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { WharfContext } from './context.js';

/**
 * Where the final response (not 1xx, not a 101 upgrade) goes. `ServerResponseWriter` writes to the client;
 * a middleware's wrapper passes on to the writer it wrapped, in its own time and shape.
 */
export interface ResponseWriter {
  /** writeHead was called on this writer. */
  readonly headersSent: boolean;
  /** Status and headers, after the request's response header hooks ran. */
  writeHead(status: number, headers: OutgoingHttpHeaders): void;
  /** One body chunk; false asks the caller to wait for `onceDrain` before writing more. */
  write(chunk: Buffer): boolean;
  /** End of the body; trailers only reach the client when the response is chunked. */
  end(trailers?: OutgoingHttpHeaders): void;
  /**
   * The response cannot be completed (the upstream broke after the head was written): a wrapper drops what it
   * holds; the client writer cuts the connection, the only way HTTP/1.1 signals a truncated body.
   */
  abort(error: Error): void;
  /** Calls back once, when more may be written after `write` returned false. */
  onceDrain(callback: () => void): void;
}

/** Writes to the client: the innermost writer every wrapper ends at. */
export class ServerResponseWriter implements ResponseWriter {
  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {}

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  writeHead(status: number, headers: OutgoingHttpHeaders): void {
    this.res.writeHead(status, headers);
  }

  write(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }

  end(trailers?: OutgoingHttpHeaders): void {
    if (trailers !== undefined) this.res.addTrailers(trailers);
    this.res.end();
  }

  abort(): void {
    (this.res.socket ?? this.req.socket)?.destroy();
  }

  onceDrain(callback: () => void): void {
    this.res.once('drain', callback);
  }
}

/**
 * A wrapper that passes everything on to the writer it wraps: extend it and override only what the middleware
 * changes (a status, a header, the body).
 */
export class ForwardingWriter implements ResponseWriter {
  constructor(protected readonly inner: ResponseWriter) {}

  get headersSent(): boolean {
    return this.inner.headersSent;
  }

  writeHead(status: number, headers: OutgoingHttpHeaders): void {
    this.inner.writeHead(status, headers);
  }

  write(chunk: Buffer): boolean {
    return this.inner.write(chunk);
  }

  end(trailers?: OutgoingHttpHeaders): void {
    this.inner.end(trailers);
  }

  abort(error: Error): void {
    this.inner.abort(error);
  }

  onceDrain(callback: () => void): void {
    this.inner.onceDrain(callback);
  }
}

/**
 * Wraps the request's current writer. Call it before `await next()`: the innermost middleware's wrapper sees the
 * response first and passes it outwards (onion order, as Go's ResponseWriter wrapping in Traefik). Once any
 * middleware wrapped, the proxied response, Wharf's own error answers (502/503/504) and Koa-style answers
 * (`ctx.body`) all go through the writer.
 *
 * Returns `unwrap`, which makes the wrapped writer current again. A wrapper that held a response back answers in
 * its place either by writing to its inner writer, or, after `await next()`, with `unwrap()`, `ctx.respond = true`
 * (the proxy step set it false) and `ctx.body`; a held response nobody answers leaves the client waiting.
 */
export function wrapResponse(ctx: WharfContext, wrap: (inner: ResponseWriter) => ResponseWriter): () => void {
  const previous = ctx.wharf.writer;
  const inner = previous ?? new ServerResponseWriter(ctx.req, ctx.res);
  ctx.wharf.writer = wrap(inner);
  return () => {
    ctx.wharf.writer = previous;
  };
}
