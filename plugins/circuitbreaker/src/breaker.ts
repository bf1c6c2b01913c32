// The circuit breaker's state machine, oxy's cbreaker: closed (standby) → open (tripped: every request gets the
// fallback for fallbackDuration, metrics reset) → recovering (traffic let back in linearly over recoveryDuration)
// → closed. One authority per router keeps the metrics and decides trips: in this process, or in the cluster primary
// for every worker (shared.ts). The decision per request is local (Gate), from the authority's last trip times.
import { parseExpression, type Condition } from './expression.js';
import { RoundTripMetrics, type Clock } from './metrics.js';

export interface BreakerSettings {
  expression: string;
  /** Milliseconds, > 0 (0 in the options means the default, as in Traefik). */
  checkPeriod: number;
  fallbackDuration: number;
  recoveryDuration: number;
}

/** The last trip, in wall-clock milliseconds (the same in every process of the machine); trip 0 = never tripped. */
export interface BreakerView {
  trip: number;
  /** Open until then. */
  trippedUntil: number;
  /** Recovering from trippedUntil until then; closed afterwards. */
  recoveredAt: number;
}

export type BreakerState = 'closed' | 'open' | 'recovering';

export const NEVER_TRIPPED: BreakerView = Object.freeze({ trip: 0, trippedUntil: 0, recoveredAt: 0 });

export function stateAt(view: BreakerView, now: number): BreakerState {
  if (view.trip === 0 || now >= view.recoveredAt) return 'closed';
  return now < view.trippedUntil ? 'open' : 'recovering';
}

/** Where state transitions are told, once. */
export type TransitionLog = (state: BreakerState, message: string) => void;

/** Metrics and trips of one circuit breaker (one router's). */
export class BreakerAuthority {
  view: BreakerView = NEVER_TRIPPED;
  /** When the process (or primary) last used it, to forget breakers nobody uses any more. */
  lastUsed: number;
  private readonly metrics: RoundTripMetrics;
  private readonly condition: Condition;
  private nextCheck = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly settings: BreakerSettings,
    private readonly log: TransitionLog,
    private readonly now: Clock = Date.now,
  ) {
    this.condition = parseExpression(settings.expression);
    this.metrics = new RoundTripMetrics(now);
    this.lastUsed = now();
  }

  record(status: number, latencyUs: number): void {
    this.metrics.record(status, latencyUs);
  }

  /**
   * oxy's checkAndSet, called after responses: at most once per checkPeriod, and not while open, evaluates the
   * expression; when it holds, trips (metrics reset). Also while recovering: a service failing again re-opens.
   */
  check(): void {
    const now = this.now();
    this.lastUsed = now;
    if (now < this.nextCheck) return;
    this.nextCheck = now + this.settings.checkPeriod;
    if (stateAt(this.view, now) === 'open') return;
    if (this.condition(this.metrics)) this.trip(now);
  }

  state(): BreakerState {
    return stateAt(this.view, this.now());
  }

  /** Stops the transition timer (the breaker is forgotten). */
  close(): void {
    clearTimeout(this.timer);
  }

  private trip(now: number): void {
    const { fallbackDuration, recoveryDuration, expression } = this.settings;
    this.view = { trip: this.view.trip + 1, trippedUntil: now + fallbackDuration, recoveredAt: now + fallbackDuration + recoveryDuration };
    this.metrics.reset();
    this.log('open', `circuit breaker open: ${JSON.stringify(expression)} matched; requests get the fallback for ${fallbackDuration} ms`);
    this.announceLater(this.view);
  }

  /** Logs recovering and closed when their time comes, unless a new trip came first. */
  private announceLater(view: BreakerView): void {
    clearTimeout(this.timer);
    const at = (time: number, fn: () => void) => {
      this.timer = setTimeout(fn, Math.max(0, time - this.now()));
      this.timer.unref();
    };
    at(view.trippedUntil, () => {
      if (this.view !== view) return;
      this.log('recovering', `circuit breaker recovering: traffic let back in over ${this.settings.recoveryDuration} ms`);
      at(view.recoveredAt, () => {
        if (this.view === view) this.log('closed', 'circuit breaker closed: the service recovered');
      });
    });
  }
}

/**
 * Decides per request from a view, as oxy's ratioController: open → refuse; recovering → let a request through
 * while the share let through stays under 0.5 × (time since recovery began) / recoveryDuration; closed → pass.
 */
export class Gate {
  private trip = 0;
  private allowed = 0;
  private denied = 0;

  constructor(private readonly recoveryDuration: number) {}

  allow(view: BreakerView, now: number): boolean {
    if (view.trip === 0 || now >= view.recoveredAt) return true;
    if (now < view.trippedUntil) return false;
    if (view.trip !== this.trip) {
      this.trip = view.trip;
      this.allowed = 0;
      this.denied = 0;
    }
    const target = (0.5 * (now - view.trippedUntil)) / this.recoveryDuration;
    if ((this.allowed + 1) / (this.allowed + this.denied + 1) < target) {
      this.allowed++;
      return true;
    }
    this.denied++;
    return false;
  }
}

/** Breakers not used for this long are forgotten (their window is long empty and any trip long over). */
const IDLE_MS = 10 * 60_000;
const SWEEP_EVERY_MS = 60_000;

/**
 * The authorities of this process (single process) or of the primary (--workers), by key: middleware, router and
 * settings. A configuration reload that keeps a breaker's settings keeps its state.
 */
export class BreakerRegistry {
  private readonly authorities = new Map<string, BreakerAuthority>();
  private lastSweep = 0;

  constructor(private readonly now: Clock = Date.now) {}

  get(key: string, settings: BreakerSettings, log: TransitionLog): BreakerAuthority {
    this.sweep();
    let authority = this.authorities.get(key);
    if (authority === undefined) this.authorities.set(key, (authority = new BreakerAuthority(settings, log, this.now)));
    return authority;
  }

  get size(): number {
    return this.authorities.size;
  }

  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [key, authority] of this.authorities) {
      if (now - authority.lastUsed > IDLE_MS && authority.state() === 'closed') {
        authority.close();
        this.authorities.delete(key);
      }
    }
  }
}
