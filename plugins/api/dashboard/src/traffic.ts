// Client-side traffic history: seeded from /api/wharf/traffic, extended by every `traffic` event.
import { CLASSES, type RateCounts, type StatusClass, type TrafficReport, type TrafficSample } from './api.js';
import type { Series } from './chart.js';

export class TrafficHistory {
  slots = 60;
  private times: number[] = [];
  private readonly routers = new Map<string, { total: RateCounts; requests: number[]; classes: Record<StatusClass, number[]> }>();

  load(report: TrafficReport): void {
    this.times = [...report.times];
    this.routers.clear();
    for (const [name, r] of Object.entries(report.routers)) {
      this.routers.set(name, {
        total: r.total,
        requests: [...r.rate.requests],
        classes: Object.fromEntries(CLASSES.map((c) => [c, [...r.rate[c]]])) as Record<StatusClass, number[]>,
      });
    }
  }

  add(sample: TrafficSample & { totals?: Record<string, RateCounts> }): void {
    this.times.push(sample.time);
    const known = new Set(Object.keys(sample.routers));
    for (const [name, rate] of Object.entries(sample.routers)) {
      let r = this.routers.get(name);
      if (!r) {
        const zeros = () => new Array<number>(this.times.length - 1).fill(0);
        r = { total: { requests: 0, '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 }, requests: zeros(), classes: Object.fromEntries(CLASSES.map((c) => [c, zeros()])) as Record<StatusClass, number[]> };
        this.routers.set(name, r);
      }
      r.requests.push(rate.requests);
      for (const c of CLASSES) r.classes[c].push(rate[c]);
      const total = sample.totals?.[name];
      if (total) r.total = total;
    }
    for (const [name, r] of this.routers) {
      if (known.has(name)) continue;
      r.requests.push(0);
      for (const c of CLASSES) r.classes[c].push(0);
    }
    this.trim();
  }

  private trim(): void {
    const extra = this.times.length - this.slots;
    if (extra <= 0) return;
    this.times.splice(0, extra);
    for (const r of this.routers.values()) {
      r.requests.splice(0, Math.max(0, r.requests.length - this.slots));
      for (const c of CLASSES) r.classes[c].splice(0, Math.max(0, r.classes[c].length - this.slots));
    }
  }

  /** Forgets routers that are no longer configured. */
  retain(names: ReadonlySet<string>): void {
    for (const name of [...this.routers.keys()]) if (!names.has(name)) this.routers.delete(name);
  }

  /** Requests per second in the latest sample. */
  current(router: string): number {
    const r = this.routers.get(router);
    return r?.requests[r.requests.length - 1] ?? 0;
  }

  series(router: string): Series {
    const r = this.routers.get(router);
    const empty = () => [] as number[];
    if (!r) return { slots: this.slots, requests: [], classes: Object.fromEntries(CLASSES.map((c) => [c, empty()])) as Record<StatusClass, number[]> };
    return { slots: this.slots, requests: r.requests, classes: r.classes };
  }

  /** Sum over every router: the gateway's whole routed traffic. */
  sum(): Series {
    const n = this.times.length;
    const requests = new Array<number>(n).fill(0);
    const classes = Object.fromEntries(CLASSES.map((c) => [c, new Array<number>(n).fill(0)])) as Record<StatusClass, number[]>;
    for (const r of this.routers.values()) {
      const offset = n - r.requests.length;
      r.requests.forEach((v, i) => (requests[i + offset]! += v));
      for (const c of CLASSES) r.classes[c].forEach((v, i) => (classes[c][i + offset]! += v));
    }
    return { slots: this.slots, requests, classes };
  }

  /** Totals since the gateway started, per status class. */
  totals(router: string): RateCounts | undefined {
    return this.routers.get(router)?.total;
  }
}
