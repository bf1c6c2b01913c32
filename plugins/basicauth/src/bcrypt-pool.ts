// bcrypt costs tens of milliseconds of CPU per check (2^cost rounds): it runs in a worker thread so the gateway's
// event loop keeps serving other requests meanwhile. One worker per process, started on first use and unref'd.
import { Worker } from 'node:worker_threads';

interface Pending {
  resolve(ok: boolean): void;
  reject(err: Error): void;
}

let worker: Worker | undefined;
let nextId = 0;
let compares = 0;
const pending = new Map<number, Pending>();

function started(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('./bcrypt-worker.js', import.meta.url));
  w.unref(); // never what keeps the process alive
  w.on('message', ({ id, ok }: { id: number; ok: boolean }) => {
    const call = pending.get(id);
    pending.delete(id);
    call?.resolve(ok);
    if (pending.size === 0) w.unref();
  });
  // A dead worker fails what it had in hand; the next check starts a new one.
  const fail = (err: Error) => {
    if (worker === w) worker = undefined;
    for (const call of pending.values()) call.reject(err);
    pending.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`bcrypt worker exited (${code})`)));
  worker = w;
  return w;
}

/** How many bcrypt comparisons this process has asked for: what the cache of successes saves is seen here. */
export function bcryptCompares(): number {
  return compares;
}

/** Compares in the worker; the secret's `$2x$`/`$2y$` read as `$2b$` (the same algorithm, as Go's bcrypt does). */
export function bcryptCompare(password: Buffer, secret: string): Promise<boolean> {
  const w = started();
  compares++;
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    // While checks are pending the worker must keep the process up to answer them.
    w.ref();
    w.postMessage({ id, password, secret: `$2b$${secret.slice(4)}` });
  });
}
