// In-process traffic counters per router: one increment per request, a per-second sample for the graphs.

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

/** Requests and answers by status class. */
export type Counts = { requests: number } & Record<StatusClass, number>;

/** One sample: per-router rates (per second) over the interval that ended at `time`. */
export interface TrafficSample {
  /** End of the interval, milliseconds since the epoch. */
  time: number;
  routers: Record<string, Counts>;
}

/** `GET /api/wharf/traffic`: totals since start and the last samples, columnar for charts. */
export interface TrafficReport {
  intervalSeconds: number;
  /** End times of the samples, oldest first. */
  times: number[];
  routers: Record<string, { total: Counts; rate: { requests: number[] } & Record<StatusClass, number[]> }>;
}

// Slot 0 counts requests, slots 1–5 the status classes 1xx–5xx.
const SLOTS = 6;

export class Traffic {
  private readonly totals = new Map<string, Float64Array>();
  private previous = new Map<string, Float64Array>();
  private readonly samples: TrafficSample[] = [];
  private lastTick = Date.now();

  constructor(
    readonly historySize = 60,
    readonly intervalSeconds = 1,
  ) {}

  /** Counts one answered request of a router; the per-request cost of the graphs. */
  record(router: string, status: number): void {
    let slots = this.totals.get(router);
    if (!slots) this.totals.set(router, (slots = new Float64Array(SLOTS)));
    slots[0]!++;
    const cls = Math.min(5, Math.max(1, Math.floor(status / 100)));
    slots[cls]!++;
  }

  /** Closes the current interval: rates since the previous tick for every router seen so far, and totals. */
  tick(now = Date.now()): TrafficSample & { totals: Record<string, Counts> } {
    const seconds = Math.max(0.001, (now - this.lastTick) / 1000);
    this.lastTick = now;
    const routers: Record<string, Counts> = {};
    const totals: Record<string, Counts> = {};
    const next = new Map<string, Float64Array>();
    for (const [router, slots] of this.totals) {
      const before = this.previous.get(router);
      routers[router] = toCounts(slots, (v, i) => round((v - (before?.[i] ?? 0)) / seconds));
      totals[router] = toCounts(slots, (v) => v);
      next.set(router, slots.slice());
    }
    this.previous = next;
    this.samples.push({ time: now, routers });
    if (this.samples.length > this.historySize) this.samples.shift();
    return { time: now, routers, totals };
  }

  /** Forgets routers that are no longer configured. */
  retain(routers: ReadonlySet<string>): void {
    for (const name of [...this.totals.keys()]) {
      if (!routers.has(name)) {
        this.totals.delete(name);
        this.previous.delete(name);
      }
    }
  }

  total(router: string): Counts {
    const slots = this.totals.get(router) ?? new Float64Array(SLOTS);
    return toCounts(slots, (v) => v);
  }

  report(): TrafficReport {
    const times = this.samples.map((s) => s.time);
    const routers: TrafficReport['routers'] = {};
    for (const router of this.totals.keys()) {
      const series = (key: keyof Counts) => this.samples.map((s) => s.routers[router]?.[key] ?? 0);
      routers[router] = {
        total: this.total(router),
        rate: {
          requests: series('requests'),
          '1xx': series('1xx'),
          '2xx': series('2xx'),
          '3xx': series('3xx'),
          '4xx': series('4xx'),
          '5xx': series('5xx'),
        },
      };
    }
    return { intervalSeconds: this.intervalSeconds, times, routers };
  }
}

function toCounts(slots: Float64Array, map: (value: number, index: number) => number): Counts {
  return {
    requests: map(slots[0]!, 0),
    '1xx': map(slots[1]!, 1),
    '2xx': map(slots[2]!, 2),
    '3xx': map(slots[3]!, 3),
    '4xx': map(slots[4]!, 4),
    '5xx': map(slots[5]!, 5),
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
