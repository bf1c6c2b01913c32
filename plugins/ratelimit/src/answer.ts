// What clients see: the 429 and 503 answers and the RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-11).
import type { OutgoingHttpHeaders } from 'node:http';
import { onResponseHeaders, type WharfContext } from '@wharf/core';
import { msUntilFull, type BucketLimits } from './bucket.js';

/** Traefik's 429: Retry-After in whole seconds rounded up, X-Retry-In as a Go duration, a short text body. */
export function tooManyRequests(ctx: WharfContext, waitMs: number): void {
  // Set on ctx (not thrown) so the access log and metrics see the 429 like any other answer.
  ctx.status = 429;
  ctx.set('Retry-After', String(retryAfterSeconds(waitMs)));
  ctx.set('X-Retry-In', goDuration(waitMs));
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = 'Too Many Requests\n';
}

/** onStoreError: deny while the shared store cannot answer. */
export function storeUnavailable(ctx: WharfContext): void {
  ctx.status = 503;
  ctx.set('Retry-After', '1');
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = 'Service Unavailable: the rate limit store cannot be reached\n';
}

export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

/** Precomputed per middleware: the policy never changes within a configuration generation. */
export interface HeaderPolicy {
  readonly limits: BucketLimits;
  /** `"api-rl";q=200;w=2` */
  readonly policy: string;
  readonly name: string;
}

/**
 * The bucket as a quota: q = burst, regained in full over w = burst / rate seconds. The partition key
 * (pk) is left out on purpose: it would echo the client's API key or address back in every response.
 */
export function headerPolicy(middleware: string, limits: BucketLimits): HeaderPolicy {
  const name = sfString(middleware.split('@')[0] || 'ratelimit');
  const window = Math.max(1, Math.ceil(limits.burst / limits.ratePerMs / 1000));
  return { limits, name, policy: `${name};q=${limits.burst};w=${window}` };
}

/** The header fields for one decision; `refusedWaitMs` set on a 429 so `t` matches Retry-After (draft §6). */
export function rateLimitHeaders(policy: HeaderPolicy, bucket: { readonly tokens: number }, nowMs: number, refusedWaitMs?: number): Record<string, string> {
  const remaining = Math.max(0, Math.floor(bucket.tokens));
  const fullMs = msUntilFull(bucket.tokens, policy.limits);
  const t = refusedWaitMs !== undefined ? retryAfterSeconds(refusedWaitMs) : Math.ceil(fullMs / 1000);
  return {
    'ratelimit-policy': policy.policy,
    ratelimit: `${policy.name};r=${remaining};t=${t}`,
    'x-ratelimit-limit': String(policy.limits.burst),
    'x-ratelimit-remaining': String(remaining),
    'x-ratelimit-reset': String(Math.ceil((nowMs + fullMs) / 1000)),
  };
}

/** Adds the fields to a proxied response (header hook) or to an answer made inside the chain (after next). */
export function addHeadersToResponse(ctx: WharfContext, fields: Record<string, string>): void {
  onResponseHeaders(ctx, (_status, out: OutgoingHttpHeaders) => Object.assign(out, fields));
}

export function addHeadersAfterChain(ctx: WharfContext, fields: Record<string, string>): void {
  if (ctx.respond === false || ctx.res.headersSent) return;
  for (const [name, value] of Object.entries(fields)) ctx.set(name, value);
}

/** An sf-string (RFC 8941 §3.3.3): printable ASCII, with `"` and `\` escaped. */
function sfString(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '_');
  return `"${printable.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Go's time.Duration.String(), as Traefik writes X-Retry-In (`1.5s`, `250ms`, `1m0s`), to the microsecond. */
export function goDuration(ms: number): string {
  let us = Math.round(ms * 1000);
  if (us <= 0) return '0s';
  if (us < 1000) return `${us}µs`;
  if (us < 1_000_000) return `${trimFraction(us / 1000)}ms`;
  const hours = Math.floor(us / 3_600_000_000);
  us -= hours * 3_600_000_000;
  const minutes = Math.floor(us / 60_000_000);
  us -= minutes * 60_000_000;
  const seconds = `${trimFraction(us / 1_000_000)}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

function trimFraction(n: number): string {
  return n.toFixed(6).replace(/\.?0+$/, '');
}
