// Which count a request belongs to: Traefik's sourceCriterion (GetSourceExtractor), defaulting to requestHost for
// inFlightReq. The X-Forwarded-For strategies are core's, shared with rateLimit and ipAllowList.
import { isIP } from 'node:net';
import { forwardedIPPicker, ipMatcher, maskIPv6, type WharfContext } from '@wharf/core';
import type { InFlightReqConfig } from './schema.js';

export type SourceOf = (ctx: WharfContext) => string;

/** One criterion at most, addresses that parse; messages name the fields. */
export function checkSourceCriterion(options: InFlightReqConfig): void {
  const criterion = options.sourceCriterion ?? {};
  const set = (['ipStrategy', 'requestHeaderName', 'requestHost'] as const).filter((k) => criterion[k] !== undefined && criterion[k] !== false);
  if (set.length > 1) throw new Error(`sourceCriterion: ${set.map((k) => `sourceCriterion.${k}`).join(' and ')} are mutually exclusive; set only one`);
  ipMatcher(criterion.ipStrategy?.excludedIPs ?? [], 'sourceCriterion.ipStrategy.excludedIPs');
}

/** The key function, built once per configuration generation. */
export function sourceOf(options: InFlightReqConfig): SourceOf {
  const criterion = options.sourceCriterion ?? {};
  if (criterion.requestHeaderName !== undefined) {
    const name = criterion.requestHeaderName.toLowerCase();
    return function headerSource(ctx) {
      const value = ctx.req.headers[name];
      // Without the header every request shares the empty key, as oxy's request.header extractor gives.
      return `hdr:${Array.isArray(value) ? value.join(',') : (value ?? '')}`;
    };
  }
  if (criterion.ipStrategy === undefined) {
    return function hostSource(ctx) {
      return `host:${ctx.host.toLowerCase()}`;
    };
  }
  const strategy = criterion.ipStrategy;
  const pick = forwardedIPPicker(strategy, 'sourceCriterion.ipStrategy');
  const subnet = strategy.ipv6Subnet;
  return function ipSource(ctx) {
    // Only a trusted peer's X-Forwarded-For counts; else (or when it names no address) the TCP peer, as rateLimit.
    const forwarded = pick && ctx.wharf.trustForwarded ? pick(ctx.req.headers['x-forwarded-for']) : undefined;
    const ip = forwarded !== undefined && isIP(forwarded) !== 0 ? forwarded : ctx.wharf.clientIP;
    return `ip:${subnet !== undefined ? maskIPv6(ip, subnet) : ip}`;
  };
}
