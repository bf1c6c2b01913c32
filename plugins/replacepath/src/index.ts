// replacePath: replaces the whole path before the request is forwarded; the original goes to X-Replaced-Path
// (Traefik's replacePath).
import { definePlugin, Type, type Next, type Static, type WharfContext } from '@wharf/core';
import { addHeader, escapedPath, readURL, unescapePath, writeURL, type GoRequestURL } from '@wharf/gourl';

export const schema = Type.Object(
  {
    path: Type.String({ description: 'The new path, percent-encoded as it is to be sent (%2F stays an encoded slash); empty sends /.' }),
  },
  { additionalProperties: false },
);

export type ReplacePathConfig = Static<typeof schema>;

export const REPLACED_PATH_HEADER = 'x-replaced-path';

/** The request's path as sent (its encoded form): what Traefik reports in X-Replaced-Path. */
export function currentRawPath(url: GoRequestURL): string {
  return url.rawPath === '' ? escapedPath(url) : url.rawPath;
}

/** Traefik's rule: RawPath is the configured path as written, Path its decoding. */
export function replacePathOf(url: GoRequestURL, path: string): GoRequestURL {
  return { path: unescapePath(path), rawPath: path, query: url.query };
}

export default definePlugin({
  name: 'replacePath',
  description: 'Replace the path before forwarding; the original path is sent as X-Replaced-Path.',
  schema,
  validate({ path }) {
    // Traefik answers every request with 500 when the path cannot be decoded; refusing it at configuration time
    // names the field instead and disables only the routers using it.
    try {
      unescapePath(path);
    } catch (err) {
      throw new Error(`path: ${(err as Error).message}`, { cause: err });
    }
  },
  create({ path }) {
    return function replacePath(ctx: WharfContext, next: Next) {
      const url = readURL(ctx.req);
      if (url) {
        addHeader(ctx.req, REPLACED_PATH_HEADER, currentRawPath(url));
        writeURL(ctx.req, replacePathOf(url, path));
      }
      return next();
    };
  },
});
