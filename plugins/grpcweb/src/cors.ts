// CORS as grpcWeb does it in Traefik (rs/cors v1.7 inside improbable-eng's wrapper): origins from allowOrigins are
// echoed with credentials allowed; any requested header is allowed; preflights are answered here (200, max age 600).
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { WharfContext } from '@wharf/core';

export interface Cors {
  /** Headers for a gRPC-Web request from `origin` (Vary always; the rest only for an allowed origin). */
  actualHeaders(origin: string | undefined): OutgoingHttpHeaders;
  /** The preflight answer's headers. */
  preflightHeaders(req: IncomingMessage): OutgoingHttpHeaders;
}

// rs/cors' default allowed methods; OPTIONS is always allowed.
const ALLOWED_METHODS = new Set(['GET', 'POST', 'HEAD', 'OPTIONS']);
const MAX_AGE = '600';
const VARY_ACTUAL = 'Origin';
const VARY_PREFLIGHT = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';

/** `*` allows every origin (echoed, as credentials are allowed); otherwise exact string matches. */
export function corsFor(allowOrigins: readonly string[]): Cors {
  const any = allowOrigins.includes('*');
  const exact = new Set(allowOrigins);
  const allowed = (origin: string): boolean => any || exact.has(origin);
  return {
    actualHeaders(origin) {
      if (origin === undefined || origin === '' || !allowed(origin)) return { vary: VARY_ACTUAL };
      return { vary: VARY_ACTUAL, 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true' };
    },
    preflightHeaders(req) {
      const headers: OutgoingHttpHeaders = { vary: VARY_PREFLIGHT };
      const origin = req.headers.origin;
      const method = (firstValue(req.headers['access-control-request-method']) ?? '').toUpperCase();
      if (origin === undefined || origin === '' || !allowed(origin) || !ALLOWED_METHODS.has(method)) return headers;
      headers['access-control-allow-origin'] = origin;
      headers['access-control-allow-methods'] = method;
      const requested = canonicalList(req.headers['access-control-request-headers']);
      if (requested !== '') headers['access-control-allow-headers'] = requested;
      headers['access-control-allow-credentials'] = 'true';
      headers['access-control-max-age'] = MAX_AGE;
      return headers;
    },
  };
}

/** A CORS preflight for a gRPC-Web call: OPTIONS asking for a method and for the x-grpc-web header. */
export function isGrpcWebPreflight(req: IncomingMessage): boolean {
  return (
    req.method === 'OPTIONS' &&
    req.headers['access-control-request-method'] !== undefined &&
    (req.headers['access-control-request-headers']?.toLowerCase().includes('x-grpc-web') ?? false)
  );
}

/** The preflight stops here, as in Traefik: 200, no body, the CORS headers (none for an origin not allowed). */
export function answerPreflight(ctx: WharfContext, cors: Cors): void {
  ctx.body = null; // first, so Koa sends no Content-Type and keeps the status below
  ctx.status = 200;
  ctx.set(cors.preflightHeaders(ctx.req) as Record<string, string | string[]>);
  ctx.set('Content-Length', '0');
}

/** Header names as Go's CanonicalMIMEHeaderKey writes them (x-grpc-web → X-Grpc-Web), comma-joined. */
function canonicalList(value: string | undefined): string {
  if (value === undefined) return '';
  return value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
    .map(canonicalName)
    .join(', ');
}

export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
