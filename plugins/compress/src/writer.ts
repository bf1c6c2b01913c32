// The compressing response writer: holds the head until it knows whether to compress (at most
// minResponseBodyBytes of body, or until the service pauses), then streams through a node:zlib encoder with
// backpressure both ways. The rules are klauspost's gzhttp, which Traefik uses for gzip.
import type { OutgoingHttpHeaders } from 'node:http';
import type { Transform } from 'node:stream';
import type { ResponseWriter } from '@wharf/core';
import type { EncoderFactory } from './encoders.js';
import { sniffContentType } from './sniff.js';

export interface CompressionPlan {
  /** The Content-Encoding value. */
  encoding: string;
  newEncoder: EncoderFactory;
  /** Bodies shorter than this go out as they are. */
  minSize: number;
  /** Whether a response Content-Type may be compressed. */
  compressible(contentType: string): boolean;
}

type Mode = 'undecided' | 'plain' | 'compressed';

/** RFC 9110: these never have a body. */
function bodyAllowed(status: number): boolean {
  return status !== 204 && status !== 304 && (status < 100 || status > 199);
}

function single(value: OutgoingHttpHeaders[string]): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/** Adds Accept-Encoding to Vary unless it (or `*`) is there already. */
export function addVary(headers: OutgoingHttpHeaders): void {
  const vary = single(headers.vary);
  if (vary === undefined || vary.trim() === '') {
    headers.vary = 'Accept-Encoding';
    return;
  }
  const listed = vary.split(',').map((v) => v.trim().toLowerCase());
  if (!listed.includes('accept-encoding') && !listed.includes('*')) headers.vary = `${vary}, Accept-Encoding`;
}

export class CompressingWriter implements ResponseWriter {
  headersSent = false;
  private mode: Mode = 'undecided';
  private status = 200;
  private headers: OutgoingHttpHeaders = {};
  /** Body held while undecided: less than minSize bytes. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private encoder: Transform | undefined;
  private trailers: OutgoingHttpHeaders | undefined;
  private pause: NodeJS.Immediate | undefined;
  private done = false;
  /** Content-Length, when the service sent one of at least minSize. */
  private knownLength: number | undefined;

  constructor(
    private readonly inner: ResponseWriter,
    private readonly plan: CompressionPlan,
  ) {}

  writeHead(status: number, headers: OutgoingHttpHeaders): void {
    this.headersSent = true;
    this.status = status;
    this.headers = headers;
    addVary(headers);
    if (!bodyAllowed(status) || !this.mayCompress()) return this.startPlain();
    // A known length decides at once, with no holding (gzhttp); 0 or none: wait for the body. Without a
    // Content-Type, the first chunk is still needed to sniff one.
    const length = Number(single(headers['content-length']) ?? 0);
    if (length > 0 && length < this.plan.minSize) return this.startPlain();
    if (length > 0) {
      this.knownLength = length;
      if (single(headers['content-type'])) this.startCompressed(false, length);
    }
  }

  write(chunk: Buffer): boolean {
    switch (this.mode) {
      case 'plain':
        return this.inner.write(chunk);
      case 'compressed':
        return this.encoder!.write(chunk);
      case 'undecided':
        this.held.push(chunk);
        this.heldBytes += chunk.length;
        if (this.heldBytes >= this.plan.minSize || this.knownLength !== undefined) return this.decide(true);
        // Go's proxy flushes a streamed response after each write, and gzhttp then decides with what it has:
        // here the service pausing (nothing more in this turn of the event loop) plays that flush.
        this.pause ??= setImmediate(() => {
          this.pause = undefined;
          if (this.mode === 'undecided' && !this.done) this.decide(true);
        });
        return true;
    }
  }

  end(trailers?: OutgoingHttpHeaders): void {
    this.done = true;
    this.trailers = trailers;
    if (this.mode === 'undecided') this.decide(this.heldBytes >= this.plan.minSize);
    if (this.mode === 'plain') this.inner.end(trailers);
    else this.encoder!.end(); // the inner writer ends after the encoder's last bytes ('end')
  }

  abort(error: Error): void {
    this.done = true;
    this.dispose();
    this.inner.abort(error);
  }

  onceDrain(callback: () => void): void {
    if (this.mode === 'compressed' && this.encoder!.writableNeedDrain) this.encoder!.once('drain', callback);
    else if (this.mode === 'plain') this.inner.onceDrain(callback);
    else queueMicrotask(callback);
  }

  /** Frees the encoder (the client went away, or the response broke). */
  dispose(): void {
    if (this.pause) clearImmediate(this.pause);
    this.pause = undefined;
    this.encoder?.destroy();
  }

  /** Already encoded, a partial range, or a type the options exclude: never compressed. */
  private mayCompress(): boolean {
    const encoding = single(this.headers['content-encoding']);
    if (encoding !== undefined && encoding !== '') return false;
    if (this.headers['content-range'] !== undefined) return false;
    const type = single(this.headers['content-type']);
    return type === undefined || type === '' || this.plan.compressible(type);
  }

  /** Decides with the body held so far (`enough`: compress if the type allows); returns write()'s answer. */
  private decide(enough: boolean): boolean {
    if (this.pause) clearImmediate(this.pause);
    this.pause = undefined;
    const type = single(this.headers['content-type']);
    if (this.heldBytes > 0 && !type) {
      // gzhttp sniffs a missing or empty Content-Type before applying the type filter, and sends it when missing.
      const sniffed = sniffContentType(this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held));
      if (type === undefined) this.headers['content-type'] = sniffed;
      if (!this.plan.compressible(sniffed)) enough = false;
    }
    if (enough && this.heldBytes > 0) this.startCompressed(this.knownLength === undefined && !this.done, this.knownLength);
    else this.startPlain();
    return this.flushHeld();
  }

  private startPlain(): void {
    this.mode = 'plain';
    this.inner.writeHead(this.status, this.headers);
  }

  private startCompressed(streamed: boolean, length?: number): void {
    const headers = this.headers;
    delete headers['content-length'];
    delete headers['accept-ranges']; // ranges of the encoded body are not ranges of the resource (gzhttp drops it)
    headers['content-encoding'] = this.plan.encoding;
    this.mode = 'compressed';
    // Streamed (no Content-Length, body still coming): each chunk is flushed, as Go's proxy flushes such responses.
    const encoder = this.plan.newEncoder(streamed, length);
    this.encoder = encoder;
    encoder.on('data', (out: Buffer) => {
      if (!this.inner.write(out)) {
        encoder.pause();
        this.inner.onceDrain(() => encoder.resume());
      }
    });
    encoder.once('end', () => this.inner.end(this.trailers));
    encoder.on('error', (err: Error) => this.inner.abort(err));
    this.inner.writeHead(this.status, headers);
  }

  /** Sends what was held to the chosen path. */
  private flushHeld(): boolean {
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    let ready = true;
    for (const chunk of held) ready = (this.mode === 'plain' ? this.inner.write(chunk) : this.encoder!.write(chunk)) && ready;
    return ready;
  }
}
