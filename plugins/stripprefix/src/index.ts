// stripPrefix: removes the first matching prefix from the request path before it is forwarded.
import { definePlugin, Type, type WharfContext, type Next } from '@wharf/core';

const schema = Type.Object(
  {
    prefixes: Type.Array(Type.String({ minLength: 1, pattern: '^/' }), {
      minItems: 1,
      description: 'Prefixes to remove, tried in order; the first that matches is removed (e.g. /api).',
    }),
    forceSlash: Type.Optional(Type.Boolean({ description: 'Accepted for compatibility with Traefik v2; the result always starts with /.' })),
  },
  { additionalProperties: false },
);

export default definePlugin({
  name: 'stripPrefix',
  description: 'Remove a path prefix before forwarding; the removed prefix is sent as X-Forwarded-Prefix.',
  schema,
  create({ prefixes }) {
    // Longest first would change Traefik's semantics; Traefik tries them in the order given.
    // Works on req.url directly: Koa's ctx.path getter/setter parses and re-formats the URL each time.
    return function stripPrefix(ctx: WharfContext, next: Next) {
      const url = ctx.req.url ?? '/';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      for (const prefix of prefixes) {
        if (path.startsWith(prefix)) {
          const rest = path.slice(prefix.length);
          ctx.req.url = (rest.startsWith('/') ? rest : `/${rest}`) + (q === -1 ? '' : url.slice(q));
          ctx.req.headers['x-forwarded-prefix'] = prefix;
          break;
        }
      }
      return next();
    };
  },
});
