// Options of forwardAuth: Traefik's names, defaults and meaning (dynamic.ForwardAuth, v3.7).
import { SECRET, StringList, Type, type Static } from '@wharf/core';

const HEADER_NAME = '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$';

export const tlsSchema = Type.Object(
  {
    ca: Type.Optional(Type.String({ minLength: 1, description: 'CA certificates (PEM file path or PEM text) that verify the authentication server, replacing the system CAs.' })),
    cert: Type.Optional(Type.String({ minLength: 1, description: 'Client certificate (PEM file path or PEM text) for an authentication server that asks for one; needs tls.key.' })),
    key: Type.Optional(Type.String({ minLength: 1, [SECRET]: true, description: 'Private key of tls.cert (PEM file path or PEM text); never logged.' })),
    insecureSkipVerify: Type.Boolean({ default: false, description: "Accept any certificate from the authentication server (default false)." }),
    caOptional: Type.Optional(Type.Boolean({ description: 'Deprecated in Traefik and ignored (client authentication is a server-side setting); accepted with a warning.' })),
  },
  { additionalProperties: false },
);

export const schema = Type.Object(
  {
    address: Type.String({ minLength: 1, description: 'Authentication server URL (http:// or https://), e.g. http://authelia:9091/api/authz/forward-auth. Required.' }),
    tls: Type.Optional(tlsSchema),
    trustForwardHeader: Type.Optional(
      Type.Boolean({
        description:
          'true: pass the X-Forwarded-* headers the entrypoint trusted on to the authentication server; false: send only its own. Unset (deprecated, warned): the legacy mix where X-Forwarded-For/-Proto/-Host/-Uri/-Method are replaced and the others pass.',
      }),
    ),
    authResponseHeaders: StringList({ default: [], description: "Headers copied from the authentication server's answer onto the forwarded request, replacing the client's (removed when the server did not send them)." }),
    authResponseHeadersRegex: Type.Optional(Type.String({ description: "Regular expression (Go RE2 syntax, unanchored, against the canonical name such as X-Auth-User): matching request headers are removed, then the server's matching headers copied." })),
    authRequestHeaders: StringList({ default: [], description: 'Request headers sent to the authentication server; empty (default) sends them all.' }),
    addAuthCookiesToResponse: StringList({ default: [], description: "Cookies (by name) set by the authentication server that are added to the service's response, replacing the service's cookies of the same name." }),
    forwardBody: Type.Boolean({ default: false, description: 'Send the request body to the authentication server too (default false). The body is read whole first, then forwarded to the service.' }),
    maxBodySize: Type.Integer({ default: -1, minimum: -1, description: 'With forwardBody: largest request body in bytes; a larger one is answered 401. -1 (default) = no limit.' }),
    maxResponseBodySize: Type.Optional(Type.Integer({ minimum: -1, description: "Largest answer body in bytes read from the authentication server; a larger one is answered 401. Unset or -1: no limit (warned)." })),
    headerField: Type.Optional(Type.String({ pattern: HEADER_NAME, description: "Header of the authentication server's answer that names the user, for the access log's ClientUsername (e.g. Remote-User)." })),
    preserveLocationHeader: Type.Boolean({ default: false, description: 'Pass a relative Location from the authentication server as is (default false: resolved against address).' }),
    preserveRequestMethod: Type.Boolean({ default: false, description: "Ask the authentication server with the request's method (default false: GET)." }),
    authSigninURL: Type.Optional(Type.String({ minLength: 1, description: 'When the authentication server answers 401, redirect (302) to this URL instead.' })),
  },
  { additionalProperties: false },
);

export type ForwardAuthConfig = Static<typeof schema>;
export type ForwardAuthTLS = Static<typeof tlsSchema>;
