// Shared plugin state: reducers that run in one place (this process, or the cluster primary for workers).
import type { SharedState } from './contract.js';

export type Reducer = (state: Map<string, unknown>, key: string, arg: unknown) => unknown;

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
    call: async <R>(reducer: string, key: string, arg: unknown) => runReducer(reducer, key, arg) as R,
  };
}
