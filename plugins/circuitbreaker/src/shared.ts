// One circuit breaker for every worker under --workers: the authorities (metrics and trips) live in the cluster
// primary. A worker decides each request from the last trip it heard of, and sends its outcomes in one message per
// checkPeriod at most; the answer is the breaker's current trip. A trip is heard by every worker within a
// checkPeriod of its next response.
import cluster from 'node:cluster';
import { defineReducer, type Logger, type PluginContext } from '@wharf/core';
import { BreakerRegistry, NEVER_TRIPPED, type BreakerSettings, type BreakerState, type BreakerView, type TransitionLog } from './breaker.js';

const REDUCER = 'circuitBreaker';
/** A worker sends its outcomes at most this often even with a tiny checkPeriod, to spare the primary. */
const MIN_FLUSH_MS = 10;

export interface SyncArg {
  middleware: string;
  router: string;
  settings: BreakerSettings;
  /** status, latency in µs, status, latency, … */
  outcomes: number[];
}

/** The primary's breakers (--workers). */
const primaryRegistry = new BreakerRegistry();
/** The primary's logger, from the plugin's `primary` hook: transitions are logged there, once. */
let primaryLog: Logger | undefined;

export function setPrimaryLog(log: Logger): void {
  primaryLog = log;
}

/** Logs a transition at warn (open) or info (recovering, closed). */
export function transitionLog(log: () => Logger | undefined, fields: Record<string, string>): TransitionLog {
  return (state: BreakerState, message: string) => {
    const logger = log();
    if (state === 'open') logger?.warn(fields, message);
    else logger?.info(fields, message);
  };
}

function reducer(_state: Map<string, unknown>, key: string, arg: unknown): BreakerView {
  const { middleware, router, settings, outcomes } = arg as SyncArg;
  const authority = primaryRegistry.get(key, settings, transitionLog(() => primaryLog, { middleware, router }));
  for (let i = 0; i + 1 < outcomes.length; i += 2) authority.record(outcomes[i]!, outcomes[i + 1]!);
  authority.check();
  return authority.view;
}

// Registered at module load: the primary loads this plugin too, and runs the reducer for every worker.
defineReducer(REDUCER, reducer);

/** A worker's copy of one router's breaker: the last view heard from the primary and the outcomes not sent yet. */
export class RemoteBreaker {
  view: BreakerView = NEVER_TRIPPED;
  private pending: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private warned = false;

  constructor(
    private readonly key: string,
    private readonly arg: Omit<SyncArg, 'outcomes'>,
    private readonly context: PluginContext,
  ) {
    context.signal.addEventListener('abort', () => clearTimeout(this.timer), { once: true });
  }

  record(status: number, latencyUs: number): void {
    this.pending.push(status, latencyUs);
    if (this.timer === undefined && !this.context.signal.aborted) {
      this.timer = setTimeout(() => this.flush(), Math.max(this.arg.settings.checkPeriod, MIN_FLUSH_MS));
      this.timer.unref();
    }
  }

  private flush(): void {
    this.timer = undefined;
    const outcomes = this.pending;
    this.pending = [];
    this.context.shared.call<BreakerView>(REDUCER, this.key, { ...this.arg, outcomes } satisfies SyncArg).then(
      (view) => {
        this.view = view;
        this.warned = false;
      },
      (err: unknown) => {
        // The primary did not answer: keep deciding from the last view; say so once per outage.
        if (this.warned) return;
        this.warned = true;
        this.context.log.warn(`circuit breaker state shared by the workers unavailable, using the last one known: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  }
}

export const isWorker = (): boolean => cluster.isWorker;
