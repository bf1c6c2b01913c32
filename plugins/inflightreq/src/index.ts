// inFlightReq: at most `amount` requests in progress per source; the next gets 429 — Traefik's InFlightReq (oxy's
// connlimit). A slot is held until the response is over, however it ends, and given back exactly once; under
// --workers the cluster primary keeps the counts (shared.ts).
import cluster from 'node:cluster';
import { definePlugin, type Next, type PluginContext, type WharfContext } from '@wharf/core';
import { schema } from './schema.js';
import { SharedInFlight } from './shared.js';
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

/** Takes and gives back slots: in this process, or (a worker under --workers) in the cluster primary. */
interface Slots {
  /** true: a slot taken; false: full; 'uncounted': the shared counts did not answer, serve without a slot. */
  acquire(key: string): boolean | Promise<boolean | 'uncounted'>;
  release(key: string): void;
}

function slotsFor(amount: number, context: PluginContext): Slots {
  if (!cluster.isWorker) return new InFlightCounter(amount);
  // Named after the middleware and its amount: a reload that keeps both keeps counting the requests in flight.
  const shared = new SharedInFlight(context.shared, `${context.name} ${amount}`, amount);
  return {
    acquire: (key) =>
      shared.acquire(key).catch((err: unknown) => {
        // The primary did not answer (stuck or gone): serve rather than refuse everything; this slot is not counted.
        context.log.warn(`counts shared by the workers unavailable, request served uncounted: ${err instanceof Error ? err.message : String(err)}`);
        return 'uncounted' as const;
      }),
    release: (key) =>
      void shared.release(key).catch((err: unknown) => context.log.warn(`could not give back a slot: ${err instanceof Error ? err.message : String(err)}`)),
  };
}

export default definePlugin({
  name: 'inFlightReq',
  description: 'Limit the requests in progress at once per source (Host, a header or the client IP); more get 429.',
  schema,
  validate: checkSourceCriterion,
  create(options, context) {
    if (options.amount === 0) context.log.warn('amount: 0 refuses every request (as in Traefik)');
    const slots = slotsFor(options.amount, context);
    const source = sourceOf(options);
    const body = `max connections reached: ${options.amount}`;
    return async function inFlightReq(ctx: WharfContext, next: Next): Promise<void> {
      const key = source(ctx);
      const granted = await slots.acquire(key);
      if (granted === 'uncounted') return next();
      if (!granted) {
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
        slots.release(key);
      };
      ctx.res.once('close', release);
      await next();
    };
  },
});
