// Sticky sessions (loadBalancer.sticky.cookie): a cookie pins a client to the server that first answered it.
import { createHash } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';

export interface StickyCookie {
  name?: string;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: 'none' | 'lax' | 'strict' | '';
  /** Seconds; 0 = a session cookie, negative = expire now. */
  maxAge?: number;
  path?: string;
  domain?: string;
}

export interface Sticky {
  readonly name: string;
  /** The cookie's value for a server: a hash, so server addresses are not disclosed to clients. */
  valueFor(url: string): string;
  /** The server value a request's Cookie header carries, if any. */
  read(cookieHeader: string | undefined): string | undefined;
  /** Adds the Set-Cookie for `value` to the response headers, keeping the upstream's own cookies. */
  write(headers: OutgoingHttpHeaders, value: string): void;
}

/** Default cookie name: derived from the service name, as Traefik does, so two services never share one. */
export function defaultCookieName(service: string): string {
  return `_${createHash('sha1').update(service).digest('hex').slice(0, 6)}`;
}

export function createSticky(service: string, cookie: StickyCookie): Sticky {
  const name = cookie.name || defaultCookieName(service);
  const attributes = cookieAttributes(cookie);
  const hashes = new Map<string, string>();
  const prefix = `${name}=`;
  return {
    name,
    valueFor(url) {
      let value = hashes.get(url);
      if (value === undefined) hashes.set(url, (value = createHash('sha256').update(url).digest('hex').slice(0, 16)));
      return value;
    },
    read(header) {
      if (!header) return undefined;
      for (const part of header.split(';')) {
        const trimmed = part.trim();
        if (trimmed.startsWith(prefix)) return trimmed.slice(prefix.length);
      }
      return undefined;
    },
    write(headers, value) {
      const line = `${name}=${value}${attributes}`;
      const existing = headers['set-cookie'];
      headers['set-cookie'] = existing === undefined ? [line] : Array.isArray(existing) ? [...existing, line] : [String(existing), line];
    },
  };
}

function cookieAttributes(cookie: StickyCookie): string {
  let out = `; Path=${cookie.path || '/'}`;
  if (cookie.domain) out += `; Domain=${cookie.domain}`;
  if (cookie.maxAge !== undefined && cookie.maxAge !== 0) out += `; Max-Age=${cookie.maxAge < 0 ? 0 : cookie.maxAge}`;
  if (cookie.httpOnly) out += '; HttpOnly';
  if (cookie.secure) out += '; Secure';
  if (cookie.sameSite) out += `; SameSite=${cookie.sameSite[0]!.toUpperCase()}${cookie.sameSite.slice(1)}`;
  return out;
}
