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
