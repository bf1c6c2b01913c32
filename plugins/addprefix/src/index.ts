// addPrefix: puts a prefix in front of the path before the request is forwarded (Traefik's addPrefix).
import { definePlugin, Type, type Next, type Static, type WharfContext } from '@wharf/core';
import { ensureLeadingSlash, readURL, writeURL, type GoRequestURL } from '@wharf/gourl';

export const schema = Type.Object(
  {
    prefix: Type.String({ description: 'Prefix to add in front of the path, e.g. /api (a missing leading / is added); must not be empty.' }),
  },
  { additionalProperties: false },
);

export type AddPrefixConfig = Static<typeof schema>;

/**
 * Traefik's rule: the prefix is prepended to the decoded path and, when the request has one, to its encoded form,
 * as text (so `%2F` in the request stays encoded, and a prefix is not percent-decoded).
 */
export function addPrefixTo(url: GoRequestURL, prefix: string): GoRequestURL {
  return {
    ...url,
    path: ensureLeadingSlash(prefix + url.path),
    rawPath: url.rawPath === '' ? '' : ensureLeadingSlash(prefix + url.rawPath),
  };
}

export default definePlugin({
  name: 'addPrefix',
  description: 'Add a prefix to the path before forwarding.',
  schema,
  validate({ prefix }) {
    // Traefik refuses the middleware with "prefix cannot be empty".
    if (prefix === '') throw new Error('prefix: cannot be empty');
  },
  create({ prefix }) {
    return function addPrefix(ctx: WharfContext, next: Next) {
      const url = readURL(ctx.req);
      if (url) writeURL(ctx.req, addPrefixTo(url, prefix));
      return next();
    };
  },
});
