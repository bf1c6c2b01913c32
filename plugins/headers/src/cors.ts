// CORS as Traefik's headers middleware does it (pkg/middlewares/headers/header.go): preflights answered by the
// middleware itself, allowed origins sent back on every other response, Vary: Origin on request.
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { compileGoRegexp, matchesGo, type GoRegexp } from '@wharf/gourl';
import type { HeadersConfig } from './schema.js';

export interface Cors {
  /** Whether anything is ever added to a non-preflight response. */
  readonly touchesResponse: boolean;
  /** The headers of the answer to a preflight (besides Content-Length: 0 and status 200). */
  preflightHeaders(req: IncomingMessage, origin: string): OutgoingHttpHeaders;
  /** Adds the CORS headers to a response (proxied, or answered inside the chain). */
  editResponse(out: OutgoingHttpHeaders, origin: string): void;
}

/** An OPTIONS request with Origin and Access-Control-Request-Method (https://fetch.spec.whatwg.org/#cors-preflight-request). */
export function isPreflight(req: IncomingMessage): boolean {
  return req.method === 'OPTIONS' && !!req.headers.origin && !!req.headers['access-control-request-method'];
}

/** Compiles the CORS options once per middleware; throws naming the option for a bad regular expression. */
export function compileCors(o: HeadersConfig): Cors {
  const credentials = o.accessControlAllowCredentials === true;
  const allowHeaders = o.accessControlAllowHeaders ?? [];
  const allowMethods = o.accessControlAllowMethods ?? [];
  const expose = o.accessControlExposeHeaders ?? [];
  const origins = o.accessControlAllowOriginList ?? [];
  const regexes = (o.accessControlAllowOriginListRegex ?? []).map((p, i) => compileGoRegexp(`accessControlAllowOriginListRegex[${i}]`, p));
  const matchOrigin = originMatcher(origins, regexes, credentials);

  // With credentials a `*` cannot be sent literally: Traefik echoes what the browser asked for instead.
  const echoHeaders = credentials && allowHeaders.includes('*');
  const echoMethod = credentials && allowMethods.includes('*');
  const allowHeadersValue = allowHeaders.join(',');
  const allowMethodsValue = allowMethods.join(',');
  const exposeValue = expose.length > 0 && !(credentials && expose.includes('*')) ? expose.join(',') : undefined;
  const maxAge = o.accessControlMaxAge === undefined ? undefined : String(o.accessControlMaxAge);
  const vary = o.addVaryHeader === true;

  return {
    touchesResponse: origins.length > 0 || regexes.length > 0 || credentials || exposeValue !== undefined || vary,

    preflightHeaders(req, origin) {
      const out: OutgoingHttpHeaders = {};
      if (credentials) out['access-control-allow-credentials'] = 'true';
      if (echoHeaders) {
        const asked = req.headers['access-control-request-headers'];
        if (asked) out['access-control-allow-headers'] = asked;
      } else if (allowHeadersValue !== '') out['access-control-allow-headers'] = allowHeadersValue;
      if (echoMethod) out['access-control-allow-methods'] = firstLine(req, 'access-control-request-method');
      else if (allowMethodsValue !== '') out['access-control-allow-methods'] = allowMethodsValue;
      const allowed = matchOrigin(origin);
      if (allowed !== undefined) out['access-control-allow-origin'] = allowed;
      if (maxAge !== undefined) out['access-control-max-age'] = maxAge;
      if (exposeValue !== undefined) out['access-control-expose-headers'] = exposeValue;
      return out;
    },

    editResponse(out, origin) {
      // Traefik sets these whatever the service sent (a service's own Access-Control-Allow-Origin is replaced).
      const allowed = matchOrigin(origin);
      if (allowed !== undefined) out['access-control-allow-origin'] = allowed;
      if (credentials) out['access-control-allow-credentials'] = 'true';
      if (exposeValue !== undefined) out['access-control-expose-headers'] = exposeValue;
      if (vary) addVaryOrigin(out);
    },
  };
}

/**
 * Traefik's matchOrigin: the first list entry equal to the origin or `*` wins (`*` answers `*`, or the origin itself
 * with credentials), then the regular expressions. The origin is '' when the request has none, so a `*` still
 * answers (with credentials: an empty Access-Control-Allow-Origin, as Traefik sends it).
 */
function originMatcher(list: readonly string[], regexes: readonly GoRegexp[], credentials: boolean): (origin: string) => string | undefined {
  const position = new Map<string, number>();
  list.forEach((item, i) => {
    if (!position.has(item)) position.set(item, i);
  });
  const star = position.get('*') ?? -1;
  return (origin) => {
    const exact = position.get(origin) ?? -1;
    if (exact >= 0 && (star < 0 || exact < star)) return origin;
    if (star >= 0) return credentials ? origin : '*';
    for (const re of regexes) if (matchesGo(re, origin)) return origin;
    return undefined;
  };
}

/** Vary: Origin, appended to the service's Vary unless that is exactly `Origin` (Traefik's rule, comma without space). */
function addVaryOrigin(out: OutgoingHttpHeaders): void {
  const current = out.vary;
  const first = Array.isArray(current) ? current[0] : current === undefined ? undefined : String(current);
  if (first === 'Origin') return;
  out.vary = first ? `${first},Origin` : 'Origin';
}

/** Go's Header.Get: the first line of a header sent several times (Node joins them with ", "). */
function firstLine(req: IncomingMessage, name: string): string {
  return req.headersDistinct[name]?.[0] ?? '';
}
