// Label values computed from a request: each comes from a fixed set, so cardinality stays bounded.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';

const WHARF_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
// Traefik's set adds PRI (the HTTP/2 preface, RFC 7540 §11.6).
const TRAEFIK_METHODS = new Set([...WHARF_METHODS, 'PRI']);

export function methodLabel(method: string | undefined): string {
  return method && WHARF_METHODS.has(method) ? method : 'EXTENSION_METHOD';
}

export function traefikMethodLabel(method: string | undefined): string {
  return method && TRAEFIK_METHODS.has(method) ? method : 'EXTENSION_METHOD';
}

/** wharf_* names: websocket, sse or http. */
export function protocolLabel(req: IncomingMessage): string {
  if (req.headers.upgrade?.toLowerCase() === 'websocket') return 'websocket';
  if (req.headers.accept === 'text/event-stream') return 'sse';
  return 'http';
}

export type TraefikProtocol = 'websocket' | 'sse' | 'grpc-web' | 'grpc' | 'http';

/** traefik_* names: Traefik's getRequestProtocol, tested in the same order. */
export function traefikProtocolLabel(req: IncomingMessage): TraefikProtocol {
  const h = req.headers;
  if (hasToken(h.connection, 'upgrade') && hasToken(h.upgrade, 'websocket')) return 'websocket';
  if (hasToken(h.accept, 'text/event-stream')) return 'sse';
  const type = h['content-type'];
  if (type?.startsWith('application/grpc-web')) return 'grpc-web';
  if (type?.startsWith('application/grpc')) return 'grpc';
  return 'http';
}

/** A comma-separated header holds `token` (case-insensitive, as Traefik's containsHeader). */
function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  if (value.length === token.length) return value.toLowerCase() === token;
  return value.split(',').some((item) => item.trim().toLowerCase() === token);
}

// gRPC's Unknown code: what Traefik counts when a gRPC response carries no valid grpc-status.
const GRPC_UNKNOWN = '2';
// Traefik parses grpc-status as a number or a quoted code name; answers carry the number (gRPC over HTTP/2 spec).
const GRPC_CODE = /^(?:[0-9]|1[0-6])$/;

/**
 * The `code` label of a gRPC exchange: the grpc-status it relayed (trailers, else the proxied headers), else the
 * one set on the response (an answer Wharf or a middleware made).
 */
export function grpcCodeLabel(res: ServerResponse, relayedStatus: string | undefined): string {
  const status = relayedStatus ?? res.getHeader('grpc-status');
  const text = typeof status === 'number' ? String(status) : typeof status === 'string' ? status.trim() : undefined;
  return text !== undefined && GRPC_CODE.test(text) ? text : GRPC_UNKNOWN;
}

/** TLS version and cipher as Traefik names them (`1.3`, the IANA suite name), or undefined without TLS. */
export interface TLSLabels {
  readonly version: string;
  readonly cipher: string;
}

const TLS_VERSIONS: Record<string, string> = { TLSv1: '1.0', 'TLSv1.1': '1.1', 'TLSv1.2': '1.2', 'TLSv1.3': '1.3' };
// Per connection: keep-alive and HTTP/2 requests reuse their socket's answer.
const tlsBySocket = new WeakMap<object, TLSLabels>();

export function tlsLabels(req: IncomingMessage): TLSLabels | undefined {
  const socket = req.socket as Partial<TLSSocket> | null;
  if (!socket?.encrypted || typeof socket.getProtocol !== 'function') return undefined;
  let labels = tlsBySocket.get(socket);
  if (labels === undefined) {
    const cipher = socket.getCipher?.();
    labels = { version: TLS_VERSIONS[socket.getProtocol() ?? ''] ?? 'unknown', cipher: cipher?.standardName ?? 'unknown' };
    tlsBySocket.set(socket, labels);
  }
  return labels;
}

/** A request header's value for a header label: the first value, empty when absent (Go's Header.Get). */
export function headerValue(req: IncomingMessage, header: string): string {
  const value = req.headers[header];
  if (value === undefined) return '';
  return typeof value === 'string' ? value : (value[0] ?? '');
}
