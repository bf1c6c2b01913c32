// The headers of the authentication sub-request, as Traefik's forwardAuth builds them (writeHeader and, when
// trustForwardHeader is unset, the legacy oldWriteHeader) from the request its entrypoint handed on.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { readURL, requestURI } from '@wharf/gourl';
import type { WharfState } from '@wharf/core';

export type OutHeaders = Record<string, string | string[]>;

/** Traefik's managed X-headers (forwardedheaders.XHeadersSet), lower-cased. */
export const MANAGED_X_HEADERS: readonly string[] = [
  'x-forwarded-proto',
  'x-forwarded-scheme',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-forwarded-uri',
  'x-forwarded-method',
  'x-forwarded-prefix',
  'x-forwarded-tls-client-cert',
  'x-forwarded-tls-client-cert-info',
  'x-scheme',
  'x-real-ip',
];
const MANAGED = new Set(MANAGED_X_HEADERS);

/**
 * Forwarded headers Wharf's entrypoint already drops from untrusted peers (so any present were set by a plugin
 * earlier in the chain, e.g. stripPrefix's X-Forwarded-Prefix); Traefik's entrypoint strips the others too.
 */
const SET_BY_PLUGINS = new Set(['x-forwarded-prefix', 'x-forwarded-uri', 'x-forwarded-method', 'x-forwarded-tls-client-cert', 'x-forwarded-tls-client-cert-info']);

/** One of Traefik's X-headers, underscore variants included (X_Forwarded_For), as isManagedXHeader. */
export function isManagedXHeader(name: string): boolean {
  if (name.charCodeAt(0) !== 0x78 /* x */) return false;
  if (MANAGED.has(name)) return true;
  return name.includes('_') && MANAGED.has(name.replace(/_/g, '-'));
}

/**
 * Never copied: what Go keeps out of the header map or writes itself (Host, Content-Length, Transfer-Encoding,
 * Trailer), forwardAuth's hop-by-hop list (Connection, Keep-Alive, TE, Trailers, Upgrade), and Expect, which the
 * HTTP client cannot send (the gateway answered it).
 */
const NEVER_COPIED = new Set(['host', 'content-length', 'transfer-encoding', 'trailer', 'connection', 'keep-alive', 'te', 'trailers', 'upgrade', 'expect']);

const gatewayHostname = hostname();

/** How the sub-request headers are built; fixed per middleware. */
export interface HeaderPolicy {
  /** trustForwardHeader: true, false, or undefined for Traefik's legacy behaviour. */
  trust: boolean | undefined;
  /** authRequestHeaders lower-cased (with the X-headers added when trust is true), or undefined for all. */
  allowed: ReadonlySet<string> | undefined;
}

export function headerPolicy(trust: boolean | undefined, authRequestHeaders: readonly string[]): HeaderPolicy {
  if (authRequestHeaders.length === 0) return { trust, allowed: undefined };
  const allowed = new Set(authRequestHeaders.map((h) => h.toLowerCase()));
  if (trust === true) for (const name of MANAGED_X_HEADERS) allowed.add(name);
  return { trust, allowed };
}

type PeerState = Pick<WharfState, 'clientIP' | 'trustForwarded'>;

/** The sub-request headers for `req` (not modified). */
export function authRequestHeaders(req: IncomingMessage, state: PeerState, policy: HeaderPolicy): OutHeaders {
  const out = entrypointView(req, state, policy.trust === false);
  if (policy.allowed !== undefined) filter(out, policy.allowed);
  if (policy.trust === undefined) setLegacyForwarded(out, req, state);
  else setForwarded(out, req, state);
  return out;
}

/**
 * The request headers as Traefik's forwardAuth sees them once its entrypoint ran: Connection-named and hop-by-hop
 * fields gone, forwarded headers of an untrusted peer removed and replaced by the entrypoint's own (X-Real-Ip,
 * X-Forwarded-Proto/-Port/-Host/-Server). `dropForwarded` (trustForwardHeader=false) removes every X-header instead.
 */
function entrypointView(req: IncomingMessage, state: PeerState, dropForwarded: boolean): OutHeaders {
  const incoming = req.headers;
  const named = connectionNamed(incoming.connection);
  const trustedPeer = state.trustForwarded;
  const out: OutHeaders = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || NEVER_COPIED.has(name)) continue;
    const managed = isManagedXHeader(name);
    if (managed && (dropForwarded || (!trustedPeer && !SET_BY_PLUGINS.has(name)))) continue;
    // The entrypoint honours Connection options, except for the X-headers it owns.
    if (named !== undefined && !managed && named.includes(name)) continue;
    out[name] = value;
  }
  if (dropForwarded) return out;
  out['x-real-ip'] ??= state.clientIP;
  out['x-forwarded-proto'] ??= entrypointProto(req);
  out['x-forwarded-port'] ??= forwardedPort(incoming.host, first(out['x-forwarded-proto']), isTLS(req));
  if (incoming.host !== undefined && incoming.host !== '') out['x-forwarded-host'] ??= incoming.host;
  out['x-forwarded-server'] = gatewayHostname;
  return out;
}

/** filterForwardRequestHeaders: only the listed headers, when a list is given. */
function filter(out: OutHeaders, allowed: ReadonlySet<string>): void {
  for (const name in out) if (!allowed.has(name)) delete out[name];
}

/** writeHeader (trustForwardHeader set): the peer appended to X-Forwarded-For; the rest only when absent. */
function setForwarded(out: OutHeaders, req: IncomingMessage, state: PeerState): void {
  const prior = out['x-forwarded-for'];
  out['x-forwarded-for'] = prior === undefined ? state.clientIP : `${joined(prior)}, ${state.clientIP}`;
  out['x-forwarded-method'] ??= req.method ?? 'GET';
  out['x-forwarded-proto'] ??= isTLS(req) ? 'https' : 'http';
  out['x-forwarded-port'] ??= forwardedPort(req.headers.host, first(out['x-forwarded-proto']), isTLS(req));
  out['x-forwarded-host'] ??= req.headers.host ?? '';
  out['x-forwarded-uri'] ??= uriOf(req);
}

/** oldWriteHeader (trustForwardHeader unset): these five are always the gateway's own; other X-headers pass. */
function setLegacyForwarded(out: OutHeaders, req: IncomingMessage, state: PeerState): void {
  out['x-forwarded-for'] = state.clientIP;
  out['x-forwarded-proto'] = isTLS(req) ? 'https' : 'http';
  out['x-forwarded-method'] = req.method ?? 'GET';
  out['x-forwarded-host'] = req.headers.host ?? '';
  out['x-forwarded-uri'] = uriOf(req);
}

/** URL.RequestURI() of the request as it stands in the chain (before or after a path rewrite). */
function uriOf(req: IncomingMessage): string {
  const url = readURL(req);
  return url === undefined ? (req.url ?? '/') : requestURI(url);
}

/** Whether the client connection is TLS; req.socket is null once Node let go of it (a re-dispatched request). */
function isTLS(req: IncomingMessage): boolean {
  return (req.socket as Partial<TLSSocket> | null)?.encrypted === true;
}

/** The entrypoint's X-Forwarded-Proto: ws/wss for a WebSocket handshake. */
function entrypointProto(req: IncomingMessage): string {
  const tls = isTLS(req);
  if (hasToken(req.headers.connection, 'upgrade') && hasToken(req.headers.upgrade, 'websocket')) return tls ? 'wss' : 'ws';
  return tls ? 'https' : 'http';
}

/** The Host header's port, else 443 for https/wss or a TLS connection, else 80 (Traefik's forwardedPort). */
function forwardedPort(host: string | undefined, proto: string | undefined, tls: boolean): string {
  if (host !== undefined) {
    const colon = host.lastIndexOf(':');
    if (colon !== -1 && colon > host.lastIndexOf(']') && colon < host.length - 1) return host.slice(colon + 1);
  }
  return proto === 'https' || proto === 'wss' || tls ? '443' : '80';
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function joined(value: string | string[]): string {
  return typeof value === 'string' ? value : value.join(', ');
}

function hasToken(value: string | string[] | undefined, token: string): boolean {
  if (value === undefined) return false;
  for (const part of joined(value).split(',')) if (part.trim().toLowerCase() === token) return true;
  return false;
}

/** Lower-cased names a Connection header lists, or undefined for the usual keep-alive/close. */
function connectionNamed(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'keep-alive' || lower === 'close') return undefined;
  return lower.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Go's http.CanonicalHeaderKey: X-Auth-User for x-auth-user; a name with a non-token byte is left alone. */
export function canonicalHeaderKey(name: string): string {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return name;
  let out = '';
  let upper = true;
  for (const ch of name) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}

/** Header values as a list (undici and Node give one string or several). */
export function valuesOf(headers: IncomingHttpHeaders, name: string): string[] | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value : [value];
}
