// stripPrefixRegex: removes the start of the path matched by a regular expression before the request is forwarded;
// the removed part goes to X-Forwarded-Prefix (Traefik's stripPrefixRegex).
import { definePlugin, Type, type Next, type Static, type WharfContext } from '@wharf/core';
import {
  applyStrip,
  compileGoRegexp,
  encodedPrefixLength,
  ensureLeadingSlash,
  findSubmatch,
  readURL,
  sanitized,
  UNCHANGED,
  type Strip,
  type GoRegexp,
  type GoRequestURL,
} from '@wharf/gourl';

export const schema = Type.Object(
  {
    regex: Type.Array(Type.String(), {
      minItems: 1,
      description: 'Regular expressions (Go RE2 syntax) matched against the decoded path, tried in order; the first whose match starts the path is removed (e.g. /api/[a-z0-9]+/).',
    }),
  },
  { additionalProperties: false },
);

export type StripPrefixRegexConfig = Static<typeof schema>;

export type { Strip } from '@wharf/gourl';

/**
 * Traefik's rule: the first expression whose (non-empty) match is a prefix of the decoded path wins; that prefix
 * is removed from the path and, counted in decoded bytes, from its encoded form, so `%2F` after it stays encoded.
 */
export function stripPrefixRegex(url: GoRequestURL, expressions: readonly GoRegexp[]): Strip {
  for (const re of expressions) {
    const prefix = findSubmatch(re, url.path)?.[0];
    if (!prefix || !url.path.startsWith(prefix)) continue;
    const path = ensureLeadingSlash(url.path.slice(prefix.length));
    const rawPath = url.rawPath === '' ? '' : ensureLeadingSlash(url.rawPath.slice(encodedPrefixLength(url.rawPath, prefix)));
    // What is left must be a clean path (`/api./foo` stripped of /api is `/./foo`): Traefik answers 400.
    const clean = sanitized({ path, rawPath });
    return clean ? { kind: 'stripped', url: { ...clean, query: url.query }, prefix } : { kind: 'refused' };
  }
  return { kind: 'unchanged' };
}

/** Each expression compiled, or an error naming its index (`regex[1]: invalid regular expression …`). */
function compileAll(regex: readonly string[]): GoRegexp[] {
  return regex.map((pattern, i) => compileGoRegexp(`regex[${i}]`, pattern.trim()));
}

export default definePlugin({
  name: 'stripPrefixRegex',
  description: 'Remove a path prefix matched by a regular expression before forwarding; it is sent as X-Forwarded-Prefix.',
  schema,
  validate({ regex }) {
    compileAll(regex);
  },
  create({ regex }) {
    const expressions = compileAll(regex);
    return function stripPrefixRegexMiddleware(ctx: WharfContext, next: Next) {
      const url = readURL(ctx.req);
      return applyStrip(ctx, url ? stripPrefixRegex(url, expressions) : UNCHANGED) ? next() : Promise.resolve();
    };
  },
});
