// How a request header reads to the headers middleware, as in Traefik: its entrypoint has already replaced the
// X-Forwarded-* family of untrusted peers (and filled missing ones) before any middleware runs, so
// `sslProxyHeaders: {X-Forwarded-Proto: https}` or `hostsProxyHeaders: [X-Forwarded-Host]` cannot be forged by a
// client the entrypoint does not trust. Wharf writes those headers at the proxy step instead, so this reads them
// the way Traefik's middleware would see them.
import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import type { TLSSocket } from 'node:tls';
import type { WharfContext } from '@wharf/core';

/** Reads one request header (by lower-cased name) as the middleware sees it; undefined when absent or empty. */
export type HeaderReader = (ctx: WharfContext) => string | undefined;

const serverName = hostname();

/** Traefik's XHeadersSet: what its entrypoint deletes for an untrusted peer. */
const MANAGED = new Set([
  'x-forwarded-proto', 'x-forwarded-scheme', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-server',
  'x-forwarded-uri', 'x-forwarded-method', 'x-forwarded-prefix', 'x-forwarded-tls-client-cert', 'x-forwarded-tls-client-cert-info',
  'x-scheme', 'x-real-ip',
]);

/** The header's first value, as Go's Header.Get (Node joins repeated lines with ", "; arrays for set-cookie only). */
export function firstValue(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text === '' ? undefined : text;
}

export function isTLS(req: IncomingMessage): boolean {
  return (req.socket as Partial<TLSSocket> | null)?.encrypted === true;
}

/** Host as Go's r.Host: the Host header (HTTP/1) or :authority (HTTP/2), port included. */
export function requestHost(req: IncomingMessage): string {
  return req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? '';
}

function isWebSocket(req: IncomingMessage): boolean {
  return (req as IncomingMessage & { upgrade?: boolean }).upgrade === true && /websocket/i.test(req.headers.upgrade ?? '');
}

/** What Traefik's entrypoint writes when the header is missing or was dropped (undefined: it writes nothing). */
function entrypointValue(name: string, ctx: WharfContext): string | undefined {
  const req = ctx.req;
  switch (name) {
    case 'x-forwarded-proto':
      if (isWebSocket(req)) return isTLS(req) ? 'wss' : 'ws';
      return isTLS(req) ? 'https' : 'http';
    case 'x-forwarded-host':
      return requestHost(req) || undefined;
    case 'x-forwarded-port': {
      const port = /:(\d+)$/.exec(requestHost(req));
      return port ? port[1] : isTLS(req) ? '443' : '80';
    }
    case 'x-real-ip':
      return ctx.wharf.clientIP;
    default:
      return undefined;
  }
}

/** Builds the reader for one header name, chosen once when the middleware is created. */
export function headerReader(name: string): HeaderReader {
  const key = name.toLowerCase();
  const canonical = key.replaceAll('_', '-');
  if (!MANAGED.has(canonical)) return (ctx) => firstValue(ctx.req.headers[key]);
  // Traefik always overwrites X-Forwarded-Server with its own host name.
  if (canonical === 'x-forwarded-server') return () => serverName;
  // An underscore spelling is deleted for untrusted peers and never filled in.
  if (key !== canonical) return (ctx) => (ctx.wharf.trustForwarded ? firstValue(ctx.req.headers[key]) : undefined);
  return (ctx) => (ctx.wharf.trustForwarded ? firstValue(ctx.req.headers[key]) : undefined) ?? entrypointValue(key, ctx);
}

/** The forwarded headers Wharf's proxy step writes itself (core's setForwardedHeaders). */
const PROXY_WRITTEN = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-server', 'x-real-ip']);

/**
 * customRequestHeaders that name forwarded headers, as WharfState.forwardedOverrides: in Traefik the entrypoint
 * writes those before the middlewares and the proxy keeps what they set, appending only the peer to
 * X-Forwarded-For (and leaving it out when it was emptied). A custom Host leaves X-Forwarded-Host and -Port as the
 * entrypoint derived them from the original Host. Undefined when no override is needed; read before the request
 * headers are changed.
 */
export function forwardedOverrides(custom: Record<string, string> | undefined): ((ctx: WharfContext) => Record<string, string>) | undefined {
  const fixed: Record<string, string> = {};
  let forwardedFor: string | undefined;
  let hostSet = false;
  for (const [name, value] of Object.entries(custom ?? {})) {
    const key = name.toLowerCase();
    if (key === 'host' && value !== '') hostSet = true;
    if (!PROXY_WRITTEN.has(key)) continue;
    if (key === 'x-forwarded-for' && value !== '') forwardedFor = value;
    else fixed[key] = value;
  }
  const fromOriginalHost = hostSet ? ['x-forwarded-host', 'x-forwarded-port'].filter((k) => !(k in fixed)).map((k) => [k, headerReader(k)] as const) : [];
  if (forwardedFor === undefined && fromOriginalHost.length === 0) return Object.keys(fixed).length > 0 ? () => fixed : undefined;
  return (ctx) => {
    const out = { ...fixed };
    if (forwardedFor !== undefined) out['x-forwarded-for'] = `${forwardedFor}, ${ctx.wharf.clientIP}`;
    for (const [key, read] of fromOriginalHost) out[key] = read(ctx) ?? '';
    return out;
  };
}
