// replacePathRegex: rewrites the path with a regular expression (Go/RE2 syntax, Go's $1 expansion) before the
// request is forwarded; the original path goes to X-Replaced-Path (Traefik's replacePathRegex).
import { definePlugin, Type, type Next, type Static, type WharfContext } from '@wharf/core';
import {
  addHeader,
  compileGoRegexp,
  escapedPath,
  goHttpError,
  matchesGo,
  readURL,
  replaceAllGo,
  sanitized,
  unescapePath,
  writeURL,
  type GoRegexp,
  type GoRequestURL,
} from '@wharf/gourl';


export const schema = Type.Object(
  {
    regex: Type.String({ description: 'Regular expression (Go RE2 syntax, unanchored) matched against the encoded path, e.g. ^/api/(.*); surrounding spaces are ignored.' }),
    replacement: Type.String({
      default: '',
      description: 'Replacement for every match, with Go\'s $1, ${1}, ${name} and $$ (literal $); surrounding spaces are ignored (default empty).',
    }),
  },
  { additionalProperties: false },
);

export type ReplacePathRegexConfig = Static<typeof schema>;

const REPLACED_PATH_HEADER = 'x-replaced-path';

/** What the middleware does with one URL: unchanged, rewritten, or refused with Traefik's status and message. */
export type Rewrite = { kind: 'unchanged' } | { kind: 'rewritten'; url: GoRequestURL; original: string } | { kind: 'refused'; status: number; message: string };

/** Traefik's rule, on the encoded path: replace every match, decode the result, refuse what is not a clean path. */
export function rewritePath(url: GoRequestURL, re: GoRegexp, replacement: string): Rewrite {
  const current = url.rawPath === '' ? escapedPath(url) : url.rawPath;
  if (!matchesGo(re, current)) return { kind: 'unchanged' };
  const rawPath = replaceAllGo(re, current, replacement);
  let path;
  try {
    path = unescapePath(rawPath);
  } catch (err) {
    return { kind: 'refused', status: 500, message: (err as Error).message };
  }
  // A replacement that produced `//` or a `..` element is refused rather than forwarded, as Traefik does.
  const clean = sanitized({ path, rawPath });
  if (!clean) return { kind: 'refused', status: 400, message: 'Bad Request' };
  return { kind: 'rewritten', url: { ...clean, query: url.query }, original: current };
}

export default definePlugin({
  name: 'replacePathRegex',
  description: 'Rewrite the path with a regular expression before forwarding; the original path is sent as X-Replaced-Path.',
  schema,
  validate({ regex }) {
    compileGoRegexp('regex', regex.trim());
  },
  create({ regex, replacement }) {
    const re = compileGoRegexp('regex', regex.trim());
    const template = replacement.trim();
    return function replacePathRegex(ctx: WharfContext, next: Next) {
      const url = readURL(ctx.req);
      const result = url ? rewritePath(url, re, template) : ({ kind: 'unchanged' } as const);
      if (result.kind === 'refused') {
        goHttpError(ctx, result.status, result.message);
        return Promise.resolve();
      }
      if (result.kind === 'rewritten') {
        addHeader(ctx.req, REPLACED_PATH_HEADER, result.original);
        writeURL(ctx.req, result.url);
      }
      return next();
    };
  },
});
