// contentType: Traefik 3's ContentType middleware. Traefik 3 no longer guesses the Content-Type of a response that
// has none (its entrypoints turn Go's sniffing off, as Wharf never sniffs); this middleware turns it back on for the
// routers using it: a response without Content-Type gets the one Go's http.DetectContentType finds in its first
// bytes. `autoDetect` is Traefik's deprecated option: false makes the middleware do nothing.
import type { OutgoingHttpHeaders } from 'node:http';
import { definePlugin, ForwardingWriter, Type, wrapResponse, type Next, type ResponseWriter, type Static, type WharfContext } from '@wharf/core';
import { detectContentType } from './sniff.js';

export { detectContentType } from './sniff.js';

export const schema = Type.Object(
  {
    autoDetect: Type.Optional(
      Type.Boolean({
        description: 'Deprecated in Traefik 3 (a warning is logged): false turns the middleware into a no-op; true or unset sniffs a missing Content-Type.',
      }),
    ),
  },
  { additionalProperties: false },
);

export type ContentTypeConfig = Static<typeof schema>;

/** Statuses whose responses have no body (Go's bodyAllowedForStatus): nothing to sniff. */
function bodyAllowed(status: number): boolean {
  return status >= 200 && status !== 204 && status !== 304;
}

function hasHeader(headers: OutgoingHttpHeaders, lowerName: string): boolean {
  for (const name of Object.keys(headers)) if (name.length === lowerName.length && name.toLowerCase() === lowerName) return true;
  return false;
}

/**
 * Holds the head of a response without Content-Type until its first body chunk, and sends it with the type found
 * there, as Go's server does with the first write. An empty body gets no Content-Type (Go sniffs only bytes).
 */
export class SniffingWriter extends ForwardingWriter {
  private held: { status: number; headers: OutgoingHttpHeaders } | undefined;
  private written = false;

  override get headersSent(): boolean {
    return this.written;
  }

  override writeHead(status: number, headers: OutgoingHttpHeaders): void {
    this.written = true;
    if (!bodyAllowed(status) || hasHeader(headers, 'content-type') || hasHeader(headers, 'transfer-encoding')) {
      this.inner.writeHead(status, headers);
      return;
    }
    this.held = { status, headers };
  }

  override write(chunk: Buffer): boolean {
    if (this.held !== undefined) {
      if (chunk.length === 0) return true; // nothing to sniff yet
      const { status, headers } = this.held;
      this.held = undefined;
      headers['content-type'] = detectContentType(chunk);
      this.inner.writeHead(status, headers);
    }
    return this.inner.write(chunk);
  }

  override end(trailers?: OutgoingHttpHeaders): void {
    this.flushHead();
    this.inner.end(trailers);
  }

  override abort(error: Error): void {
    this.held = undefined;
    this.inner.abort(error);
  }

  private flushHead(): void {
    if (this.held === undefined) return;
    const { status, headers } = this.held;
    this.held = undefined;
    this.inner.writeHead(status, headers);
  }
}

const sniffing = (inner: ResponseWriter): ResponseWriter => new SniffingWriter(inner);

export default definePlugin({
  name: 'contentType',
  description: 'Set the Content-Type of responses that have none from their first bytes (Go\'s sniffing, which Traefik 3 turns off by default).',
  schema,
  create(options, context) {
    if (options.autoDetect !== undefined) {
      context.log.warn('autoDetect: deprecated (as in Traefik 3): the contentType middleware only turns Content-Type detection on; remove the option');
      if (!options.autoDetect) return async function contentTypeOff(_ctx: WharfContext, next: Next) {
        await next();
      };
    }
    return async function contentType(ctx: WharfContext, next: Next): Promise<void> {
      wrapResponse(ctx, sniffing);
      await next();
    };
  },
});
