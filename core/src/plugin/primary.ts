// The plugins' `primary` hooks in cluster mode (--workers): run once in the primary, fed by one worker's
// configuration generations and every worker's upstream failures; health verdicts go back to all workers.
import { EventEmitter } from 'node:events';
import type { RuntimeInfo } from '../config/runtime.js';
import type { StaticConfig } from '../config/static.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { HealthRegistry } from '../service/health.js';
import type { PrimaryHost, ServerHealth, UpstreamFailureEvent } from './contract.js';
import { pluginSection, type PluginRegistry } from './registry.js';

/** What the primary tells workers about health (verdicts decided here, applied there). */
export type HealthMessage =
  | { type: 'wharf:health'; service: string; url: string; up: boolean; reason?: string }
  | { type: 'wharf:health-forget'; service: string; url?: string };

/** Bound on failures held for a configuration not reported yet (a reporter that died mid-storm). */
const MAX_EARLY_FAILURES = 10_000;

export interface PrimaryHooksOptions {
  config: StaticConfig;
  registry: PluginRegistry;
  log: Logger;
  broadcast(message: HealthMessage): void;
}

export class PrimaryHooks {
  private readonly events = new EventEmitter();
  private readonly registry: HealthRegistry;
  private readonly stopHooks: Array<() => void | Promise<void>> = [];
  /** Sequence number of the configuration whose generation the hooks saw last. */
  private seen = -1;
  /** Failures reported under a configuration the hooks have not seen yet. */
  private early: Array<{ seq: number; event: UpstreamFailureEvent }> = [];
  readonly active: boolean;

  constructor(private readonly options: PrimaryHooksOptions) {
    this.active = options.registry.all().some((p) => p.primary && pluginSection(p, options.config).enabled);
    this.registry = new HealthRegistry(options.log, this.events);
    // Verdicts are logged here once; workers adopt them silently.
    this.events.on('health', (e: { service: string; url: string; up: boolean; reason?: string }) => options.broadcast({ type: 'wharf:health', ...e }));
  }

  async start(): Promise<void> {
    const health: ServerHealth = {
      set: (service, url, up, reason) => this.registry.set(service, url, up, reason),
      isUp: (service, url) => this.registry.isUp(service, url),
      forget: (service, url) => {
        this.registry.forget(service, url);
        this.options.broadcast({ type: 'wharf:health-forget', service, url });
      },
    };
    for (const plugin of this.options.registry.all()) {
      const { enabled, value } = pluginSection(plugin, this.options.config);
      if (!plugin.primary || !enabled) continue;
      const host: PrimaryHost = {
        log: this.options.log.child({ plugin: plugin.name }),
        staticConfig: this.options.config,
        events: this.events,
        health,
        lifecycle: { onStop: (fn) => void this.stopHooks.push(fn) },
      };
      await plugin.primary(value as never, host);
    }
  }

  /** Whether configuration `seq` still has to be reported by a worker. */
  wants(seq: number): boolean {
    return this.active && seq > this.seen;
  }

  /** A worker's generation of configuration `seq` is live: the hooks see it, then the failures that waited for it. */
  reload(seq: number, info: RuntimeInfo): void {
    if (seq < this.seen) return;
    this.seen = seq;
    this.emitSafely('reload', info);
    const ready = this.early.filter((f) => f.seq <= seq);
    this.early = this.early.filter((f) => f.seq > seq);
    for (const { event } of ready) this.emitSafely('upstreamFailure', event);
  }

  /**
   * Failures a worker saw under configuration `seq`. One that arrives before the reporting worker's generation
   * of that configuration (workers apply it at slightly different times) waits for it, so a passive check the
   * new configuration turns on counts it.
   */
  upstreamFailures(seq: number, events: readonly UpstreamFailureEvent[]): void {
    if (seq <= this.seen) {
      for (const e of events) this.emitSafely('upstreamFailure', e);
      return;
    }
    for (const event of events) this.early.push({ seq, event });
    if (this.early.length > MAX_EARLY_FAILURES) this.early.splice(0, this.early.length - MAX_EARLY_FAILURES);
  }

  /** Verdicts a worker that starts now must adopt to agree with the others. */
  snapshot(): HealthMessage[] {
    return this.registry.downServers().map(({ service, url, reason }) => ({ type: 'wharf:health', service, url, up: false, reason }));
  }

  async stop(): Promise<void> {
    for (const hook of this.stopHooks.reverse()) {
      try {
        await hook();
      } catch (err) {
        this.options.log.error(`plugin stop hook failed: ${messageOf(err)}`);
      }
    }
  }

  private emitSafely(event: string, payload: unknown): void {
    try {
      this.events.emit(event, payload);
    } catch (err) {
      this.options.log.error(`a plugin's ${event} listener failed in the primary: ${messageOf(err)}`);
    }
  }
}
