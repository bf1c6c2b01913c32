// What forwardAuth does with the authentication server's answer: the headers it copies onto the request (2xx),
// the answer it relays to the client (anything else), and the cookies it adds to the service's response.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { matchesGo, type GoRegexp } from '@wharf/gourl';
import { canonicalHeaderKey } from './request.js';

/** forwardAuth's hop-by-hop list, plus Trailer and Content-Length, which describe the auth server's own framing. */
const NOT_RELAYED = new Set(['connection', 'keep-alive', 'te', 'trailers', 'transfer-encoding', 'upgrade', 'trailer', 'content-length']);

/** The auth server's headers to answer the client with (a copy: the caller may add to it). */
export function relayedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !NOT_RELAYED.has(name)) out[name] = value;
  }
  return out;
}

/**
 * The Location to send: as the auth server wrote it when `preserve`, else resolved against `address` (Go's
 * Response.Location). Undefined when there is none; throws when it cannot be parsed (answered 500, as Traefik).
 */
export function locationFor(value: string | undefined, address: URL, preserve: boolean): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (preserve) {
    if (hasControlCharacter(value)) throw new Error(`invalid Location ${JSON.stringify(value)}`);
    return value;
  }
  // An absolute reference stays as written; a relative one is resolved against the auth server's URL.
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value)) return value;
  return new URL(value, address).href;
}

/** Go's url.Parse refuses ASCII control characters. */
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Copies the chosen headers of a 2xx answer onto the request, removing the client's (authResponseHeaders[Regex]). */
export function copyAuthHeaders(req: IncomingMessage, from: IncomingHttpHeaders, names: readonly string[], regex: GoRegexp | undefined): void {
  const headers = req.headers;
  for (const name of names) {
    delete headers[name];
    const value = from[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? [...value] : value;
  }
  if (regex === undefined) return;
  for (const name of Object.keys(headers)) {
    if (matchesGo(regex, canonicalHeaderKey(name))) delete headers[name];
  }
  for (const name in from) {
    const value = from[name];
    if (value === undefined || name === 'transfer-encoding') continue;
    if (matchesGo(regex, canonicalHeaderKey(name))) headers[name] = Array.isArray(value) ? [...value] : value;
  }
}

/** The name of a Set-Cookie line, or undefined when it is not a valid cookie (Go's readSetCookies drops those). */
export function cookieName(line: string): string | undefined {
  const semi = line.indexOf(';');
  const pair = semi === -1 ? line : line.slice(0, semi);
  const eq = pair.indexOf('=');
  if (eq === -1) return undefined;
  const name = pair.slice(0, eq).trim();
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) ? name : undefined;
}

/** Set-Cookie lines of a header value. */
export function setCookieLines(value: number | string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [String(value)];
}

/**
 * The service's Set-Cookie lines with the listed cookies replaced by the auth server's (addAuthCookiesToResponse):
 * the service's cookies of those names dropped, the auth server's of those names appended.
 */
export function mergeCookies(service: readonly string[], authCookies: readonly string[], names: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const line of service) {
    const name = cookieName(line);
    if (name !== undefined && !names.has(name)) out.push(line);
  }
  for (const line of authCookies) {
    const name = cookieName(line);
    if (name !== undefined && names.has(name)) out.push(line);
  }
  return out;
}

/** Applies mergeCookies to a streamed response's headers. */
export function replaceCookies(headers: OutgoingHttpHeaders, authCookies: readonly string[], names: ReadonlySet<string>): void {
  const merged = mergeCookies(setCookieLines(headers['set-cookie']), authCookies, names);
  if (merged.length === 0) delete headers['set-cookie'];
  else headers['set-cookie'] = merged;
}
