// The response side of buffering: a ResponseWriter that holds the whole answer (memory, then a temporary file) and
// sends it with a Content-Length once complete, or Traefik's 500 instead when it grew past maxResponseBodyBytes.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { ResponseWriter } from '@wharf/core';
import { Spool } from './spool.js';

export interface ResponseLimits {
  /** More body bytes than this: 500 instead of the answer; 0 = no limit. */
  maxBytes: number;
  memBytes: number;
}

const TOO_LARGE = Buffer.from('Internal Server Error');
const BROKEN = Buffer.from('Bad Gateway');

/**
 * Holds the answer written to it and passes it on whole. An answer without a body (HEAD, 1xx, 204, 304,
 * Content-Length: 0, a gRPC error) is passed on as it comes, as oxy does.
 */
export class BufferingWriter implements ResponseWriter {
  headersSent = false;
  private status = 0;
  private headers: OutgoingHttpHeaders = {};
  private spool: Spool | undefined;
  /** The answer has no body to hold: everything goes straight to the inner writer. */
  private passThrough = false;
  private tooLarge = false;
  /** A file write in progress: drain callbacks wait for it. */
  private writing: Promise<void> | undefined;
  private finished = false;

  constructor(
    private readonly inner: ResponseWriter,
    private readonly limits: ResponseLimits,
    private readonly method: string,
    private readonly res: ServerResponse,
  ) {}

  writeHead(status: number, headers: OutgoingHttpHeaders): void {
    this.headersSent = true;
    if (!expectsBody(this.method, status, headers)) {
      this.passThrough = true;
      this.inner.writeHead(status, headers);
      return;
    }
    this.status = status;
    this.headers = headers;
    this.spool = new Spool(this.limits.memBytes);
    // However the exchange ends, the client connection closing is the last moment anything held is needed.
    this.res.once('close', () => void this.release());
  }

  write(chunk: Buffer): boolean {
    if (this.passThrough) return this.inner.write(chunk);
    const spool = this.spool;
    if (spool === undefined || this.tooLarge) return true;
    const { maxBytes } = this.limits;
    if (maxBytes > 0 && spool.length + chunk.length > maxBytes) {
      // The rest of the answer is read and dropped (oxy does the same), then the client gets 500.
      this.tooLarge = true;
      void this.release();
      return true;
    }
    const write = spool.append(chunk);
    if (write === undefined) return true;
    this.writing = write;
    return false;
  }

  onceDrain(callback: () => void): void {
    if (this.passThrough) {
      this.inner.onceDrain(callback);
      return;
    }
    const writing = this.writing ?? Promise.resolve();
    // A failed file write shows at end(), which then answers 500.
    void writing.then(callback, callback);
  }

  end(trailers?: OutgoingHttpHeaders): void {
    if (this.passThrough) {
      this.inner.end(trailers);
      return;
    }
    if (this.tooLarge) {
      this.answer(500, TOO_LARGE);
      return;
    }
    const spool = this.spool!;
    // Trailers cannot follow a Content-Length body; the answer is whole anyway.
    void spool.seal().then(
      () => this.send(spool),
      () => this.answer(500, TOO_LARGE),
    );
  }

  abort(error: Error): void {
    void this.release();
    if (this.passThrough) {
      this.inner.abort(error);
      return;
    }
    // Nothing reached the client yet: it gets a clean 502 rather than a cut connection.
    if (this.inner.headersSent) this.inner.abort(error);
    else this.answer(502, BROKEN);
  }

  private send(spool: Spool): void {
    const headers = this.headers;
    delete headers['transfer-encoding'];
    delete headers.trailer;
    headers['content-length'] = spool.length;
    this.inner.writeHead(this.status, headers);
    const body = spool.open();
    if (Buffer.isBuffer(body)) {
      if (body.length > 0) this.inner.write(body);
      this.inner.end();
      void this.release();
      return;
    }
    this.pump(body);
  }

  /** File to client with backpressure; the file goes once it is sent or the client left. */
  private pump(file: Readable): void {
    file.on('data', (chunk: Buffer) => {
      if (this.inner.write(chunk)) return;
      file.pause();
      this.inner.onceDrain(() => file.resume());
    });
    file.on('end', () => {
      this.inner.end();
      void this.release();
    });
    file.on('error', (err) => {
      this.inner.abort(err);
      void this.release();
    });
    this.res.once('close', () => file.destroy());
  }

  private answer(status: number, body: Buffer): void {
    void this.release();
    if (this.inner.headersSent) return;
    this.inner.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length });
    this.inner.write(body);
    this.inner.end();
  }

  private release(): Promise<void> {
    if (this.finished || this.spool === undefined) return Promise.resolve();
    this.finished = true;
    return this.spool.release().catch(() => undefined);
  }
}

/** RFC 9110 §6.4.1 (and oxy): answers that carry no body. */
function expectsBody(method: string, status: number, headers: OutgoingHttpHeaders): boolean {
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) return false;
  if (String(headers['content-length']) === '0') return false;
  const grpc = headers['grpc-status'];
  return grpc === undefined || String(grpc) === '0';
}
