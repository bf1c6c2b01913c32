// In-memory bucket limiters: per gateway process, or in the cluster primary (ctx.shared) so --workers=N share one budget.
import { performance } from 'node:perf_hooks';
import { defineReducer, type PluginContext, type SharedState } from '@wharf/core';
import { BucketTable, type BucketLimits, type Take } from './bucket.js';
import { BucketLimiter } from './limiter.js';

/**
 * Tables outlive configuration generations while a middleware keeps its name and settings, so a reload
 * (every container start, with the docker provider) does not hand every client a fresh burst.
 * Keyed by the gateway's SharedState so two gateways in one process never share buckets.
 */
const tables = new WeakMap<SharedState, Map<string, { settings: string; table: BucketTable; refs: number }>>();

/** The table for (gateway, name, settings), held until `context.signal` aborts. */
export function retainTable(context: Pick<PluginContext, 'shared' | 'signal'>, name: string, limits: BucketLimits, maxKeys: number): BucketTable {
  let byName = tables.get(context.shared);
  if (!byName) tables.set(context.shared, (byName = new Map()));
  const settings = settingsOf(limits, maxKeys);
  let entry = byName.get(name);
  if (!entry || entry.settings !== settings) {
    entry = { settings, table: new BucketTable(maxKeys), refs: 0 };
    byName.set(name, entry);
  }
  const held = entry;
  held.refs++;
  context.signal.addEventListener('abort', () => {
    if (--held.refs === 0 && byName.get(name) === held) byName.delete(name);
  }, { once: true });
  return held.table;
}

/** Buckets in this process, on the monotonic clock; also the insurance limiter behind Redis. */
export class MemoryBucketLimiter extends BucketLimiter {
  constructor(keyPrefix: string, limits: BucketLimits, private readonly table: BucketTable) {
    super(keyPrefix, limits);
  }

  protected take(key: string, points: number): Take {
    return this.table.take(key, performance.now(), this.limits, points);
  }

  /** One token now or within maxDelay, synchronously: the middleware's fast path (consume answers the same, as a promise). */
  takeNow(key: string): Take {
    return this.table.take(key, performance.now(), this.limits, 1);
  }

  protected peek(key: string): number | undefined {
    return this.table.peek(key, performance.now(), this.limits);
  }

  protected forget(key: string): boolean {
    return this.table.delete(key);
  }
}

const REDUCER = 'ratelimit.take';
// Sweep every table in the primary now and then, so tables of removed middlewares do not linger.
const SWEEP_EVERY = 4096;

/** What a worker asks the primary; JSON over IPC, so peek answers null rather than undefined. */
export type SharedOp =
  | { op: 'take'; key: string; points: number; limits: BucketLimits; maxKeys: number }
  | { op: 'peek'; key: string; limits: BucketLimits }
  | { op: 'delete'; key: string };

let calls = 0;

/** The primary's side of SharedBucketLimiter: runs one operation on the named table (exported for tests). */
export function sharedReducer(state: Map<string, unknown>, name: string, arg: unknown): Take | number | boolean | null {
  const op = arg as SharedOp;
  const now = performance.now();
  let table = state.get(name) as BucketTable | undefined;
  // Reading or forgetting must not create a table; only a take does.
  if (op.op === 'peek') return table?.peek(op.key, now, op.limits) ?? null;
  if (op.op === 'delete') return table?.delete(op.key) ?? false;
  if (!table) state.set(name, (table = new BucketTable(op.maxKeys)));
  if (++calls % SWEEP_EVERY === 0) sweep(state as Map<string, BucketTable>, now);
  return table.take(op.key, now, op.limits, op.points);
}

// Registered at module load: the primary loads this plugin too, and runs the reducer for every worker.
defineReducer(REDUCER, sharedReducer);

/** Drops the idle buckets of every table, and tables left empty (a removed middleware's, eventually). */
function sweep(state: Map<string, BucketTable>, now: number): void {
  for (const [name, table] of state) {
    table.expire(now);
    if (table.size === 0) state.delete(name);
  }
}

/**
 * Buckets kept by the cluster primary: every worker's request draws from the same bucket, one IPC round
 * trip each. The table is named after the middleware and its settings, so like the local one it survives
 * reloads that keep both.
 */
export class SharedBucketLimiter extends BucketLimiter {
  private readonly table: string;

  constructor(keyPrefix: string, limits: BucketLimits, private readonly shared: SharedState, middleware: string, private readonly maxKeys: number) {
    super(keyPrefix, limits);
    this.table = `${middleware} ${settingsOf(limits, maxKeys)}`;
  }

  protected take(key: string, points: number): Promise<Take> {
    return this.call<Take>({ op: 'take', key, points, limits: this.limits, maxKeys: this.maxKeys });
  }

  protected async peek(key: string): Promise<number | undefined> {
    return (await this.call<number | null>({ op: 'peek', key, limits: this.limits })) ?? undefined;
  }

  protected forget(key: string): Promise<boolean> {
    return this.call<boolean>({ op: 'delete', key });
  }

  private call<R>(op: SharedOp): Promise<R> {
    return this.shared.call<R>(REDUCER, this.table, op);
  }
}

function settingsOf(limits: BucketLimits, maxKeys: number): string {
  return JSON.stringify([limits.ratePerMs, limits.burst, limits.maxDelayMs, maxKeys]);
}
