// Keeps the latest configuration per provider, skips unchanged ones and throttles reloads.
import { isDeepStrictEqual } from 'node:util';
import type { ProviderConfig } from '../config/dynamic.js';
import type { EmitOptions } from './provider.js';

export interface WatcherOptions {
  /** providersThrottleDuration: minimum time between two applied configurations. */
  throttleMs: number;
  /** Receives every provider's latest snapshot, in provider-name order. */
  apply(configs: ProviderConfig[]): void;
}

export class ConfigWatcher {
  private readonly latest = new Map<string, ProviderConfig>();
  private readonly applied = new Map<string, ProviderConfig>();
  private lastApply = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: WatcherOptions) {}

  /**
   * Accepts a snapshot; applies it at once after a quiet period, else at the end of the throttle window. An
   * `immediate` one (servers leaving rotation) is applied now, with whatever other providers sent meanwhile.
   */
  push(config: ProviderConfig, options?: EmitOptions): void {
    if (this.stopped) return;
    this.latest.set(config.provider, config);
    if (options?.immediate === true) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.flush(), 0); // still coalesces snapshots sent in one tick
      return;
    }
    if (this.timer) return;
    const wait = Math.max(0, this.lastApply + this.options.throttleMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait); // 0 still coalesces snapshots sent in one tick
  }

  private flush(): void {
    this.timer = undefined;
    let changed = false;
    for (const [name, config] of this.latest) {
      if (!isDeepStrictEqual(this.applied.get(name), config)) changed = true;
    }
    if (!changed) return;
    for (const [name, config] of this.latest) this.applied.set(name, config);
    this.lastApply = Date.now();
    const configs = [...this.latest.values()].sort((a, b) => a.provider.localeCompare(b.provider));
    this.options.apply(configs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
