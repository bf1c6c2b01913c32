// redirectRegex: redirects when a regular expression matches the request URL, to that URL rewritten by the
// replacement (Traefik's redirectRegex: www → apex, http → https, old paths → new ones).
import type { TLSSocket } from 'node:tls';
import { definePlugin, Type, type Next, type Static, type WharfContext } from '@wharf/core';
import { compileGoRegexp, matchesGo, replaceAllGo, type GoRegexp } from '@wharf/gourl';
import { goLocation, URLParseError } from './location.js';

export { goLocation, URLParseError } from './location.js';

export const schema = Type.Object(
  {
    regex: Type.String({ description: 'Regular expression (Go RE2 syntax, unanchored) matched against the request URL, e.g. ^http://www\\.(.+)' }),
    replacement: Type.String({ default: '', description: 'The new URL, with Go\'s $1, ${1}, ${name} and $$ (literal $) (default empty).' }),
    permanent: Type.Boolean({ default: false, description: 'Permanent redirection: 301 for GET, 308 for other methods, instead of 302/307 (default false).' }),
  },
  { additionalProperties: false },
);

export type RedirectRegexConfig = Static<typeof schema>;

/** The parts of the request Traefik builds its URL from. */
export interface RequestParts {
  /** Whether the connection is TLS. */
  tls: boolean;
  /** The Host header as sent (port included). */
  host: string;
  /** The request target as it is forwarded (after earlier middlewares' rewrites). */
  requestURI: string;
}

// Traefik's uriRegexp: an absolute-form target supplies the scheme, host and port itself.
const ABSOLUTE_FORM = /^(https?):\/\/(\[[\w:.]+\]|[\w._-]+)?(:\d+)?(.*)$/;

/**
 * Traefik's rawURL: scheme://host + target. The scheme is https only on a TLS connection: Traefik does not read
 * X-Forwarded-Proto here (its own test "HTTP to HTTPS, with X-Forwarded-Proto" still redirects).
 */
export function requestURL({ tls, host, requestURI }: RequestParts): string {
  let scheme = 'http';
  let port = '';
  let uri = requestURI;
  const absolute = ABSOLUTE_FORM.exec(requestURI);
  if (absolute) {
    scheme = absolute[1]!;
    if (absolute[2]) host = absolute[2];
    if (absolute[3]) port = absolute[3];
    uri = absolute[4]!;
  }
  if (tls) scheme = 'https';
  return `${scheme}://${host}${port}${uri}`;
}

/** 302/301 for GET, 307/308 for every other method (HEAD included), as Traefik's moveHandler. */
export function redirectStatus(method: string, permanent: boolean): number {
  if (method === 'GET') return permanent ? 301 : 302;
  return permanent ? 308 : 307;
}

export type Decision = { kind: 'pass' } | { kind: 'redirect'; location: string } | { kind: 'invalid'; message: string };

/** No match or an unchanged URL: pass; a new URL Go cannot parse: invalid (Traefik answers 502). */
export function decide(re: GoRegexp, replacement: string, url: string): Decision {
  if (!matchesGo(re, url)) return { kind: 'pass' };
  const rewritten = replaceAllGo(re, url, replacement);
  let location;
  try {
    location = goLocation(rewritten);
  } catch (err) {
    if (err instanceof URLParseError) return { kind: 'invalid', message: err.message };
    throw err;
  }
  return rewritten === url ? { kind: 'pass' } : { kind: 'redirect', location };
}

const STATUS_TEXT: Record<number, string> = { 301: 'Moved Permanently', 302: 'Found', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 502: 'Bad Gateway' };

function partsOf(ctx: WharfContext): RequestParts {
  const host = ctx.req.headers.host ?? (ctx.req.headers[':authority'] as string | undefined) ?? '';
  return { tls: (ctx.req.socket as Partial<TLSSocket>).encrypted === true, host, requestURI: ctx.req.url ?? '/' };
}

function answer(ctx: WharfContext, status: number, location?: string): void {
  ctx.status = status;
  if (location !== undefined) ctx.set('Location', location);
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = STATUS_TEXT[status]!;
}

export default definePlugin({
  name: 'redirectRegex',
  description: 'Redirect when a regular expression matches the request URL, to the URL its replacement makes.',
  schema,
  validate({ regex }) {
    compileGoRegexp('regex', regex);
  },
  create({ regex, replacement, permanent }, { log }) {
    const re = compileGoRegexp('regex', regex);
    return async function redirectRegex(ctx: WharfContext, next: Next): Promise<void> {
      const decision = decide(re, replacement, requestURL(partsOf(ctx)));
      if (decision.kind === 'pass') return next();
      if (decision.kind === 'invalid') {
        // Traefik's error handler answers 502 for a url.Parse error; the reason only goes to the log.
        log.debug(`redirectRegex: the new URL does not parse: ${decision.message}`);
        return answer(ctx, 502);
      }
      answer(ctx, redirectStatus(ctx.method, permanent), decision.location);
    };
  },
});
