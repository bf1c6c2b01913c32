// ipAllowList: answer 403 (or rejectStatusCode) unless the client IP is in sourceRange — Traefik's IPAllowLister,
// with its ipStrategy; ipWhiteList is the deprecated name Traefik still accepts (without rejectStatusCode).
import { STATUS_CODES } from 'node:http';
import { defineConnectionMiddleware, definePlugin, forwardedIPPicker, ipMatcher, maskIPv6, type ConnectionMiddleware, type Next, type PluginContext, type Static, type WharfContext } from '@wharf/core';
import { ipAllowListSchema, ipWhiteListSchema, tcpIPAllowListSchema, type IPStrategyConfig } from './schema.js';

export { ipAllowListSchema as schema, ipWhiteListSchema, tcpIPAllowListSchema } from './schema.js';
export type IPAllowListConfig = Static<typeof ipAllowListSchema>;

/** The client IP a request is judged by; '' when the strategy finds none (then no range contains it). */
export type ClientIPOf = (ctx: WharfContext) => string;

/** Traefik's IPStrategy.Get: depth (wins), then excludedIPs, else the TCP peer; ipv6Subnet applies to depth and peer only. */
export function clientIPStrategy(strategy: IPStrategyConfig | undefined): ClientIPOf {
  const pick = forwardedIPPicker(strategy ?? {}, 'ipStrategy');
  const subnet = strategy?.ipv6Subnet;
  const mask = (ip: string) => (subnet === undefined ? ip : maskIPv6(ip, subnet));
  if (pick === undefined) {
    return function peerIP(ctx) {
      return mask(ctx.wharf.clientIP);
    };
  }
  const byDepth = (strategy?.depth ?? 0) > 0;
  return function forwardedIP(ctx) {
    // An untrusted peer's X-Forwarded-For is ignored, as Traefik's entrypoint strips it: the strategy then finds
    // nothing and the request is refused, rather than letting a client write its own address.
    if (!ctx.wharf.trustForwarded) return '';
    const ip = pick(ctx.req.headers['x-forwarded-for']) ?? '';
    return byDepth ? mask(ip) : ip;
  };
}

/** Checks what the schema cannot; messages name the field (and the entry). */
function check(options: { sourceRange: string[]; ipStrategy?: IPStrategyConfig; rejectStatusCode?: number }): void {
  if (options.sourceRange.length === 0) throw new Error('sourceRange: is empty; list the allowed IPs or CIDR ranges');
  ipMatcher(options.sourceRange, 'sourceRange');
  ipMatcher(options.ipStrategy?.excludedIPs ?? [], 'ipStrategy.excludedIPs');
  const code = options.rejectStatusCode ?? 0;
  if (code !== 0 && STATUS_CODES[code] === undefined) throw new Error(`rejectStatusCode: ${code} is not a known HTTP status code`);
}

/** The middleware both names share. */
function allowList(options: { sourceRange: string[]; ipStrategy?: IPStrategyConfig; rejectStatusCode?: number }, context: PluginContext) {
  const allowed = ipMatcher(options.sourceRange, 'sourceRange');
  const clientIP = clientIPStrategy(options.ipStrategy);
  if (options.ipStrategy?.depth && options.ipStrategy.excludedIPs?.length) {
    context.log.warn('ipStrategy: depth is set, so excludedIPs is ignored (as in Traefik)');
  }
  // 0 means the default, as in Traefik; the body is the status text, as Traefik writes it.
  const status = options.rejectStatusCode || 403;
  const body = STATUS_CODES[status] ?? '';
  return function ipAllowList(ctx: WharfContext, next: Next): Promise<void> {
    const ip = clientIP(ctx);
    if (allowed(ip)) return next();
    // Named on the request so the access log and metrics attribute the refusal to this middleware.
    ctx.wharf.rejectedBy = context.name;
    context.log.debug(`rejecting IP '${ip}': in none of the allowed ranges`);
    ctx.status = status;
    ctx.body = body;
    return Promise.resolve();
  };
}

/** TCP routers: a connection from outside sourceRange is closed before any byte reaches the service (Traefik's TCP IPAllowLister). */
function connectionAllowList(options: { sourceRange: string[] }, context: Pick<PluginContext, 'name' | 'log'>): ConnectionMiddleware {
  const allowed = ipMatcher(options.sourceRange, 'sourceRange');
  return function ipAllowListConnection(connection, next) {
    if (allowed(connection.clientIP)) return next(connection);
    context.log.debug(`closing the connection from IP '${connection.clientIP}': in none of the allowed ranges`);
    connection.socket.destroy();
  };
}

const tcpAllowList = defineConnectionMiddleware({ schema: tcpIPAllowListSchema, validate: check, create: connectionAllowList });

export default definePlugin({
  name: 'ipAllowList',
  description: 'Allow requests (or TCP connections) only from listed IPs and CIDR ranges (client IP from the peer or X-Forwarded-For).',
  schema: ipAllowListSchema,
  validate: check,
  create: allowList,
  tcp: tcpAllowList,
});

/** Traefik's deprecated name: the same middleware, without rejectStatusCode, and a warning to rename it. */
export const ipWhiteList = definePlugin({
  name: 'ipWhiteList',
  description: 'Deprecated: use ipAllowList (same options, 403 only).',
  schema: ipWhiteListSchema,
  validate: check,
  create(options, context) {
    context.log.warn(`middleware ${context.name}: ipWhiteList is deprecated, use ipAllowList (same options)`);
    return allowList(options, context);
  },
  tcp: tcpAllowList,
});


