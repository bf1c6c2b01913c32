// Shared plugin state: reducers that run in one place (this process, or the cluster primary for workers).
import { Deadlines, type Deadline } from '../deadlines.js';
import { messageOf } from '../errors.js';
import type { SharedState } from './contract.js';

/**
 * Runs in one process against that reducer's store. It may return a promise (the caller gets what it
 * resolves to); change the store before the first `await` so read-modify-write stays atomic.
 */
export type Reducer = (state: Map<string, unknown>, key: string, arg: unknown) => unknown;

/** A worker's call, sent to the primary over the cluster IPC channel. */
export interface SharedCall {
  type: 'wharf:shared';
  id: number;
  reducer: string;
  key: string;
  arg: unknown;
}

/** The primary's answer to one SharedCall. */
export interface SharedReply {
  type: 'wharf:shared-reply';
  id: number;
  result?: unknown;
  error?: string;
}

// A worker's call is a request in flight (a rate limit check): waiting longer than this for the primary
// means it is stuck or the message was lost, and the request had better fail than hang.
export const SHARED_CALL_TIMEOUT_MS = 5_000;

const reducers = new Map<string, Reducer>();
const stores = new Map<string, Map<string, unknown>>();

/** Registers a reducer under a unique name; plugins do this at module load so the primary knows it too. */
export function defineReducer(name: string, reducer: Reducer): void {
  reducers.set(name, reducer);
}

/** Runs a reducer against its store in this process (the primary answers workers with this). */
export function runReducer(name: string, key: string, arg: unknown): unknown {
  const reducer = reducers.get(name);
  if (!reducer) throw new Error(`no shared reducer named '${name}' is registered in this process`);
  let store = stores.get(name);
  if (!store) stores.set(name, (store = new Map()));
  return reducer(store, key, arg);
}

/** Shared state for a single process: reducers run inline. */
export function localSharedState(): SharedState {
  return {
    call: async <R>(reducer: string, key: string, arg: unknown) => (await runReducer(reducer, key, arg)) as R,
  };
}

/** The primary's side: runs a worker's call (synchronously, so it is atomic) and builds the reply. */
export async function answerSharedCall(call: SharedCall): Promise<SharedReply> {
  try {
    return { type: 'wharf:shared-reply', id: call.id, result: await runReducer(call.reducer, call.key, call.arg) };
  } catch (err) {
    return { type: 'wharf:shared-reply', id: call.id, error: messageOf(err) };
  }
}

interface Waiter {
  reducer: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  deadline: Deadline;
}

/**
 * A worker's shared state: each call is answered by the primary, which holds the one copy. A call fails
 * after `timeoutMs` without an answer, and every pending call fails at once if the IPC channel closes.
 */
export function ipcSharedState(options: { timeoutMs?: number } = {}): SharedState {
  const timeoutMs = options.timeoutMs ?? SHARED_CALL_TIMEOUT_MS;
  // Calls are per request (a rate limit check): one timer for all of them, not one each.
  const deadlines = new Deadlines(() => timeoutMs);
  let nextId = 0;
  const pending = new Map<number, Waiter>();
  const settle = (id: number): Waiter | undefined => {
    const waiter = pending.get(id);
    if (!waiter) return undefined;
    pending.delete(id);
    deadlines.settle(waiter.deadline);
    return waiter;
  };
  process.on('message', (msg: SharedReply) => {
    if (msg?.type !== 'wharf:shared-reply') return;
    // A reply after the timeout finds no waiter: dropped.
    const waiter = settle(msg.id);
    if (msg.error !== undefined) waiter?.reject(new Error(`shared reducer '${waiter.reducer}' failed in the cluster primary: ${msg.error}`));
    else waiter?.resolve(msg.result);
  });
  process.on('disconnect', () => {
    for (const id of [...pending.keys()]) {
      const waiter = settle(id)!;
      waiter.reject(channelClosed(waiter.reducer));
    }
  });
  return {
    call: <R>(reducer: string, key: string, arg: unknown) =>
      new Promise<R>((resolve, reject) => {
        if (!process.connected || !process.send) return reject(channelClosed(reducer));
        const id = nextId++;
        const deadline = deadlines.add(() => settle(id)?.reject(timedOut(reducer, key, timeoutMs)));
        pending.set(id, { reducer, resolve: resolve as (v: unknown) => void, reject, deadline });
        // The callback sees a send that failed (the channel closing meanwhile) instead of an 'error' event that would crash the worker.
        process.send({ type: 'wharf:shared', id, reducer, key, arg } satisfies SharedCall, undefined, {}, (err: Error | null) => {
          if (err) settle(id)?.reject(new Error(`shared reducer '${reducer}': cannot reach the cluster primary: ${err.message}`, { cause: err }));
        });
      }),
  };
}

function timedOut(reducer: string, key: string, ms: number): Error {
  return new Error(
    `shared reducer '${reducer}' (key '${key}'): the cluster primary did not answer within ${ms} ms; ` +
      'it is blocked or overloaded, or lost the message: check its log and CPU',
  );
}

function channelClosed(reducer: string): Error {
  return new Error(`shared reducer '${reducer}': the IPC channel to the cluster primary is closed (the primary exited or is stopping this worker)`);
}
