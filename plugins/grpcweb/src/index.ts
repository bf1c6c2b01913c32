// grpcWeb: Traefik's GrpcWeb middleware (improbable-eng's grpcweb wrapper) turns gRPC-Web requests (browsers,
// HTTP/1.1 or h2) into gRPC requests for a service reached over HTTP/2 (h2c:// or https://), and the gRPC answer
// back into gRPC-Web: binary or base64 text, the trailers as a final length-prefixed frame, CORS for allowOrigins.
import { definePlugin, StringList, Type, wrapResponse, type Next, type Static, type WharfContext } from '@wharf/core';
import { answerPreflight, corsFor, isGrpcWebPreflight, type Cors } from './cors.js';
import { toGrpcRequest } from './request.js';
import { GrpcWebWriter } from './response.js';

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

/** gRPC-Web requests: POST with a Content-Type of application/grpc-web, application/grpc-web+proto, -text, … */
function isGrpcWebRequest(ctx: WharfContext): boolean {
  return ctx.req.method === 'POST' && (ctx.req.headers['content-type']?.startsWith('application/grpc-web') ?? false);
}

export default definePlugin({
  name: 'grpcWeb',
  description: 'Translate gRPC-Web requests (browsers) to gRPC for a service reached over HTTP/2 (h2c:// or https://), with CORS for allowOrigins.',
  schema,
  validate(options) {
    checkOrigins(options.allowOrigins);
  },
  create(options) {
    const cors: Cors = corsFor(options.allowOrigins ?? []);
    return async function grpcWeb(ctx: WharfContext, next: Next) {
      if (isGrpcWebPreflight(ctx.req)) return answerPreflight(ctx, cors);
      if (!isGrpcWebRequest(ctx)) return next();
      const { text, contentType } = toGrpcRequest(ctx);
      const allowed = cors.actualHeaders(ctx.req.headers.origin);
      wrapResponse(ctx, (inner) => new GrpcWebWriter(inner, contentType, text, allowed));
      return next();
    };
  },
});
