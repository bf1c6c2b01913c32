// template: adds one response header to every answer of a router — the smallest complete plugin, to copy.
// Rename the folder, the package and `name`, replace the schema and the middleware, keep the shape.
import { definePlugin, onResponseHeaders, Type, type Next, type Static, type WharfContext } from '@wharf/core';

/** Options, with descriptions and defaults: they validate, coerce labels, and render the README table. */
export const schema = Type.Object(
  {
    headerName: Type.String({ default: 'X-Served-By', pattern: '^[A-Za-z0-9-]+$', description: 'Response header to set (default X-Served-By).' }),
    value: Type.String({ minLength: 1, maxLength: 256, description: 'Its value.' }),
    overwrite: Type.Boolean({ default: true, description: "Replace a value the service already sent (default true); false keeps the service's." }),
  },
  { additionalProperties: false },
);

export type TemplateConfig = Static<typeof schema>;

/** Headers the gateway owns: a plugin must not fake them. */
const RESERVED = new Set(['content-length', 'transfer-encoding', 'connection', 'date']);

export default definePlugin({
  name: 'template',
  description: 'Add one response header to every answer of a router.',
  schema,
  // Cross-field and semantic checks the schema cannot express; the message names the field.
  validate({ headerName }) {
    if (RESERVED.has(headerName.toLowerCase())) throw new Error(`headerName: ${headerName} is set by the gateway itself; choose another header`);
  },
  // Once per configuration generation: precompute here, keep the per-request function lean.
  create({ headerName, value, overwrite }) {
    const name = headerName.toLowerCase();
    return function template(ctx: WharfContext, next: Next) {
      // A streamed (proxied) response: change its headers just before they are written.
      onResponseHeaders(ctx, (_status, headers) => {
        if (overwrite || headers[name] === undefined) headers[name] = value;
      });
      return next().then(() => {
        // An answer made inside the chain (another plugin's 401, a 404) does not go through the hook.
        if (!ctx.res.headersSent && (overwrite || !ctx.res.hasHeader(name))) ctx.set(headerName, value);
      });
    };
  },
});
