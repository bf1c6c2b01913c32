// headers: set or remove request headers before forwarding and response headers before the client sees them.
import { definePlugin, onResponseHeaders, Type, type Static, type WharfContext, type Next } from '@wharf/core';
import type { OutgoingHttpHeaders } from 'node:http';

const HeaderMap = (description: string) =>
  Type.Optional(Type.Record(Type.String(), Type.String(), { description }));

const schema = Type.Object(
  {
    customRequestHeaders: HeaderMap('Headers set on the request sent to the service; an empty value removes the header.'),
    customResponseHeaders: HeaderMap('Headers set on the response sent to the client; an empty value removes the header.'),
    frameDeny: Type.Optional(Type.Boolean({ description: 'Send X-Frame-Options: DENY.' })),
    customFrameOptionsValue: Type.Optional(Type.String({ description: 'X-Frame-Options value (overrides frameDeny).' })),
    contentTypeNosniff: Type.Optional(Type.Boolean({ description: 'Send X-Content-Type-Options: nosniff.' })),
    browserXssFilter: Type.Optional(Type.Boolean({ description: 'Send X-XSS-Protection: 1; mode=block.' })),
    referrerPolicy: Type.Optional(Type.String({ description: 'Referrer-Policy value.' })),
    contentSecurityPolicy: Type.Optional(Type.String({ description: 'Content-Security-Policy value.' })),
    permissionsPolicy: Type.Optional(Type.String({ description: 'Permissions-Policy value.' })),
    stsSeconds: Type.Optional(Type.Integer({ minimum: 0, description: 'Strict-Transport-Security max-age in seconds (sent on https requests; 0 = off).' })),
    stsIncludeSubdomains: Type.Optional(Type.Boolean({ description: 'Add includeSubDomains to Strict-Transport-Security.' })),
    stsPreload: Type.Optional(Type.Boolean({ description: 'Add preload to Strict-Transport-Security.' })),
    forceSTSHeader: Type.Optional(Type.Boolean({ description: 'Send Strict-Transport-Security on plain http requests too.' })),
  },
  { additionalProperties: false },
);

type Options = Static<typeof schema>;

/** Splits a name→value map into lower-cased headers to set and headers to remove. */
function plan(map: Record<string, string> | undefined): { set: [string, string][]; remove: string[] } {
  const set: [string, string][] = [];
  const remove: string[] = [];
  for (const [name, value] of Object.entries(map ?? {})) {
    if (value === '') remove.push(name.toLowerCase());
    else set.push([name.toLowerCase(), value]);
  }
  return { set, remove };
}

/** Security headers from the boolean/string options, as Traefik sends them. */
function securityHeaders(o: Options): [string, string][] {
  const out: [string, string][] = [];
  if (o.customFrameOptionsValue) out.push(['x-frame-options', o.customFrameOptionsValue]);
  else if (o.frameDeny) out.push(['x-frame-options', 'DENY']);
  if (o.contentTypeNosniff) out.push(['x-content-type-options', 'nosniff']);
  if (o.browserXssFilter) out.push(['x-xss-protection', '1; mode=block']);
  if (o.referrerPolicy) out.push(['referrer-policy', o.referrerPolicy]);
  if (o.contentSecurityPolicy) out.push(['content-security-policy', o.contentSecurityPolicy]);
  if (o.permissionsPolicy) out.push(['permissions-policy', o.permissionsPolicy]);
  return out;
}

function stsValue(o: Options): string | undefined {
  if (!o.stsSeconds) return undefined;
  return `max-age=${o.stsSeconds}${o.stsIncludeSubdomains ? '; includeSubDomains' : ''}${o.stsPreload ? '; preload' : ''}`;
}

export default definePlugin({
  name: 'headers',
  description: 'Add, replace or remove request and response headers; optional security headers.',
  schema,
  create(options) {
    const request = plan(options.customRequestHeaders);
    const response = plan(options.customResponseHeaders);
    const security = securityHeaders(options);
    const sts = stsValue(options);
    const forceSTS = options.forceSTSHeader === true;
    const touchesResponse = response.set.length + response.remove.length + security.length > 0 || sts !== undefined;

    return async function headers(ctx: WharfContext, next: Next) {
      const reqHeaders = ctx.req.headers;
      for (const name of request.remove) delete reqHeaders[name];
      for (const [name, value] of request.set) reqHeaders[name] = value;
      if (!touchesResponse) return next();

      const secure = (ctx.req.socket as { encrypted?: boolean }).encrypted === true;
      const edit = (out: OutgoingHttpHeaders) => {
        for (const [name, value] of security) out[name] = value;
        if (sts && (secure || forceSTS)) out['strict-transport-security'] = sts;
        for (const name of response.remove) delete out[name];
        for (const [name, value] of response.set) out[name] = value;
      };
      onResponseHeaders(ctx, (_status, out) => edit(out));
      await next();
      // Answers made inside the chain (not proxied) are written by Koa after this point.
      if (ctx.respond !== false && !ctx.res.headersSent) {
        const current = ctx.response.headers as OutgoingHttpHeaders;
        const copy = { ...current };
        edit(copy);
        for (const name of Object.keys(current)) if (!(name in copy)) ctx.remove(name);
        for (const [name, value] of Object.entries(copy)) if (value !== undefined) ctx.set(name, value as string | string[]);
      }
    };
  },
});
