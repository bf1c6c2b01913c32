// The answer side of gRPC-Web: gRPC's Content-Type becomes the request's gRPC-Web one, the headers a browser may read
// are exposed, the gRPC trailers (grpc-status, grpc-message, trailing metadata) become a final frame of the body,
// and in text form every chunk is base64-encoded (padded per chunk, so each streamed message is readable at once).
import type { OutgoingHttpHeaders } from 'node:http';
import { ForwardingWriter, type ResponseWriter } from '@wharf/core';
import { canonicalName } from './cors.js';

// gRPC-Web's trailer frame: flag byte with the MSB set, then the 4-byte big-endian length of the trailer block.
const TRAILER_FLAG = 0x80;

export class GrpcWebWriter extends ForwardingWriter {
  constructor(
    inner: ResponseWriter,
    /** application/grpc-web or application/grpc-web-text: what application/grpc becomes in the answer. */
    private readonly contentType: string,
    private readonly text: boolean,
    private readonly cors: OutgoingHttpHeaders,
  ) {
    super(inner);
  }

  override writeHead(status: number, headers: OutgoingHttpHeaders): void {
    const out: OutgoingHttpHeaders = { ...this.cors };
    for (const name in headers) {
      const value = headers[name];
      // Trailer announces HTTP trailers, which become the body's last frame; the body's length changes.
      if (value === undefined || name === 'trailer' || name === 'content-length') continue;
      out[name] = name === 'content-type' ? String(value).replace('application/grpc', this.contentType) : value;
    }
    out['access-control-expose-headers'] = [...Object.keys(out).map(canonicalName), 'grpc-status', 'grpc-message'].join(', ');
    this.inner.writeHead(status, out);
  }

  override write(chunk: Buffer): boolean {
    return this.inner.write(this.text ? Buffer.from(chunk.toString('base64'), 'latin1') : chunk);
  }

  override end(trailers?: OutgoingHttpHeaders): void {
    const frame = trailerFrame(trailers);
    this.inner.write(this.text ? Buffer.from(frame.toString('base64'), 'latin1') : frame);
    this.inner.end();
  }
}

/** `name: value\r\n` lines, names lower-case and sorted as Go's Header.Write orders them, behind the frame prefix. */
export function trailerFrame(trailers: OutgoingHttpHeaders | undefined): Buffer {
  let block = '';
  if (trailers !== undefined) {
    const entries = Object.entries(trailers)
      .map(([name, value]) => [name.toLowerCase(), value] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [name, value] of entries) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [String(value)]) block += `${name}: ${item}\r\n`;
    }
  }
  const body = Buffer.from(block, 'utf8');
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = TRAILER_FLAG;
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return frame;
}
