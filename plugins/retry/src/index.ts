// retry: asks the load balancer to try other servers, with exponential back-off, when a try fails or answers
// with a listed status — Traefik's retry. The retries happen in the service (ctx.wharf.retry), where the
// servers are known: calling next() again is not possible in a Koa chain, and would re-run every middleware
// after this one. What this middleware does per request is set the policy and, when statuses are retried,
// read a small body in full so that it can be sent again.
import { definePlugin, Duration, formatDuration, replaceRequestBody, StringList, Type, type Next, type RetryPolicy, type Static, type WharfContext } from '@wharf/core';
import { readSmallBody } from './body.js';
import { parseStatusRanges } from './status.js';

export { parseStatusRanges } from './status.js';

/** Traefik's RetryDefaultMaxRequestBodyBytes. */
const DEFAULT_MAX_REQUEST_BODY_BYTES = 2 * 1024 * 1024;

export const schema = Type.Object(
  {
    attempts: Type.Integer({ minimum: 1, description: 'Tries in all, the first one included; 1 = never retry.' }),
    initialInterval: Duration({ default: 0, description: 'Wait before the first retry, doubled before each next one; 0 = retry at once (default 0).' }),
    maxInterval: Type.Optional(Duration({ description: 'Longest wait between two tries (default: twice initialInterval, fixed in Traefik, which has no such option).' })),
    timeout: Duration({ default: 0, description: 'Time from the first try after which no retry starts: the next answer or failure goes to the client; 0 = no limit (default 0).' }),
    status: StringList({
      default: [],
      description: 'Upstream statuses to retry on, codes or ranges such as `503` or `500-599` (default none); the answer is held back, not sent.',
    }),
    maxRequestBodyBytes: Type.Integer({
      minimum: -1,
      default: DEFAULT_MAX_REQUEST_BODY_BYTES,
      description: 'Largest request body, in bytes, read in full so that it can be sent again on a status retry; larger bodies are not retried on status; -1 = no limit (default 2097152).',
    }),
    disableRetryOnNetworkError: Type.Boolean({ default: false, description: 'Do not retry connection failures, only the `status` answers (default false).' }),
    retryNonIdempotentMethod: Type.Boolean({ default: false, description: 'Also send POST, PATCH and LOCK requests again once a server received them (default false).' }),
  },
  { additionalProperties: false },
);

export type RetryConfig = Static<typeof schema>;

const NON_IDEMPOTENT = new Set(['POST', 'PATCH', 'LOCK']);

export default definePlugin({
  name: 'retry',
  description: 'Retries a request on another server when a try failed or answered with a listed status.',
  schema,
  validate(options) {
    if (options.maxInterval !== undefined && options.maxInterval < options.initialInterval) {
      throw new Error(`retry.maxInterval (${formatDuration(options.maxInterval)}) must not be shorter than retry.initialInterval (${formatDuration(options.initialInterval)})`);
    }
    parseStatusRanges(options.status);
    if (options.disableRetryOnNetworkError && options.status.length === 0) {
      throw new Error('retry.disableRetryOnNetworkError: with network errors off, list the statuses to retry on in retry.status, or nothing is ever retried');
    }
  },
  create(options) {
    const retryOn = statusMatcher(options.status);
    const policy: RetryPolicy = Object.freeze({
      attempts: options.attempts,
      initialIntervalMs: options.initialInterval,
      maxIntervalMs: options.maxInterval,
      networkErrors: !options.disableRetryOnNetworkError,
      retryOn,
      nonIdempotent: options.retryNonIdempotentMethod,
      timeoutMs: options.timeout,
    });
    const limit = options.maxRequestBodyBytes;
    const nonIdempotent = options.retryNonIdempotentMethod;

    /** Only a status retry after the server received the request needs the body again (Traefik reads it only then). */
    function mayReadBody(ctx: WharfContext): boolean {
      if (retryOn === undefined || options.attempts === 1 || ctx.wharf.requestBody !== undefined) return false;
      return nonIdempotent || !NON_IDEMPOTENT.has(ctx.req.method ?? 'GET');
    }

    return async function retry(ctx: WharfContext, next: Next) {
      ctx.wharf.retry = policy;
      if (mayReadBody(ctx)) {
        const read = await readSmallBody(ctx.req, limit);
        if (read === 'gone') {
          ctx.respond = false;
          return;
        }
        // Too large: the bytes read are back in the stream, which goes upstream as it came, retried on network errors only.
        if (read !== 'too large') replaceRequestBody(ctx, read);
      }
      await next();
    };
  },
});

/** The policy's retryOn for the configured statuses; undefined when none is. */
function statusMatcher(status: readonly string[]): RetryPolicy['retryOn'] {
  if (status.length === 0) return undefined;
  const ranges = parseStatusRanges(status);
  return function retriedStatus(code: number): boolean {
    for (let i = 0; i < ranges.length; i += 2) {
      if (code >= ranges[i]! && code <= ranges[i + 1]!) return true;
    }
    return false;
  };
}
