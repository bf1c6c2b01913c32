// retry: asks the load balancer to try other servers, with exponential back-off, when a connection fails
// before an answer. The retries happen in the service (ctx.wharf.retry), where the servers are known:
// calling next() again is not possible in a Koa chain, and would re-run every middleware after this one.
import { definePlugin, Duration, formatDuration, Type, type Next, type WharfContext, type WharfState } from '@wharf/core';

export const schema = Type.Object(
  {
    attempts: Type.Integer({ minimum: 1, description: 'Tries in all, the first one included; 1 = never retry.' }),
    initialInterval: Duration({ default: 0, description: 'Wait before the first retry, doubled before each next one; 0 = retry at once (default 0).' }),
    maxInterval: Type.Optional(Duration({ description: 'Longest wait between two tries (default: twice initialInterval, as Traefik).' })),
  },
  { additionalProperties: false },
);

export default definePlugin({
  name: 'retry',
  description: 'Retries a request on another server when the connection failed before anything was answered.',
  schema,
  validate(options) {
    if (options.maxInterval !== undefined && options.maxInterval < options.initialInterval) {
      throw new Error(`retry.maxInterval (${formatDuration(options.maxInterval)}) must not be shorter than retry.initialInterval (${formatDuration(options.initialInterval)})`);
    }
  },
  create(options) {
    const policy: NonNullable<WharfState['retry']> = Object.freeze({
      attempts: options.attempts,
      initialIntervalMs: options.initialInterval,
      maxIntervalMs: options.maxInterval,
    });
    return async function retry(ctx: WharfContext, next: Next) {
      ctx.wharf.retry = policy;
      await next();
    };
  },
});
