// Body bytes each way for the traefik_*_bytes_total series, counted where every writer and reader passes.
import type { IncomingMessage, ServerResponse } from 'node:http';

const BYTES = Symbol('metrics.bytes');
const PREVIOUS_PUSH = Symbol('metrics.push');
const PREVIOUS_WRITE = Symbol('metrics.write');
const PREVIOUS_END = Symbol('metrics.end');
const IN_END = Symbol('metrics.inEnd');

type Call = (...args: unknown[]) => unknown;
type CountedRequest = IncomingMessage & { [BYTES]?: number; [PREVIOUS_PUSH]: Call };
type CountedResponse = ServerResponse & { [BYTES]?: number; [PREVIOUS_WRITE]: Call; [PREVIOUS_END]: Call; [IN_END]: boolean };

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return (chunk as Uint8Array | null | undefined)?.byteLength ?? 0;
}

/*
 * One shared function per hook finds its counter and the function it replaced on the request or response itself:
 * no closure per request (closures per request cost several µs of garbage collection in the access log's
 * measurements). Whoever wrapped before (the access log) is called in turn. `arguments` goes to apply untouched.
 */
/* eslint-disable prefer-rest-params, prefer-spread -- `arguments` is passed to apply untouched: no array per call */
function countedPush(this: CountedRequest, chunk: unknown): unknown {
  this[BYTES]! += byteLength(chunk, arguments[1]);
  return this[PREVIOUS_PUSH].apply(this, arguments as unknown as unknown[]);
}

function countedWrite(this: CountedResponse, chunk: unknown): unknown {
  // HTTP/2's compatibility end() writes its chunk through write(): counted once, in end.
  if (!this[IN_END]) this[BYTES]! += byteLength(chunk, arguments[1]);
  return this[PREVIOUS_WRITE].apply(this, arguments as unknown as unknown[]);
}

function countedEnd(this: CountedResponse, chunk?: unknown): unknown {
  if (typeof chunk !== 'function') this[BYTES]! += byteLength(chunk, arguments[1]);
  this[IN_END] = true;
  try {
    return this[PREVIOUS_END].apply(this, arguments as unknown as unknown[]);
  } finally {
    this[IN_END] = false;
  }
}
/* eslint-enable prefer-rest-params, prefer-spread */

/** Counts the request body as Node's parser hands it over (whoever reads it, without starting its flow). */
export function countRequestBytes(req: IncomingMessage): void {
  const r = req as CountedRequest;
  r[BYTES] = 0;
  const length = req.headers['content-length'];
  // HTTP/2 bodies carry neither header: counted whenever they come.
  if (req.httpVersionMajor < 2 && req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return;
  r[PREVIOUS_PUSH] = req.push as Call;
  req.push = countedPush as IncomingMessage['push'];
}

/** Counts the response body on the response's own write/end: the proxy, Koa and plugins all write through them. */
export function countResponseBytes(res: ServerResponse): void {
  const r = res as CountedResponse;
  r[BYTES] = 0;
  r[IN_END] = false;
  r[PREVIOUS_WRITE] = res.write as Call;
  r[PREVIOUS_END] = res.end as Call;
  res.write = countedWrite as ServerResponse['write'];
  res.end = countedEnd as ServerResponse['end'];
}

export function requestBytes(req: IncomingMessage): number {
  return (req as CountedRequest)[BYTES] ?? 0;
}

export function responseBytes(res: ServerResponse): number {
  return (res as CountedResponse)[BYTES] ?? 0;
}
