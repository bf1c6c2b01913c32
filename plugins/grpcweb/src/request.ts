// The request side of gRPC-Web: its Content-Type becomes gRPC's, the text form's body is base64-decoded as it
// streams, and the trailers wish (TE: trailers) is announced so the gRPC status comes back.
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { isReplayableBody, replaceRequestBody, type WharfContext } from '@wharf/core';

const GRPC_WEB = 'application/grpc-web';
const GRPC_WEB_TEXT = 'application/grpc-web-text';

/** Rewrites ctx.req into a gRPC request; says whether the text (base64) form is used and the answer's Content-Type. */
export function toGrpcRequest(ctx: WharfContext): { text: boolean; contentType: string } {
  const headers = ctx.req.headers;
  const type = headers['content-type'] ?? GRPC_WEB;
  const text = type.startsWith(GRPC_WEB_TEXT);
  const incoming = text ? GRPC_WEB_TEXT : GRPC_WEB;
  headers['content-type'] = type.replace(incoming, 'application/grpc');
  // The length is the HTTP/1.1 payload's; the gRPC body is streamed (and shorter in text form).
  if (headers['content-length'] !== undefined) {
    delete headers['content-length'];
    headers['transfer-encoding'] = 'chunked';
  }
  headers.te = 'trailers';
  if (text) replaceRequestBody(ctx, decodedBody(ctx));
  return { text, contentType: incoming };
}

/** The body, base64-decoded; a body a middleware already read (ctx.wharf.requestBody) is decoded instead of ctx.req. */
function decodedBody(ctx: WharfContext): Readable {
  const decoder = new Base64Decoder();
  const held = ctx.wharf.requestBody;
  if (held === undefined) return ctx.req.pipe(decoder);
  const body = isReplayableBody(held) && !Buffer.isBuffer(held) ? held.open() : held;
  if (Buffer.isBuffer(body)) {
    decoder.end(body);
    return decoder;
  }
  return body.pipe(decoder);
}

/**
 * Decodes base64 as it arrives, in whole 4-character quanta; clients may send several padded segments one after
 * the other (a padded quantum ends a segment), so each quantum is decoded on its own when padding is present.
 */
export class Base64Decoder extends Transform {
  private pending = '';

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const text = this.pending + chunk.toString('latin1').replace(/\s+/g, '');
    const whole = text.length - (text.length % 4);
    this.pending = text.slice(whole);
    if (whole > 0) this.push(decodeQuanta(text.slice(0, whole)));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.pending !== '') return callback(new Error(`grpcWeb: the base64 request body ends with ${this.pending.length} stray characters`));
    callback();
  }
}

function decodeQuanta(text: string): Buffer {
  if (!text.includes('=')) return Buffer.from(text, 'base64');
  const parts: Buffer[] = [];
  for (let i = 0; i < text.length; i += 4) parts.push(Buffer.from(text.slice(i, i + 4), 'base64'));
  return Buffer.concat(parts);
}
