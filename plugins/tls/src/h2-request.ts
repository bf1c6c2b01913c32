// Presents an HTTP/2 compat request and response in their HTTP/1.1 shape, so the core, its plugins and the proxy
// handle them exactly like HTTP/1.1 ones (RFC 9113 §8.3: pseudo-headers are not header fields; §8.2.2: no status text).
import type { IncomingHttpHeaders } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';

// What acts on the stream (closing it must not close the whole connection); everything else is about the connection.
const STREAM_SCOPED = new Set<PropertyKey>(['on', 'once', 'off', 'removeListener', 'emit', 'end', 'destroy', 'destroyed', 'writable', 'readable', 'setTimeout', 'write', 'read', 'pause', 'resume']);

/**
 * `headers` without pseudo-headers (the proxy would forward them), with Host from `:authority`, and
 * `Transfer-Encoding: chunked` standing for a body of unknown length, as HTTP/1.1 would frame it.
 * The compat request still reads method and path from its own pseudo-headers.
 */
export function adaptHttp2Request(req: Http2ServerRequest, connection: Socket): void {
  const original = req.headers;
  const headers: IncomingHttpHeaders = {};
  for (const name in original) if (name.charCodeAt(0) !== 0x3a /* ':' */) headers[name] = original[name];
  const authority = original[':authority'];
  if (headers.host === undefined && typeof authority === 'string') headers.host = authority;
  if (headers['content-length'] === undefined && !req.stream.endAfterHeaders) headers['transfer-encoding'] = 'chunked';
  Object.defineProperty(req, 'headers', { value: headers, writable: true, configurable: true, enumerable: true });
  Object.defineProperty(req, 'headersDistinct', { get: () => distinct(headers), configurable: true, enumerable: true });
  Object.defineProperty(req, 'socket', { value: stableSocket(req.socket, connection), configurable: true, enumerable: true });
}

/**
 * Node's per-stream socket proxy forgets the connection once the stream closed, so what is read after the response
 * (the access log's TLSVersion, TLSCipher, client port, scheme) would be missing: connection facts come from the
 * TLS socket itself, stream operations stay on Node's proxy.
 */
function stableSocket(streamSocket: Http2ServerRequest['socket'], connection: Socket): Http2ServerRequest['socket'] {
  return new Proxy(streamSocket, {
    get(target, prop) {
      if (STREAM_SCOPED.has(prop)) return Reflect.get(target, prop) as unknown;
      const value = Reflect.get(connection, prop) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(connection) : value;
    },
  });
}

// Connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2); Node would drop them with a process warning.
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/**
 * `writeHead(status, statusMessage, headers)` without the status text, which HTTP/2 has no place for, and
 * `setHeader` ignoring connection-specific fields (the core sets `Connection: close` while draining; over HTTP/2
 * the GOAWAY sent at shutdown says it).
 */
export function adaptHttp2Response(res: Http2ServerResponse): void {
  const writeHead = res.writeHead.bind(res) as (status: number, headers?: unknown) => Http2ServerResponse;
  const withoutText = (status: number, textOrHeaders?: unknown, headers?: unknown) =>
    typeof textOrHeaders === 'string' || textOrHeaders === undefined ? writeHead(status, headers) : writeHead(status, textOrHeaders);
  Object.defineProperty(res, 'writeHead', { value: withoutText, writable: true, configurable: true });
  const setHeader = res.setHeader.bind(res);
  const withoutConnectionFields = (name: string, value: number | string | readonly string[]) => (CONNECTION_SPECIFIC.has(name.toLowerCase()) ? res : setHeader(name, value));
  Object.defineProperty(res, 'setHeader', { value: withoutConnectionFields, writable: true, configurable: true });
}

function distinct(headers: IncomingHttpHeaders): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value : [value];
  return out;
}
