// buffering: reads the whole request before it goes upstream (413 past maxRequestBodyBytes, a temporary file past
// memRequestBodyBytes) and holds the whole answer before it goes to the client (500 past maxResponseBodyBytes) —
// Traefik's Buffering (oxy's buffer). The upstream gets the body with a Content-Length, and every retry gets the
// same bytes (ctx.wharf.requestBody); retryExpression becomes the load balancer's retry policy (ctx.wharf.retry).
import { definePlugin, hasRequestBody, isReplayableBody, replaceRequestBody, Type, wrapResponse, type Next, type RetryPolicy, type Static, type WharfContext } from '@wharf/core';
import { ExpressionError, parseRetryExpression, type RetryFacts, type RetryPredicate } from './expression.js';
import { holdRequestBody } from './request.js';
import { BufferingWriter, type ResponseLimits } from './response.js';

export { parseRetryExpression, ExpressionError, type RetryFacts, type RetryPredicate } from './expression.js';
export { held, spillDirectory } from './spool.js';

/** oxy's DefaultMemBodyBytes. */
const ONE_MIB = 1048576;
/** oxy's DefaultMaxRetryAttempts: the expression is asked after at most this many tries. */
const MAX_RETRY_ATTEMPTS = 10;

export const schema = Type.Object(
  {
    maxRequestBodyBytes: Type.Integer({
      minimum: 0,
      default: 0,
      description: 'Largest request body in bytes; a larger one is answered 413 and never forwarded (also when Content-Length announces it); 0 = no limit (default 0).',
    }),
    memRequestBodyBytes: Type.Integer({
      minimum: 0,
      default: ONE_MIB,
      description: 'Request body bytes held in memory; past this the body goes to a temporary file, removed when the request ends (default 1048576).',
    }),
    maxResponseBodyBytes: Type.Integer({
      minimum: 0,
      default: 0,
      description: 'Largest response body in bytes; a larger answer is replaced by 500 Internal Server Error; 0 = no limit (default 0).',
    }),
    memResponseBodyBytes: Type.Integer({
      minimum: 0,
      default: ONE_MIB,
      description: 'Response body bytes held in memory; past this the answer goes to a temporary file (default 1048576).',
    }),
    retryExpression: Type.String({
      default: '',
      description: 'When to send the request again, e.g. `IsNetworkError() && Attempts() <= 2`: `&&`, `||` over `IsNetworkError()`, `Attempts()`, `ResponseCode()`, `RequestMethod()` (default none).',
    }),
  },
  { additionalProperties: false },
);

export type BufferingConfig = Static<typeof schema>;

const TOO_LARGE = 'Request Entity Too Large';

export default definePlugin({
  name: 'buffering',
  description: 'Read the whole request (and answer) before passing it on: caps body sizes (413/500), spills large bodies to disk.',
  schema,
  validate(options) {
    if (options.retryExpression !== '') expressionPolicy(options.retryExpression);
  },
  create(options, context) {
    const { maxRequestBodyBytes, memRequestBodyBytes } = options;
    const responseLimits: ResponseLimits = { maxBytes: options.maxResponseBodyBytes, memBytes: options.memResponseBodyBytes };
    const policy = options.retryExpression === '' ? undefined : expressionPolicy(options.retryExpression);

    function reject(ctx: WharfContext, announced: boolean): void {
      ctx.wharf.rejectedBy = context.name;
      ctx.status = 413;
      // Go's (and so Traefik's) reason phrase; Node's is "Payload Too Large".
      ctx.message = TOO_LARGE;
      ctx.body = TOO_LARGE;
      if (announced) {
        // The body was announced, not read: close rather than read it all to reuse the connection.
        ctx.set('Connection', 'close');
      } else {
        // Partly read: the rest is read and dropped so the connection can serve the next request.
        ctx.req.resume();
      }
    }

    /** With the request body in hand: the retry policy, the response held, the rest of the chain. */
    function passOn(ctx: WharfContext, next: Next): Promise<void> {
      if (policy !== undefined) ctx.wharf.retry = policy;
      const method = ctx.req.method ?? 'GET';
      if (method !== 'HEAD') wrapResponse(ctx, (inner) => new BufferingWriter(inner, responseLimits, method, ctx.res));
      return next();
    }

    return async function buffering(ctx: WharfContext, next: Next): Promise<void> {
      const req = ctx.req;
      if (maxRequestBodyBytes > 0 && Number(req.headers['content-length'] ?? 0) > maxRequestBodyBytes) {
        reject(ctx, true);
        return;
      }
      const already = ctx.wharf.requestBody;
      if (already !== undefined) {
        // An earlier middleware (retry, forwardAuth) read the body already: only the limit is left to check.
        if (maxRequestBodyBytes > 0 && isReplayableBody(already) && already.length > maxRequestBodyBytes) reject(ctx, false);
        else await passOn(ctx, next);
        return;
      }
      const spool = hasBody(ctx) ? await holdRequestBody(req, maxRequestBodyBytes, memRequestBodyBytes) : undefined;
      if (spool === 'gone') {
        // The client left mid-body: nobody to answer.
        ctx.respond = false;
        return;
      }
      if (spool === 'too large') {
        reject(ctx, false);
        return;
      }
      try {
        if (spool !== undefined) replaceRequestBody(ctx, spool);
        await passOn(ctx, next);
      } finally {
        // The exchange is over (next() resolves once the upstream answered, failed or the client left).
        if (spool !== undefined) await spool.release().catch((err: unknown) => context.log.warn(`could not remove a buffered request body: ${String(err)}`));
      }
    };
  },
});

/** A body to read: announced by Content-Length or Transfer-Encoding, and not a protocol switch (whose bytes are the tunnel's). */
function hasBody(ctx: WharfContext): boolean {
  const headers = ctx.req.headers;
  if (headers.upgrade !== undefined && /upgrade/i.test(headers.connection ?? '')) return false;
  return hasRequestBody(ctx.req);
}

/**
 * The load balancer's policy for a retryExpression: it is asked after each try with the answer's status (or the
 * gateway's 502/504 for a failed try), up to oxy's ten times; every method may be sent again, since the body is held.
 */
function expressionPolicy(expression: string): RetryPolicy {
  let predicate: RetryPredicate;
  try {
    predicate = parseRetryExpression(expression);
  } catch (err) {
    if (err instanceof ExpressionError) throw new Error(`buffering.retryExpression: ${err.message}`, { cause: err });
    throw err;
  }
  // Filled and read synchronously per question: one object for every request.
  const facts: RetryFacts = { attempts: 0, responseCode: 0, method: '' };
  return Object.freeze({
    attempts: MAX_RETRY_ATTEMPTS + 1,
    initialIntervalMs: 0,
    networkErrors: false,
    nonIdempotent: true,
    retryOn(status: number, attempt: number, method: string): boolean {
      facts.attempts = attempt;
      facts.responseCode = status;
      facts.method = method;
      return predicate(facts);
    },
  });
}
