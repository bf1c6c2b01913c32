// The error page's request target: `query` with {status}, {originalStatus} and {url} filled in, as Traefik builds it.
import type { IncomingHttpHeaders } from 'node:http';

/** A compiled `query`: literal parts between placeholders, split once at configuration time. */
export type PageTarget = (status: number, originalStatus: number, url: () => string) => string;

const PLACEHOLDER = /\{(status|originalStatus|url)\}/g;

/** Traefik: "/" + query without its leading "/" (an empty query asks for "/"). */
export function compileQuery(query: string): PageTarget {
  const template = `/${query.startsWith('/') ? query.slice(1) : query}`;
  const parts = template.split(PLACEHOLDER);
  if (parts.length === 1) return () => template;
  return (status, originalStatus, url) => {
    let out = '';
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (i % 2 === 0) out += part;
      else if (part === 'status') out += status;
      else if (part === 'originalStatus') out += originalStatus;
      else out += url();
    }
    return out;
  };
}

/** Characters Go's url.QueryEscape leaves as they are. */
const UNRESERVED = /[A-Za-z0-9\-_.~]/;

/** Go's url.QueryEscape: every byte but A–Z a–z 0–9 - _ . ~ as %XX, and a space as +. */
export function queryEscape(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'latin1')) {
    const c = String.fromCharCode(byte);
    if (UNRESERVED.test(c)) out += c;
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The request URL as Traefik's errors middleware prints it: scheme from the connection, the Host header, and the
 * path and query the middleware received (the raw target, which is Go's escaped path; a bare trailing `?` dropped).
 */
export function requestURL(tls: boolean, headers: IncomingHttpHeaders, target: string): string {
  const scheme = tls ? 'https' : 'http';
  const host = headers.host ?? (headers[':authority'] as string | undefined) ?? '';
  const path = originForm(target);
  return `${scheme}://${host}${path.endsWith('?') ? path.slice(0, -1) : path}`;
}

/** Path and query of a target; an absolute-form one (`GET http://host/p`) gives its path, as Go's req.URL has it. */
function originForm(target: string): string {
  if (target.startsWith('/')) return target;
  try {
    const url = new URL(target);
    return url.pathname + url.search;
  } catch {
    return target;
  }
}
