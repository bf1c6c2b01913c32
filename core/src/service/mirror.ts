// mirroring services: the main service answers the client; a sample of the requests is also sent to each mirror,
// after the answer, and what the mirrors answer goes nowhere (Traefik's pkg/server/service/loadbalancer/mirror).
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { isReplayableBody, replaceRequestBody, type Middleware, type Next, type ReplayableBody, type WharfContext, type WharfState } from '../context.js';
import type { ResponseWriter } from '../response-writer.js';
import { isUpgrade } from './headers.js';
import { hasRequestBody, isClientGone } from './proxy.js';

export interface MirrorTarget {
  /** Qualified name of the mirror service, for logs. */
  name: string;
  /** Share of the requests it gets, 0–100. */
  percent: number;
  handler: Middleware;
}

export interface MirroringOptions {
  /** Qualified name of the mirroring service, for logs. */
  service: string;
  main: Middleware;
  mirrors: readonly MirrorTarget[];
  /** Send the request body to the mirrors too (default true); without it they get the request without a body. */
  mirrorBody?: boolean;
  /** Largest body mirrored, in bytes; a larger request goes to the main service only. −1 (default) = no limit. */
  maxBodySize?: number;
  log?: { debug(obj: object, msg: string): void };
}

/** The request as the mirrors get it, taken before the main service may change it. */
interface RequestCopy {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  httpVersionMajor: number;
  httpVersionMinor: number;
  encrypted: boolean;
}

const NO_BODY: unique symbol = Symbol('no body');
const TOO_LARGE: unique symbol = Symbol('too large');
type MirrorBody = Buffer | ReplayableBody | typeof NO_BODY;

/**
 * Builds a mirroring service. Sampling is Traefik's: a mirror with percent p gets the n-th request when fewer than
 * n × p / 100 went to it so far, so over any run of requests its share is within one request of p %.
 */
export function createMirroringHandler(options: MirroringOptions): Middleware {
  const { main, mirrors, log, service } = options;
  const mirrorBody = options.mirrorBody ?? true;
  const maxBodySize = options.maxBodySize ?? -1;
  const counts = new Float64Array(mirrors.length);
  let total = 0;

  /** The mirrors that get this request (and counts them); empty for most requests at low percentages. */
  function sample(): MirrorTarget[] | undefined {
    total++;
    let chosen: MirrorTarget[] | undefined;
    for (let i = 0; i < mirrors.length; i++) {
      if (counts[i]! * 100 < total * mirrors[i]!.percent) {
        counts[i]!++;
        (chosen ??= []).push(mirrors[i]!);
      }
    }
    return chosen;
  }

  function send(targets: readonly MirrorTarget[], ctx: WharfContext, copy: RequestCopy, body: MirrorBody): void {
    for (const target of targets) {
      const mirrorCtx = mirrorContext(ctx, copy, body);
      target.handler(mirrorCtx, endOfChain).catch((err: unknown) => {
        log?.debug({ err, service, mirror: target.name }, 'mirrored request failed');
      });
    }
  }

  return async function mirroring(ctx: WharfContext, next: Next): Promise<void> {
    const targets = sample();
    // A protocol switch is a tunnel with the client: nothing a mirror could be given a copy of.
    if (targets === undefined || isUpgrade(ctx.req)) return main(ctx, next);
    const body = mirrorBody ? await bodyToMirror(ctx, maxBodySize) : NO_BODY;
    if (body === TOO_LARGE) {
      log?.debug({ service }, 'request not mirrored: its body is larger than maxBodySize');
      return main(ctx, next);
    }
    const copy = copyRequest(ctx.req);
    await main(ctx, next);
    // As Traefik: a client that left before its answer was complete has no request to mirror.
    if (!ctx.res.writableEnded && isClientGone(ctx.req, ctx.res)) return;
    send(targets, ctx, copy, body);
  };
}

const RESOLVED = Promise.resolve();
const endOfChain = (): Promise<void> => RESOLVED;

function copyRequest(req: IncomingMessage): RequestCopy {
  const headers = { ...req.headers };
  // The mirror's body (if any) goes out with its own length; and nobody waits for a 100 Continue there.
  delete headers['content-length'];
  delete headers['transfer-encoding'];
  delete headers.expect;
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers,
    httpVersionMajor: req.httpVersionMajor,
    httpVersionMinor: req.httpVersionMinor,
    encrypted: (req.socket as Partial<{ encrypted: boolean }> | null)?.encrypted === true,
  };
}

/**
 * The body to mirror, read now (before the main service streams it away) and handed to the main service as well;
 * TOO_LARGE past maxBodySize, the main service then getting what was read followed by the rest.
 */
async function bodyToMirror(ctx: WharfContext, maxBodySize: number): Promise<MirrorBody | typeof TOO_LARGE> {
  const held = ctx.wharf.requestBody;
  if (held !== undefined) {
    // A middleware read it already (buffering, retry): mirrored when it can be sent again.
    if (!isReplayableBody(held)) return TOO_LARGE;
    return maxBodySize >= 0 && held.length > maxBodySize ? TOO_LARGE : held;
  }
  if (!hasRequestBody(ctx.req)) return NO_BODY;
  const { bytes, rest } = await readUpTo(ctx.req, maxBodySize);
  if (rest) {
    replaceRequestBody(ctx, Readable.from(prefixed(bytes, ctx.req)));
    return TOO_LARGE;
  }
  replaceRequestBody(ctx, bytes);
  return bytes;
}

/** Reads the body whole, or its first limit + 1 bytes (rest = true: more follows, left in the stream). */
export function readUpTo(req: IncomingMessage, limit: number): Promise<{ bytes: Buffer; rest: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (rest: boolean): void => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
      if (rest) req.pause();
      resolve({ bytes: Buffer.concat(chunks, size), rest });
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (limit >= 0 && size > limit) done(true);
    };
    const onEnd = (): void => done(false);
    const onError = (err: Error): void => reject(err);
    const onAborted = (): void => reject(new Error('client closed the connection while sending the body'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
  });
}

async function* prefixed(head: Buffer, rest: IncomingMessage): AsyncGenerator<Buffer> {
  yield head;
  for await (const chunk of rest) yield chunk as Buffer;
}

/**
 * A context for one mirror: the copied request, a response nobody reads, and the client's facts (address, trust,
 * router) so the mirror sees the same forwarded headers as the main service. Never tied to the client connection:
 * the client leaving does not cut the mirror's exchange.
 */
function mirrorContext(ctx: WharfContext, copy: RequestCopy, body: MirrorBody): WharfContext {
  const socket = { destroyed: false, encrypted: copy.encrypted, remoteAddress: ctx.wharf.clientIP } as unknown as Socket;
  const req = {
    method: copy.method,
    url: copy.url,
    headers: { ...copy.headers },
    httpVersionMajor: copy.httpVersionMajor,
    httpVersionMinor: copy.httpVersionMinor,
    socket,
  } as unknown as IncomingMessage;
  const res = new DiscardedResponse(socket) as unknown as ServerResponse;
  const wharf: WharfState = {
    ...ctx.wharf,
    upstream: undefined,
    serviceAnswer: undefined,
    rejectedBy: undefined,
    retryAttempts: 0,
    retry: undefined,
    requestBody: body === NO_BODY ? undefined : body,
    upgradeHead: undefined,
    responseHeaderHooks: undefined,
    writer: new DiscardingWriter(),
    target: undefined,
  };
  const mirror = Object.create(Object.getPrototypeOf(ctx) as object) as WharfContext & Record<string, unknown>;
  mirror.req = req;
  mirror.res = res;
  mirror.wharf = wharf;
  mirror.respond = undefined;
  mirror.originalUrl = copy.url;
  return mirror;
}

/** The response of a mirror's exchange: the proxy writes through DiscardingWriter; this answers what it asks. */
class DiscardedResponse extends EventEmitter {
  headersSent = false;
  writableEnded = false;
  statusCode = 200;
  constructor(readonly socket: Socket) {
    super();
  }
  writeHead(): this {
    this.headersSent = true;
    return this;
  }
  write(): boolean {
    return true;
  }
  end(): this {
    this.writableEnded = true;
    return this;
  }
  setHeader(): this {
    return this;
  }
  getHeader(): undefined {
    return undefined;
  }
  getHeaders(): OutgoingHttpHeaders {
    return {};
  }
  getHeaderNames(): string[] {
    return [];
  }
  hasHeader(): boolean {
    return false;
  }
  removeHeader(): void {}
  addTrailers(): void {}
  writeContinue(): void {}
  writeProcessing(): void {}
  writeEarlyHints(): void {}
}

/** Where a mirror's answer goes: read at the upstream's pace and dropped. */
class DiscardingWriter implements ResponseWriter {
  headersSent = false;
  writeHead(): void {
    this.headersSent = true;
  }
  write(): boolean {
    return true;
  }
  end(): void {}
  abort(): void {}
  onceDrain(callback: () => void): void {
    callback();
  }
}
