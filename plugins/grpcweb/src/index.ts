// grpcWeb: Traefik's GrpcWeb middleware turns gRPC-Web requests (HTTP/1.1, browsers) into gRPC requests, which need
// HTTP/2 to the service (h2c or TLS). Wharf's proxy speaks HTTP/1.1 to services until HTTP/2 upstreams exist
// (issue #18), so the middleware is refused when it is built — the routers using it are disabled with that reason —
// rather than forwarding requests a gRPC server cannot answer. Its options are decoded and checked all the same, so
// labels written for Traefik are validated today.
import { definePlugin, StringList, Type, type Static } from '@wharf/core';

export const schema = Type.Object(
  {
    allowOrigins: Type.Optional(
      StringList({
        description: 'Origins allowed to make cross-origin gRPC-Web requests (the Origin header, e.g. https://app.example), or * for any (default: none).',
      }),
    ),
  },
  { additionalProperties: false },
);

export type GrpcWebConfig = Static<typeof schema>;

/** Why the middleware cannot be built yet. */
export const NEEDS_HTTP2 =
  'grpcWeb: gRPC-Web is translated to gRPC, which needs HTTP/2 (h2c or TLS) to the service, and Wharf forwards over ' +
  'HTTP/1.1 until HTTP/2 upstreams exist (issue #18); the routers using this middleware are disabled. Call the ' +
  'service with gRPC-Web support of its own (e.g. a grpc-web proxy beside it) meanwhile';

// What the Origin header can be (RFC 6454 §7): scheme "://" host [":" port], no path, query or trailing slash.
const ORIGIN = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:\[[0-9A-Fa-f:.]+\]|[^\s/:?#[\]@*]+)(?::\d{1,5})?$/;

/** Each entry is `*` or an origin as browsers send it: Traefik compares them as strings, so anything else never matches. */
export function checkOrigins(origins: readonly string[] | undefined): void {
  for (const origin of origins ?? []) {
    if (origin === '*' || ORIGIN.test(origin)) continue;
    const hint = /^[a-z][a-z0-9+.-]*:\/\/[^/]+\/$/i.test(origin) ? ' (drop the trailing slash: browsers send none)' : '';
    throw new Error(`allowOrigins: '${origin}' is not * nor an origin such as https://app.example or http://localhost:3000${hint}`);
  }
}

export default definePlugin({
  name: 'grpcWeb',
  description: 'Translate gRPC-Web requests to gRPC (needs HTTP/2 upstreams: refused until Wharf has them, issue #18).',
  schema,
  validate(options) {
    checkOrigins(options.allowOrigins);
  },
  create() {
    throw new Error(NEEDS_HTTP2);
  },
});
