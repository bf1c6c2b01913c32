// A complete custom plugin: gives every request an id, sent to the service and back to the client.
import { randomUUID } from 'node:crypto';
// Laid out like plugins/_template: schema, middleware, README table and tests side by side.
import { definePlugin, onResponseHeaders, Type, type WharfContext, type Next } from '@wharf/core';

export const schema = Type.Object(
  {
    headerName: Type.String({ default: 'X-Request-Id', pattern: '^[A-Za-z0-9-]+$', description: 'Header carrying the id (default X-Request-Id).' }),
    trustIncoming: Type.Boolean({ default: false, description: 'Keep an id the client already sent instead of replacing it (default false).' }),
    prefix: Type.String({ default: '', maxLength: 32, description: 'Text put before every generated id.' }),
  },
  { additionalProperties: false },
);

export default definePlugin({
  name: 'requestId',
  description: 'Tag each request with an id (request and response header).',
  schema,
  validate(options) {
    if (options.headerName.toLowerCase() === 'host') throw new Error('headerName: must not be Host');
  },
  create({ headerName, trustIncoming, prefix }) {
    const name = headerName.toLowerCase();
    return async function requestId(ctx: WharfContext, next: Next) {
      const incoming = ctx.req.headers[name];
      const id = trustIncoming && typeof incoming === 'string' && incoming !== '' ? incoming : `${prefix}${randomUUID()}`;
      ctx.req.headers[name] = id;
      onResponseHeaders(ctx, (_status, headers) => {
        headers[name] = id;
      });
      await next();
      if (ctx.respond !== false && !ctx.res.headersSent) ctx.set(headerName, id);
    };
  },
});
