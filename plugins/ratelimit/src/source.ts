// Which bucket a request draws from: client IP (optionally from a trusted X-Forwarded-For), a header, or the host.
import { createHash } from 'node:crypto';
import { checkSourceCriterion as checkCriterion, clientIPKey, type WharfContext } from '@wharf/core';
import type { RateLimitConfig } from './schema.js';

export type SourceOf = (ctx: WharfContext) => string;

// Longer keys (a header can hold kilobytes) are hashed so one client cannot make a bucket key huge.
const MAX_KEY_LENGTH = 200;

/** Checks what the schema cannot: core's sourceCriterion checks, and missingKey's condition. Messages name the fields. */
export function checkSourceCriterion(options: RateLimitConfig): void {
  checkCriterion(options.sourceCriterion);
  if (options.missingKey !== undefined && options.sourceCriterion?.requestHeaderName === undefined) {
    throw new Error('missingKey: only applies with sourceCriterion.requestHeaderName');
  }
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
  return clientIPKey(criterion.ipStrategy);
}

function bounded(key: string): string {
  if (key.length <= MAX_KEY_LENGTH) return key;
  return `sha256:${createHash('sha256').update(key).digest('base64url')}`;
}
