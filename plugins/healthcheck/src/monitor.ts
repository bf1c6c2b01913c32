// The health of every checked server: active checkers keyed by service + URL + settings, passive failure
// windows, and the one verdict per server handed to the load balancers (host.services.health).
import { formatDuration, messageOf, type Logger, type RuntimeInfo, type ServerHealth, type UpstreamFailureEvent } from '@wharf/core';
import { createProbeClients, probe, probeTarget, type ProbeClients, type ProbeTarget, type ProbeTransport } from './probe.js';
import type { HealthCheckConfig, PassiveHealthCheckConfig } from './schema.js';

/** `loadBalancer` of a service as decoded with this plugin's fields. */
interface CheckedLoadBalancer {
  servers: ReadonlyArray<{ url: string }>;
  healthCheck?: HealthCheckConfig;
  passiveHealthCheck?: PassiveHealthCheckConfig;
}

/** What one server's checks are, for one configuration generation. */
interface Wanted {
  service: string;
  url: string;
  healthCheck?: HealthCheckConfig;
  /** How the proxy reaches the server; checks connect the same way. */
  transport?: ProbeTransport;
  passive?: PassiveHealthCheckConfig;
}

/** Everything known about one server of one service. */
interface ServerState {
  readonly service: string;
  readonly url: string;
  checker?: ActiveChecker;
  /** Last active verdict (up until a check says otherwise). */
  activeUp: boolean;
  activeReason?: string;
  passive?: PassiveHealthCheckConfig;
  /** Timestamps (performance.now()) of the failures inside the current window. */
  failures: number[];
  /** Out of rotation until this time because of live-traffic failures; 0 = not. */
  passiveDownUntil: number;
  passiveReason?: string;
  passiveTimer?: NodeJS.Timeout;
}

const key = (service: string, url: string): string => `${service}\n${url}`;

export interface HealthMonitorOptions {
  health: ServerHealth;
  log: Logger;
}

export class HealthMonitor {
  private readonly servers = new Map<string, ServerState>();
  private stopped = false;

  constructor(private readonly options: HealthMonitorOptions) {}

  /**
   * Brings the checks in line with a new configuration generation: unchanged servers keep their
   * checker, timers and verdict; changed settings restart that server's checker (verdict kept);
   * servers and services that are gone stop being checked and are forgotten.
   */
  reconcile(info: RuntimeInfo): void {
    if (this.stopped) return;
    const wanted = wantedServers(info);
    for (const [k, state] of this.servers) {
      if (wanted.has(k)) continue;
      void this.drop(state);
      this.servers.delete(k);
      if (info.services[state.service] === undefined) {
        this.options.health.forget(state.service);
      } else {
        // Still configured but no longer checked: back in rotation, visibly (event, log, API status).
        this.options.health.set(state.service, state.url, true, 'no longer health-checked');
        this.options.health.forget(state.service, state.url);
      }
    }
    for (const [k, want] of wanted) {
      let state = this.servers.get(k);
      if (state === undefined) {
        state = { service: want.service, url: want.url, activeUp: true, failures: [], passiveDownUntil: 0 };
        this.servers.set(k, state);
      }
      try {
        this.configureActive(state, want.healthCheck, want.transport);
        this.configurePassive(state, want.passive);
        this.publish(state);
      } catch (err) {
        // One unusable server must not stop the others' checks (nor the reload that triggered this).
        this.options.log.error({ service: want.service, server: want.url, err }, `health checks of ${want.url} (${want.service}) not started: ${messageOf(err)}`);
      }
    }
  }

  /** A live request to a server failed (upstreamFailure): counts towards its passive window. */
  recordFailure(event: UpstreamFailureEvent): void {
    const state = this.servers.get(key(event.service, event.url));
    const passive = state?.passive;
    if (state === undefined || passive === undefined || this.stopped) return;
    const now = performance.now();
    // Requests that were already on their way when the server went out do not extend its sentence.
    if (state.passiveDownUntil > now) return;
    const windowStart = now - passive.failureWindow;
    state.failures = state.failures.filter((t) => t > windowStart);
    state.failures.push(now);
    if (state.failures.length < passive.maxFailedAttempts) return;
    const what = event.status !== undefined ? `answered ${event.status}` : event.error ?? 'request failed';
    state.failures = [];
    state.passiveDownUntil = now + passive.failureWindow;
    state.passiveReason = `${passive.maxFailedAttempts} failed request(s) within ${formatDuration(passive.failureWindow)}, last: ${what}`;
    state.passiveTimer = setTimeout(() => this.endPassiveWindow(state), passive.failureWindow).unref();
    this.publish(state);
  }

  /** Stops every checker and timer (gateway shutdown); resolves once their connections are closed. Verdicts stay as they are. */
  async stop(): Promise<void> {
    this.stopped = true;
    const closing = [...this.servers.values()].map((state) => this.drop(state));
    this.servers.clear();
    await Promise.all(closing);
  }

  private configureActive(state: ServerState, config: HealthCheckConfig | undefined, transport: ProbeTransport | undefined): void {
    // A changed serversTransport restarts the checks too: they must keep connecting as the proxy does.
    const settings = config === undefined ? undefined : JSON.stringify({ config, transport });
    if (state.checker?.settings === settings) return;
    void state.checker?.stop();
    state.checker = undefined;
    if (config === undefined) {
      // Checks were removed: the server is no longer judged by them.
      state.activeUp = true;
      state.activeReason = undefined;
      return;
    }
    // Each checker has its own clients, built from its service's transport and closed when it stops.
    state.checker = new ActiveChecker(settings!, probeTarget(state.url, config), config, createProbeClients(transport), (result) => {
      state.activeUp = result.up;
      state.activeReason = result.reason;
      this.publish(state);
    });
    state.checker.start();
  }

  private configurePassive(state: ServerState, config: PassiveHealthCheckConfig | undefined): void {
    if (JSON.stringify(state.passive) === JSON.stringify(config)) return;
    state.passive = config;
    state.failures = [];
    // A server already out keeps its sentence unless passive checks are gone altogether.
    if (config === undefined) this.endPassiveWindow(state, false);
  }

  private endPassiveWindow(state: ServerState, publish = true): void {
    if (state.passiveTimer !== undefined) clearTimeout(state.passiveTimer);
    state.passiveTimer = undefined;
    state.passiveDownUntil = 0;
    state.passiveReason = undefined;
    if (publish) this.publish(state);
  }

  /** One verdict per server: up only when the active check and the passive window both say so. */
  private publish(state: ServerState): void {
    if (this.stopped || this.servers.get(key(state.service, state.url)) !== state) return;
    const passiveDown = state.passiveDownUntil > 0;
    const up = state.activeUp && !passiveDown;
    const reason = up ? undefined : passiveDown ? state.passiveReason : state.activeReason;
    try {
      this.options.health.set(state.service, state.url, up, reason);
    } catch (err) {
      // A throwing `health` listener (it runs inside set) must not stop the checks or crash a timer.
      this.options.log.error({ service: state.service, server: state.url, err }, `a health listener failed: ${messageOf(err)}`);
    }
  }

  private drop(state: ServerState): Promise<void> {
    const closed = state.checker?.stop();
    state.checker = undefined;
    if (state.passiveTimer !== undefined) clearTimeout(state.passiveTimer);
    state.passiveTimer = undefined;
    return closed ?? Promise.resolve();
  }
}

/** Servers to check: those of enabled load balancers with healthCheck or passiveHealthCheck that some router uses. */
function wantedServers(info: RuntimeInfo): Map<string, Wanted> {
  const wanted = new Map<string, Wanted>();
  for (const [service, svc] of Object.entries(info.services)) {
    if (svc.type !== 'loadBalancer' || svc.status === 'disabled' || svc.usedBy.length === 0) continue;
    const lb = svc.config?.loadBalancer as CheckedLoadBalancer | undefined;
    if (lb === undefined || (lb.healthCheck === undefined && lb.passiveHealthCheck === undefined)) continue;
    for (const server of lb.servers) {
      wanted.set(key(service, server.url), { service, url: server.url, healthCheck: lb.healthCheck, transport: svc.transport, passive: lb.passiveHealthCheck });
    }
  }
  return wanted;
}

/**
 * Checks one server: at once, then every `interval` while up and every `unhealthyInterval` while down,
 * counted from the start of the previous check (a check slower than the interval delays the next one).
 */
class ActiveChecker {
  private timer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();

  constructor(
    /** The settings this checker was built from, to tell whether a reload changed them. */
    readonly settings: string,
    private readonly target: ProbeTarget,
    private readonly config: HealthCheckConfig,
    private readonly clients: ProbeClients,
    private readonly onResult: (result: { up: boolean; reason?: string }) => void,
  ) {}

  start(): void {
    void this.run();
  }

  /** Ends the checks; resolves once the clients are closed (an aborted check in flight ends first). */
  stop(): Promise<void> {
    this.abort.abort();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    return this.clients.close().catch(() => {
      // Already closed: nothing left to wait for.
    });
  }

  private async run(): Promise<void> {
    if (this.abort.signal.aborted) return;
    const started = performance.now();
    const result = await probe(this.target, this.clients, this.abort.signal);
    if (this.abort.signal.aborted) return;
    this.onResult(result);
    const interval = result.up ? this.config.interval : this.config.unhealthyInterval ?? this.config.interval;
    const wait = Math.max(0, started + interval - performance.now());
    this.timer = setTimeout(() => void this.run(), wait).unref();
  }
}
