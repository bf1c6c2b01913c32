// Options of the headers middleware: Traefik v3.7's names, types and defaults (dynamic.Headers), one schema for
// labels, files, validation and the README table.
import { StringList, Type, type Static } from '@wharf/core';

const HeaderMap = (description: string) => Type.Optional(Type.Record(Type.String(), Type.String(), { description }));
const Flag = (description: string) => Type.Optional(Type.Boolean({ description: `${description} (default false).` }));
const Text = (description: string) => Type.Optional(Type.String({ description }));
const List = (description: string) => Type.Optional(StringList({ description }));
const DEPRECATED = 'Deprecated, accepted and ignored as in Traefik v3 (a warning is logged):';

export const schema = Type.Object(
  {
    customRequestHeaders: HeaderMap('Headers set on the request sent to the service; an empty value removes the header (`Host` sets the forwarded Host).'),
    customResponseHeaders: HeaderMap('Headers set on the response sent to the client; an empty value removes the header.'),

    accessControlAllowCredentials: Flag('CORS: send Access-Control-Allow-Credentials: true; with it, a `*` in the lists echoes the request instead'),
    accessControlAllowHeaders: List('CORS preflight: Access-Control-Allow-Headers, joined with commas; `*` with credentials echoes Access-Control-Request-Headers.'),
    accessControlAllowMethods: List('CORS preflight: Access-Control-Allow-Methods, joined with commas; `*` with credentials echoes Access-Control-Request-Method.'),
    accessControlAllowOriginList: List('CORS: allowed origins, sent back in Access-Control-Allow-Origin when the Origin is one of them; `*` allows any (sent as `*`, or as the Origin with credentials).'),
    accessControlAllowOriginListRegex: List('CORS: allowed origins as regular expressions (Go RE2 syntax, unanchored: add ^…$); a matching Origin is sent back.'),
    accessControlExposeHeaders: List('CORS: Access-Control-Expose-Headers, joined with commas (not sent when it holds `*` and credentials are on).'),
    accessControlMaxAge: Type.Optional(Type.Integer({ description: 'CORS preflight: Access-Control-Max-Age in seconds (how long browsers cache the answer); not sent when unset.' })),
    addVaryHeader: Flag('CORS: add Origin to the Vary response header'),

    allowedHosts: List('Allowed host names (the Host header, or the first hostsProxyHeaders header set, compared case-insensitively with its port); any other host gets 500 Bad Host. Empty = any host.'),
    hostsProxyHeaders: List('Request headers that may carry the original host (e.g. X-Forwarded-Host), read in order before Host for allowedHosts.'),
    sslProxyHeaders: HeaderMap('Request header names and values that mark a request as HTTPS (e.g. X-Forwarded-Proto: https), so HSTS and publicKey are sent behind a TLS-terminating load balancer.'),

    stsSeconds: Type.Optional(Type.Integer({ minimum: 0, description: 'Strict-Transport-Security max-age in seconds, sent on HTTPS requests (0 = not sent).' })),
    stsIncludeSubdomains: Flag('Add includeSubDomains to Strict-Transport-Security'),
    stsPreload: Flag('Add preload to Strict-Transport-Security'),
    forceSTSHeader: Flag('Send Strict-Transport-Security on plain HTTP requests too'),
    frameDeny: Flag('Send X-Frame-Options: DENY'),
    customFrameOptionsValue: Text('X-Frame-Options value (overrides frameDeny).'),
    contentTypeNosniff: Flag('Send X-Content-Type-Options: nosniff'),
    browserXssFilter: Flag('Send X-XSS-Protection: 1; mode=block'),
    customBrowserXSSValue: Text('X-XSS-Protection value (overrides browserXssFilter).'),
    contentSecurityPolicy: Text("Content-Security-Policy value; `$NONCE` becomes a fresh 'nonce-…' per request."),
    contentSecurityPolicyReportOnly: Text("Content-Security-Policy-Report-Only value; `$NONCE` becomes a fresh 'nonce-…' per request."),
    publicKey: Text('Public-Key-Pins value (HPKP), sent on HTTPS requests only.'),
    referrerPolicy: Text('Referrer-Policy value.'),
    permissionsPolicy: Text('Permissions-Policy value.'),
    isDevelopment: Flag('Development mode: allowedHosts, Strict-Transport-Security and Public-Key-Pins are off'),

    featurePolicy: Text(`${DEPRECATED} use permissionsPolicy.`),
    sslRedirect: Type.Optional(Type.Boolean({ description: `${DEPRECATED} use the entrypoint's http.redirections or a redirectScheme middleware.` })),
    sslTemporaryRedirect: Type.Optional(Type.Boolean({ description: `${DEPRECATED} use the entrypoint's http.redirections or a redirectScheme middleware.` })),
    sslHost: Text(`${DEPRECATED} use a redirectRegex middleware.`),
    sslForceHost: Type.Optional(Type.Boolean({ description: `${DEPRECATED} use a redirectRegex middleware.` })),
  },
  { additionalProperties: false },
);

export type HeadersConfig = Static<typeof schema>;

/** The deprecated options and what replaces each, for the warning logged when the middleware is built. */
export const DEPRECATED_OPTIONS: ReadonlyArray<[keyof HeadersConfig, string]> = [
  ['featurePolicy', 'permissionsPolicy (no Feature-Policy header is sent)'],
  ['sslRedirect', "the entrypoint's http.redirections or a redirectScheme middleware"],
  ['sslTemporaryRedirect', "the entrypoint's http.redirections or a redirectScheme middleware"],
  ['sslHost', 'a redirectRegex middleware'],
  ['sslForceHost', 'a redirectRegex middleware'],
];
