// The request as Traefik's middlewares see it (Go's req.URL: Path, RawPath, RawQuery), read from and written back to
// Wharf's ctx.req.url, the origin-form target that is forwarded.
import type { IncomingMessage } from 'node:http';
import type { WharfContext } from '@wharf/core';
import { escapedPath, setPath, type GoPath } from './path.js';

export interface GoRequestURL extends GoPath {
  /** '' or '?…' exactly as received (a lone '?' is Go's ForceQuery). */
  query: string;
}

// Go can hold an empty Path (stripPrefix of the whole path); on the wire it is '/', but a later middleware
// sees '' (addPrefix then gives `/api`, not `/api/`). The marker remembers it for the URL it was written with,
// so a plugin that rewrites req.url without knowing of it simply invalidates it.
const EMPTY_PATH = Symbol.for('wharf.gourl.emptyPath');
type Marked = IncomingMessage & { [EMPTY_PATH]?: string };

const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/** The request target split as Go's server parses it; undefined when its escapes are invalid (Go answers 400 itself). */
export function readURL(req: IncomingMessage): GoRequestURL | undefined {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const query = q === -1 ? '' : target.slice(q);
  let raw = q === -1 ? target : target.slice(0, q);
  const absolute = ABSOLUTE_FORM.exec(raw);
  if (absolute) raw = raw.slice(absolute[0].length);
  if ((req as Marked)[EMPTY_PATH] === target) return { path: '', rawPath: '', query };
  try {
    return { ...setPath(raw), query };
  } catch {
    return undefined;
  }
}

/** URL.RequestURI(): what is forwarded; an empty path goes out as '/'. */
export function requestURI(url: GoRequestURL): string {
  return (escapedPath(url) || '/') + url.query;
}

export function writeURL(req: IncomingMessage, url: GoRequestURL): void {
  const target = requestURI(url);
  req.url = target;
  if (escapedPath(url) === '') (req as Marked)[EMPTY_PATH] = target;
  else delete (req as Marked)[EMPTY_PATH];
}

/**
 * Header.Add: a value the request already has is kept and the new one follows it (two header lines upstream).
 * A decoded path can hold any character; Go writes its UTF-8 bytes, so the value is handed on as those bytes
 * (one latin1 character each) — Node would otherwise send é as one byte and refuse €.
 */
export function addHeader(req: IncomingMessage, name: string, value: string): void {
  // eslint-disable-next-line no-control-regex -- the ASCII range: such a value is already its own bytes
  const wire = /^[\x00-\x7f]*$/.test(value) ? value : Buffer.from(value, 'utf8').toString('latin1');
  const current = req.headers[name];
  if (current === undefined) req.headers[name] = wire;
  else req.headers[name] = [...(Array.isArray(current) ? current : [current]), wire];
}

/** http.Error: the message and a newline as text/plain, with nosniff, as Traefik's middlewares answer. */
export function goHttpError(ctx: WharfContext, status: number, message: string): void {
  ctx.status = status;
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = `${message}\n`;
}

/** What a strip did to the URL: nothing, removed `prefix`, or left a path that is not clean (refused). */
export type Strip = { kind: 'unchanged' } | { kind: 'stripped'; url: GoRequestURL; prefix: string } | { kind: 'refused' };

export const UNCHANGED: Strip = { kind: 'unchanged' };

/**
 * Applies a strip as Traefik's stripPrefix and stripPrefixRegex both do: a refused path answers 400; a stripped one
 * adds the prefix as X-Forwarded-Prefix and is written back. True when the request goes on down the chain.
 */
export function applyStrip(ctx: WharfContext, strip: Strip): boolean {
  if (strip.kind === 'refused') {
    goHttpError(ctx, 400, 'Bad Request');
    return false;
  }
  if (strip.kind === 'stripped') {
    addHeader(ctx.req, 'x-forwarded-prefix', strip.prefix);
    writeURL(ctx.req, strip.url);
  }
  return true;
}
