// inFlightReq: at most `amount` requests in progress per source; the next gets 429 — Traefik's InFlightReq (oxy's
// connlimit). A slot is held until the response is over, however it ends, and given back exactly once.
import { definePlugin, type Next, type WharfContext } from '@wharf/core';
import { schema } from './schema.js';
import { checkSourceCriterion, sourceOf } from './source.js';

export { schema, type InFlightReqConfig } from './schema.js';

/** Counts per source in this process; a source's entry goes when its count is back to zero. */
export class InFlightCounter {
  private readonly counts = new Map<string, number>();

  constructor(readonly amount: number) {}

  /** Takes a slot, or false when the source already has `amount` requests in flight. */
  acquire(key: string): boolean {
    const count = this.counts.get(key) ?? 0;
    if (count >= this.amount) return false;
    this.counts.set(key, count + 1);
    return true;
  }

  release(key: string): void {
    const count = this.counts.get(key) ?? 0;
    if (count <= 1) this.counts.delete(key);
    else this.counts.set(key, count - 1);
  }

  /** Requests in flight for a source (0 when none). */
  inFlight(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Sources with requests in flight. */
  get size(): number {
    return this.counts.size;
  }
}

export default definePlugin({
  name: 'inFlightReq',
  description: 'Limit the requests in progress at once per source (Host, a header or the client IP); more get 429.',
  schema,
  validate: checkSourceCriterion,
  create(options, context) {
    if (options.amount === 0) context.log.warn('amount: 0 refuses every request (as in Traefik)');
    const counter = new InFlightCounter(options.amount);
    const source = sourceOf(options);
    const body = `max connections reached: ${options.amount}`;
    return async function inFlightReq(ctx: WharfContext, next: Next): Promise<void> {
      const key = source(ctx);
      if (!counter.acquire(key)) {
        ctx.wharf.rejectedBy = context.name;
        ctx.status = 429;
        ctx.body = body;
        return;
      }
      // The response's 'close' comes once it is over: sent in full, the client gone, the upstream failed or timed
      // out. next() may resolve earlier (a streamed body still flowing), so the slot waits for 'close'.
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        counter.release(key);
      };
      ctx.res.once('close', release);
      await next();
    };
  },
});
