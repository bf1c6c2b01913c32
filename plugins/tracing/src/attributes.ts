// HTTP semantic-convention attributes of server and client spans, as Traefik records them (pkg/observability/tracing).
import type { IncomingMessage } from 'node:http';
import { SpanStatusCode, type Attributes, type Span, type SpanStatus } from '@opentelemetry/api';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_CLIENT_PORT,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type { WharfContext } from '@wharf/core';

/** Not yet stable in the conventions package, so spelled here. */
const ATTR_HTTP_REQUEST_BODY_SIZE = 'http.request.body.size';
const REDACTED = 'REDACTED';

/** What the static options say to record, precomputed once. */
export interface Capture {
  /** Lower-cased request header names, User-Agent left out (it has its own attribute). */
  requestHeaders: readonly string[];
  responseHeaders: readonly string[];
  safeQueryParams: ReadonlySet<string>;
}

export function compileCapture(requestHeaders: readonly string[], responseHeaders: readonly string[], safeQueryParams: readonly string[]): Capture {
  return {
    requestHeaders: requestHeaders.map((h) => h.toLowerCase()).filter((h) => h !== 'user-agent'),
    responseHeaders: responseHeaders.map((h) => h.toLowerCase()),
    safeQueryParams: new Set(safeQueryParams),
  };
}

/** The query with every value not named safe replaced by REDACTED, keys sorted (Go's url.Values.Encode). */
export function safeQuery(rawQuery: string, safe: ReadonlySet<string>): string {
  if (rawQuery === '') return '';
  const params = new URLSearchParams(rawQuery);
  const out = new URLSearchParams();
  for (const key of new Set(params.keys())) {
    if (safe.has(key)) for (const value of params.getAll(key)) out.append(key, value);
    else out.append(key, REDACTED);
  }
  out.sort();
  return out.toString();
}

function splitTarget(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q === -1 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/** Go's ContentLength: the header's value, -1 for a body of unknown length, 0 without a body. */
function bodySize(req: IncomingMessage): number {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length);
  return req.headers['transfer-encoding'] !== undefined ? -1 : 0;
}

function requestHeaderAttributes(attributes: Attributes, req: IncomingMessage, names: readonly string[]): void {
  for (const name of names) {
    const values = req.headersDistinct[name];
    if (values !== undefined) attributes[`http.request.header.${name}`] = values;
  }
}

/** The server span's attributes, from the request as the client sent it. */
export function serverRequestAttributes(ctx: WharfContext, capture: Capture): Attributes {
  const req = ctx.req;
  const { path, query } = splitTarget(req.url ?? '/');
  const secure = (req.socket as { encrypted?: boolean } | null)?.encrypted === true;
  const forwardedProto = ctx.wharf.trustForwarded ? req.headers['x-forwarded-proto'] : undefined;
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: req.method ?? '',
    [ATTR_NETWORK_PROTOCOL_VERSION]: req.httpVersion === '2.0' ? '2' : req.httpVersion,
    [ATTR_HTTP_REQUEST_BODY_SIZE]: bodySize(req),
    [ATTR_URL_PATH]: path,
    [ATTR_URL_QUERY]: safeQuery(query, capture.safeQueryParams),
    [ATTR_URL_SCHEME]: typeof forwardedProto === 'string' ? forwardedProto : secure ? 'https' : 'http',
    [ATTR_USER_AGENT_ORIGINAL]: req.headers['user-agent'] ?? '',
    [ATTR_SERVER_ADDRESS]: req.headers.host ?? req.headers[':authority'] ?? '',
    [ATTR_CLIENT_ADDRESS]: ctx.wharf.clientIP,
    [ATTR_NETWORK_PEER_ADDRESS]: ctx.wharf.clientIP,
  };
  const port = req.socket?.remotePort;
  if (port !== undefined) attributes[ATTR_CLIENT_PORT] = attributes[ATTR_NETWORK_PEER_PORT] = port;
  requestHeaderAttributes(attributes, req, capture.requestHeaders);
  return attributes;
}

/** The client span's attributes: the upstream request as sent (server URL from the load balancer's choice). */
export function clientRequestAttributes(ctx: WharfContext, serverURL: string, capture: Capture): Attributes {
  const req = ctx.req;
  const { path, query } = splitTarget(req.url ?? '/');
  const server = new URL(serverURL);
  const port = server.port !== '' ? Number(server.port) : server.protocol === 'https:' ? 443 : 80;
  const safe = safeQuery(query, capture.safeQueryParams);
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: req.method ?? '',
    [ATTR_NETWORK_PROTOCOL_VERSION]: '1.1',
    [ATTR_URL_FULL]: `${server.protocol}//${server.host}${path}${safe === '' ? '' : `?${safe}`}`,
    [ATTR_URL_SCHEME]: server.protocol.slice(0, -1),
    [ATTR_USER_AGENT_ORIGINAL]: req.headers['user-agent'] ?? '',
    [ATTR_NETWORK_PEER_ADDRESS]: server.hostname,
    [ATTR_NETWORK_PEER_PORT]: port,
    [ATTR_SERVER_ADDRESS]: server.hostname,
    [ATTR_SERVER_PORT]: port,
  };
  requestHeaderAttributes(attributes, req, capture.requestHeaders);
  return attributes;
}

export type SpanRole = 'server' | 'client' | 'internal';

/** Traefik's span status for a response code: server and internal spans fail on 5xx, client spans on 4xx too. */
export function statusFor(code: number, role: SpanRole): SpanStatus {
  if (code < 100 || code >= 600) return { code: SpanStatusCode.ERROR, message: `Invalid HTTP status code ${code}` };
  if (code >= 500 || (role === 'client' && code >= 400)) return { code: SpanStatusCode.ERROR };
  return { code: SpanStatusCode.UNSET };
}

/** Records the response on a span: status code attribute, span status, captured headers. */
export function recordResponse(span: Span, code: number, headers: (name: string) => unknown, role: SpanRole, capture: Capture): void {
  const status = statusFor(code, role);
  if (status.code !== SpanStatusCode.UNSET) span.setStatus(status);
  if (code > 0) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, code);
  for (const name of capture.responseHeaders) {
    const value = headers(name);
    if (value === undefined) continue;
    span.setAttribute(`http.response.header.${name}`, Array.isArray(value) ? value.map(String) : [String(value)]);
  }
}
