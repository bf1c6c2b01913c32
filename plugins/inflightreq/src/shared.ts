// Counts shared by every worker under --workers: the cluster primary keeps them (one IPC round trip to take a slot,
// a message to give it back). Each worker's slots are counted apart so that a worker that dies takes its slots
// with it instead of leaking them.
import cluster from 'node:cluster';
import { defineReducer, type SharedState } from '@wharf/core';

const REDUCER = 'inFlightReq';

type Op = { op: 'acquire'; key: string; amount: number; worker: number } | { op: 'release'; key: string; worker: number };

/** table (middleware and amount) → source key → worker id → slots. */
type Tables = Map<string, Map<string, Map<number, number>>>;

/** The primary's tables, once a worker called (to drop a dead worker's slots). */
let primaryTables: Tables | undefined;

function reducer(state: Map<string, unknown>, table: string, arg: unknown): boolean {
  const tables = state as Tables;
  primaryTables = tables;
  const op = arg as Op;
  let keys = tables.get(table);
  if (!keys) tables.set(table, (keys = new Map()));
  let workers = keys.get(op.key);
  if (op.op === 'acquire') {
    let total = 0;
    for (const n of workers?.values() ?? []) total += n;
    if (total >= op.amount) return false;
    if (!workers) keys.set(op.key, (workers = new Map()));
    workers.set(op.worker, (workers.get(op.worker) ?? 0) + 1);
    return true;
  }
  const n = workers?.get(op.worker) ?? 0;
  if (n > 1) workers!.set(op.worker, n - 1);
  else if (workers) {
    workers.delete(op.worker);
    if (workers.size === 0) keys.delete(op.key);
    if (keys.size === 0) tables.delete(table);
  }
  return true;
}

// Registered at module load: the primary loads this plugin too, and runs the reducer for every worker.
defineReducer(REDUCER, reducer);

/** In the primary: a worker that exits gives back every slot it held. */
function dropWorker(worker: number): void {
  if (!primaryTables) return;
  for (const [table, keys] of primaryTables) {
    for (const [key, workers] of keys) {
      workers.delete(worker);
      if (workers.size === 0) keys.delete(key);
    }
    if (keys.size === 0) primaryTables.delete(table);
  }
}

if (cluster.isPrimary) cluster.on('exit', (worker) => dropWorker(worker.id));

/** A worker's view of one middleware's shared counts. */
export class SharedInFlight {
  private readonly worker = cluster.worker?.id ?? 0;

  constructor(
    private readonly shared: SharedState,
    private readonly table: string,
    private readonly amount: number,
  ) {}

  acquire(key: string): Promise<boolean> {
    return this.shared.call<boolean>(REDUCER, this.table, { op: 'acquire', key, amount: this.amount, worker: this.worker });
  }

  release(key: string): Promise<unknown> {
    return this.shared.call(REDUCER, this.table, { op: 'release', key, worker: this.worker });
  }
}
