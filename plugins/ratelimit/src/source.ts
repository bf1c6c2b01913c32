// Which bucket a request draws from: client IP (optionally from a trusted X-Forwarded-For), a header, or the host.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { forwardedIPPicker, ipMatcher, maskIPv6, type WharfContext } from '@wharf/core';
import type { RateLimitConfig } from './schema.js';

export type SourceOf = (ctx: WharfContext) => string;

// Longer keys (a header can hold kilobytes) are hashed so one client cannot make a bucket key huge.
const MAX_KEY_LENGTH = 200;

/** Checks what the schema cannot: one criterion at most, addresses that parse. Messages name the fields. */
export function checkSourceCriterion(options: RateLimitConfig): void {
  const criterion = options.sourceCriterion ?? {};
  const set = (['ipStrategy', 'requestHeaderName', 'requestHost'] as const).filter((k) => criterion[k] !== undefined && criterion[k] !== false);
  if (set.length > 1) {
    throw new Error(`sourceCriterion: ${set.map((k) => `sourceCriterion.${k}`).join(' and ')} are mutually exclusive; set only one`);
  }
  if (options.missingKey !== undefined && criterion.requestHeaderName === undefined) {
    throw new Error('missingKey: only applies with sourceCriterion.requestHeaderName');
  }
  ipMatcher(criterion.ipStrategy?.excludedIPs ?? [], 'sourceCriterion.ipStrategy.excludedIPs');
}

/** Builds the per-request key function once, at configuration time. */
export function sourceOf(options: RateLimitConfig): SourceOf {
  const criterion = options.sourceCriterion ?? {};
  if (criterion.requestHeaderName !== undefined) {
    const name = criterion.requestHeaderName.toLowerCase();
    const shared = options.missingKey === 'shared';
    return function headerSource(ctx) {
      const value = ctx.req.headers[name];
      const text = Array.isArray(value) ? value.join(',') : value;
      if (text !== undefined && text !== '') return bounded(`hdr:${text}`);
      return shared ? 'hdr-missing' : `ip:${ctx.wharf.clientIP}`;
    };
  }
  if (criterion.requestHost) {
    return function hostSource(ctx) {
      // Koa's host: the Host header, or :authority on HTTP/2.
      return bounded(`host:${ctx.host.toLowerCase()}`);
    };
  }
  const strategy = criterion.ipStrategy;
  const pick = forwardedIPPicker(strategy ?? {}, 'sourceCriterion.ipStrategy');
  const subnet = strategy?.ipv6Subnet;
  return function ipSource(ctx) {
    // Only a trusted peer's X-Forwarded-For counts; otherwise any client could choose its own bucket.
    const forwarded = pick && ctx.wharf.trustForwarded ? pick(ctx.req.headers['x-forwarded-for']) : undefined;
    // No usable entry: the TCP peer's bucket rather than one bucket shared by every such request.
    const ip = forwarded !== undefined && isIP(forwarded) !== 0 ? forwarded : ctx.wharf.clientIP;
    return `ip:${subnet !== undefined ? maskIPv6(ip, subnet) : ip}`;
  };
}

function bounded(key: string): string {
  if (key.length <= MAX_KEY_LENGTH) return key;
  return `sha256:${createHash('sha256').update(key).digest('base64url')}`;
}
