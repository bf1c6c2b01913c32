// The two response writers of the errors middleware: one holds back an answer whose status is caught, one gives
// the error page the status the client is to see.
import type { OutgoingHttpHeaders } from 'node:http';
import { ForwardingWriter, type ResponseWriter } from '@wharf/core';
import { inRanges, type StatusRanges } from './codes.js';

/**
 * Passes an answer through untouched (streaming, with backpressure) unless its status is caught: then its head is
 * held back and its body read and dropped, so the upstream connection is reused, as Traefik's codeCatcher does.
 */
export class Catcher implements ResponseWriter {
  /** Status written to this writer; 0 while none was. */
  status = 0;
  held = false;

  constructor(
    private readonly inner: ResponseWriter,
    private readonly ranges: StatusRanges,
  ) {}

  get headersSent(): boolean {
    return this.status !== 0;
  }

  writeHead(status: number, headers: OutgoingHttpHeaders): void {
    this.status = status;
    if (inRanges(this.ranges, status)) this.held = true;
    else this.inner.writeHead(status, headers);
  }

  write(chunk: Buffer): boolean {
    return this.held ? true : this.inner.write(chunk);
  }

  end(trailers?: OutgoingHttpHeaders): void {
    if (!this.held) this.inner.end(trailers);
  }

  abort(error: Error): void {
    // A held answer that breaks mid-body is replaced all the same; a passed one must be cut.
    if (!this.held) this.inner.abort(error);
  }

  onceDrain(callback: () => void): void {
    if (this.held) callback();
    else this.inner.onceDrain(callback);
  }
}

/** Sends the error page with the caught (or rewritten) status, whatever status its service answered. */
export class StatusWriter extends ForwardingWriter {
  constructor(
    inner: ResponseWriter,
    private readonly status: number,
  ) {
    super(inner);
  }

  override writeHead(_status: number, headers: OutgoingHttpHeaders): void {
    this.inner.writeHead(this.status, headers);
  }
}
