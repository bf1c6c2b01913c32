// stripPrefix: removes the first matching prefix from the request path before it is forwarded (Traefik's stripPrefix).
import { definePlugin, Type, type Next, type Static, type WharfContext } from '@wharf/core';
import { applyStrip, encodedPrefixLength, ensureLeadingSlash, readURL, sanitized, UNCHANGED, type GoRequestURL, type Strip } from '@wharf/gourl';

export const schema = Type.Object(
  {
    prefixes: Type.Array(Type.String({ minLength: 1, pattern: '^/' }), {
      minItems: 1,
      description: 'Prefixes to remove, tried in order; the first that starts the decoded path is removed (e.g. /api).',
    }),
    forceSlash: Type.Optional(
      Type.Boolean({
        description: 'Deprecated (Traefik v3 warns): true makes a path stripped to nothing / instead of empty for the middlewares after this one. Default false; the request is sent with / either way.',
      }),
    ),
  },
  { additionalProperties: false },
);

export type StripPrefixConfig = Static<typeof schema>;

export type { Strip } from '@wharf/gourl';

/**
 * Traefik's getPathStripped: what is left gets a leading slash, except that nothing stays nothing unless
 * forceSlash (then it is `/`). Only a later middleware can tell: `addPrefix /x` gives `/x` or `/x/`.
 */
function stripped(rest: string, forceSlash: boolean): string {
  return forceSlash ? `/${rest.startsWith('/') ? rest.slice(1) : rest}` : ensureLeadingSlash(rest);
}

/** The first prefix that starts the decoded path is removed from it and, counted in decoded bytes, from the encoded form. */
export function stripPrefixOf(url: GoRequestURL, prefixes: readonly string[], forceSlash: boolean): Strip {
  const prefix = prefixes.find((p) => url.path.startsWith(p));
  if (prefix === undefined) return { kind: 'unchanged' };
  const path = stripped(url.path.slice(prefix.length), forceSlash);
  const rawPath = url.rawPath === '' ? '' : stripped(url.rawPath.slice(encodedPrefixLength(url.rawPath, prefix)), forceSlash);
  // `/api./foo` stripped of `/api` is `/./foo`: Traefik refuses what is not a clean path rather than forward it.
  const clean = sanitized({ path, rawPath });
  return clean ? { kind: 'stripped', url: { ...clean, query: url.query }, prefix } : { kind: 'refused' };
}

export default definePlugin({
  name: 'stripPrefix',
  description: 'Remove a path prefix before forwarding; the removed prefix is sent as X-Forwarded-Prefix.',
  schema,
  create({ prefixes, forceSlash }, { log }) {
    if (forceSlash !== undefined) log.warn('stripPrefix: `forceSlash` is deprecated (as in Traefik v3), please remove any usage of this option');
    // Traefik trims each prefix and tries them in the order given (not longest first).
    const trimmed = prefixes.map((p) => p.trim());
    return function stripPrefix(ctx: WharfContext, next: Next) {
      const url = readURL(ctx.req);
      return applyStrip(ctx, url ? stripPrefixOf(url, trimmed, forceSlash === true) : UNCHANGED) ? next() : Promise.resolve();
    };
  },
});
