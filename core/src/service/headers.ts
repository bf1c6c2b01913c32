// Header rewriting for proxying: hop-by-hop removal (RFC 9110 §7.6.1) and the X-Forwarded-* family.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import type { TLSSocket } from 'node:tls';
import type { WharfState } from '../context.js';

/** Headers handed to undici for the upstream request. */
export type UpstreamRequestHeaders = Record<string, string | string[]>;

const gatewayHostname = hostname();

/**
 * Builds the upstream request headers from `req.headers` (as plugins left them) without touching
 * them. Host is the client's when `passHostHeader`, otherwise left out so undici sends the
 * upstream's own host. Connection and Upgrade are not copied: undici writes them itself from its
 * `upgrade` option when tunnelling.
 */
export function prepareRequestHeaders(
  req: IncomingMessage,
  state: Pick<WharfState, 'clientIP' | 'trustForwarded' | 'forwardedOverrides'>,
  passHostHeader: boolean,
): UpstreamRequestHeaders {
  const incoming = req.headers;
  const named = connectionOptions(incoming.connection);
  const out: UpstreamRequestHeaders = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || isRequestHopByHop(name)) continue;
    if (named !== undefined && named.includes(name) && !isShielded(name)) continue;
    if (!passHostHeader && name === 'host') continue;
    out[name] = value;
  }
  // TE is hop-by-hop, but the trailers wish is end-to-end (gRPC needs it): re-announce it, as Go's proxy does.
  if (hasToken(incoming.te, 'trailers')) out.te = 'trailers';
  setForwardedHeaders(out, req, state);
  if (state.forwardedOverrides !== undefined) applyOverrides(out, state.forwardedOverrides);
  return out;
}

/** Forwarded headers a middleware set (WharfState.forwardedOverrides) win over the gateway's own. */
function applyOverrides(out: UpstreamRequestHeaders, overrides: Record<string, string>): void {
  for (const name in overrides) {
    const value = overrides[name]!;
    if (value === '') delete out[name];
    else out[name] = value;
  }
}

/**
 * RFC 9110 §7.6.1 hop-by-hop fields, plus Expect: undici cannot send it, so Node's server
 * answers 100 Continue itself (§10.1.1 lets a proxy do so) and the body simply follows.
 */
function isRequestHopByHop(name: string): boolean {
  switch (name) {
    case 'connection':
    case 'keep-alive':
    case 'proxy-connection':
    case 'proxy-authorization':
    case 'te':
    case 'trailer':
    case 'transfer-encoding':
    case 'upgrade':
    case 'expect':
      return true;
    default:
      return false;
  }
}

/**
 * Fields a Connection option cannot remove: the forwarded headers the gateway and its plugins own
 * (Traefik CVE-2024-45410), and Host and Content-Length, which describe the request itself rather
 * than the hop (Go's proxy keeps them outside the header map for the same reason).
 */
function isShielded(name: string): boolean {
  return name.startsWith('x-forwarded-') || name === 'x-real-ip' || name === 'host' || name === 'content-length';
}

/** Lower-cased field names listed in a Connection header; undefined for the plain keep-alive/close/upgrade cases. */
function connectionOptions(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  switch (value) {
    case 'keep-alive':
    case 'Keep-Alive':
    case 'close':
    case 'Close':
    case 'upgrade':
    case 'Upgrade':
      return undefined;
  }
  const names: string[] = [];
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '') names.push(name);
  }
  return names;
}

/** Whether a comma-separated header value contains `token` (case-insensitive). */
export function hasToken(value: string | string[] | undefined, token: string): boolean {
  if (value === undefined) return false;
  const text = typeof value === 'string' ? value : value.join(',');
  if (text.length === token.length) return text.toLowerCase() === token;
  for (const part of text.split(',')) {
    if (part.trim().toLowerCase() === token) return true;
  }
  return false;
}

/**
 * X-Forwarded-* as Traefik sets them: from a trusted peer, existing values are kept (and the peer
 * appended to X-Forwarded-For); from anyone else they are replaced, so a client cannot spoof them.
 */
function setForwardedHeaders(
  out: UpstreamRequestHeaders,
  req: IncomingMessage,
  state: Pick<WharfState, 'clientIP' | 'trustForwarded'>,
): void {
  const trusted = state.trustForwarded;
  const clientIP = state.clientIP;
  if (!trusted) {
    setOwnForwardedHeaders(out, req, clientIP);
    return;
  }
  const priorFor = trusted ? out['x-forwarded-for'] : undefined;
  out['x-forwarded-for'] =
    priorFor === undefined || priorFor === '' ? clientIP : `${joinValues(priorFor)}, ${clientIP}`;

  if (!trusted || out['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = forwardedProto(req);
  const host = req.headers.host;
  if (!trusted || out['x-forwarded-host'] === undefined) {
    if (host === undefined) delete out['x-forwarded-host'];
    else out['x-forwarded-host'] = host;
  }
  if (!trusted || out['x-forwarded-port'] === undefined) {
    out['x-forwarded-port'] = forwardedPort(host, joinValues(out['x-forwarded-proto']));
  }
  out['x-forwarded-server'] = gatewayHostname;
  if (!trusted || out['x-real-ip'] === undefined) out['x-real-ip'] = clientIP;
}

/** From an untrusted peer every forwarded header is the gateway's own: written without reading the client's. */
function setOwnForwardedHeaders(out: UpstreamRequestHeaders, req: IncomingMessage, clientIP: string): void {
  const proto = forwardedProto(req);
  const host = req.headers.host;
  out['x-forwarded-for'] = clientIP;
  out['x-forwarded-proto'] = proto;
  if (host === undefined) delete out['x-forwarded-host'];
  else out['x-forwarded-host'] = host;
  out['x-forwarded-port'] = forwardedPort(host, proto);
  out['x-forwarded-server'] = gatewayHostname;
  out['x-real-ip'] = clientIP;
}

function joinValues(value: string | string[]): string {
  return typeof value === 'string' ? value : value.join(', ');
}

/** Node sets `upgrade` on requests it handed to the 'upgrade' event; @types/node does not declare it. */
export function isUpgrade(req: IncomingMessage): boolean {
  return (req as IncomingMessage & { upgrade?: boolean }).upgrade === true;
}

/** http/https, or ws/wss for WebSocket upgrades, from the client connection itself. */
function forwardedProto(req: IncomingMessage): string {
  const tls = (req.socket as Partial<TLSSocket>).encrypted === true;
  if (isUpgrade(req) && hasToken(req.headers.upgrade, 'websocket')) return tls ? 'wss' : 'ws';
  return tls ? 'https' : 'http';
}

/** The port the client addressed: the Host header's, else the scheme default (as Traefik does). */
function forwardedPort(host: string | undefined, proto: string): string {
  if (host !== undefined) {
    const colon = host.lastIndexOf(':');
    // A colon inside "[v6]" is part of the address, not a port separator.
    if (colon !== -1 && colon > host.lastIndexOf(']') && colon < host.length - 1) return host.slice(colon + 1);
  }
  return proto === 'https' || proto === 'wss' ? '443' : '80';
}

/**
 * Removes hop-by-hop fields from an upstream response in place (RFC 9110 §7.6.1). `keepTrailer`
 * keeps the Trailer announcement when trailers are relayed; `switching` keeps Upgrade and sets
 * Connection: upgrade for a relayed 101 (RFC 9110 §7.8).
 */
export function stripResponseHopByHop(headers: IncomingHttpHeaders, keepTrailer: boolean, switching: boolean): void {
  const connection = headers.connection;
  if (connection !== undefined) {
    const named = connectionOptions(typeof connection === 'string' ? connection : joinValues(connection));
    if (named !== undefined) {
      for (const name of named) {
        if (switching && name === 'upgrade') continue;
        delete headers[name];
      }
    }
    delete headers.connection;
  }
  if (headers['keep-alive'] !== undefined) delete headers['keep-alive'];
  if (headers['proxy-connection'] !== undefined) delete headers['proxy-connection'];
  if (headers['proxy-authenticate'] !== undefined) delete headers['proxy-authenticate'];
  if (headers['transfer-encoding'] !== undefined) delete headers['transfer-encoding'];
  if (headers.te !== undefined) delete headers.te;
  if (!keepTrailer && headers.trailer !== undefined) delete headers.trailer;
  if (switching) headers.connection = 'upgrade';
  else if (headers.upgrade !== undefined) delete headers.upgrade;
}
