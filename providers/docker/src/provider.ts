// The docker and swarm providers: list containers (or swarm services and their tasks), turn them into one
// snapshot, and keep it live from /events — with fast task polling while swarm converges, and the last good
// configuration kept (nothing emitted) while the engine is unreachable. Issue #3.
import type { DynamicConfig, ProviderContext, Provider } from '@wharf/core/provider';
import { buildConfiguration, type BuildOptions } from './configuration.js';
import { compileConstraints, type LabelPredicate } from './constraints.js';
import { resolveEndpoint, type EngineEndpoint } from './endpoint.js';
import { EngineClient, describeEngineError, isNotFound, type EngineEvent } from './engine.js';
import { allowsNonRunning } from './labels.js';
import type { DockerOptions } from './options.js';
import { compileTemplate, type RuleTemplate } from './template.js';
import {
  containerWorkload,
  serviceWorkload,
  type EngineContainer,
  type EngineNetwork,
  type EngineNode,
  type EngineService,
  type EngineTask,
  type Workload,
} from './workload.js';

/** Events come in bursts (kill, die, stop, destroy): one re-list after a short pause covers them all. */
const DEBOUNCE_MS = 20;
/** While swarm converges (an update, a scale, a task that stopped here), tasks are re-listed this often. */
const FAST_POLL_MS = 300;
/** How long a service is polled fast after one of its events, unless it converged earlier. */
const SETTLE_MS = 5_000;
/** A service that never converges (crash loop) falls back to refreshSeconds after this long. */
const MAX_FAST_POLL_MS = 60_000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;
const DEFAULT_TIMEOUT_MS = 10_000;
const INSPECT_CONCURRENCY = 8;
/** Container states the engine lists without all=true: the ones served unless labelled allowNonRunning. */
const LISTED_STATES = new Set(['running', 'paused', 'restarting']);
/** Signals that ask a process to reload or report, not to leave: such a kill keeps the container in rotation. */
const NON_FATAL_SIGNALS = new Set(['1', '10', '12', '28', 'HUP', 'USR1', 'USR2', 'WINCH']);
const CONTAINER_ACTIONS = new Set(['start', 'restart', 'die', 'kill', 'stop', 'destroy', 'pause', 'unpause', 'rename', 'update', 'oom']);
const UPDATING = new Set(['updating', 'rollback_started']);

interface SwarmState {
  services: Map<string, EngineService>;
  tasks: Map<string, EngineTask[]>;
  networks: Map<string, EngineNetwork>;
  nodes: Map<string, EngineNode>;
}

interface Focus {
  /** Poll until then (extended while an update is in progress). */
  until: number;
  /** Never past this, so a crash-looping service does not keep the fast poll forever. */
  limit: number;
}

export class DockerProvider implements Provider {
  readonly name: string;
  private readonly swarm: boolean;
  private readonly endpoint: EngineEndpoint;
  private readonly defaultRule: RuleTemplate;
  private readonly constraints?: LabelPredicate;
  private context: ProviderContext | undefined;
  private client: EngineClient | undefined;
  private stopped = false;
  private connected = false;
  /** The outage was logged; cleared (with a log line) when the engine is back. */
  private down = false;
  private attempt = 0;
  /** Bumped on every (re)connection so callbacks of an old event stream are ignored. */
  private epoch = 0;
  private eventsAbort: AbortController | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private pendingFull = false;
  private readonly pendingServices = new Set<string>();
  private draining: Promise<void> | undefined;
  private lastWarnings = new Set<string>();
  /** `<service> <server>` of the last snapshot emitted, to tell a snapshot that takes servers out of rotation. */
  private servers = new Set<string>();
  // containers
  private readonly inspected = new Map<string, EngineContainer>();
  private readonly leaving = new Set<string>();
  // swarm
  private state: SwarmState = { services: new Map(), tasks: new Map(), networks: new Map(), nodes: new Map() };
  private readonly leavingTasks = new Set<string>();
  private readonly focus = new Map<string, Focus>();

  constructor(
    name: 'docker' | 'swarm',
    private readonly options: DockerOptions,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const flag = `--providers.${name}`;
    this.name = name;
    this.swarm = options.swarmMode;
    this.endpoint = resolveEndpoint(options, flag, env);
    this.defaultRule = compileTemplate(options.defaultRule, `${flag}.defaultRule`);
    this.constraints = options.constraints ? compileConstraints(options.constraints, `${flag}.constraints`) : undefined;
  }

  /** Connects and emits the first snapshot; when the engine is unreachable, logs it and keeps retrying in the background. */
  async start(context: ProviderContext): Promise<void> {
    this.context = context;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.connected = false;
    this.eventsAbort?.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.draining?.catch(() => undefined);
  }

  private get log() {
    return this.context!.log;
  }

  // ---- connection and outages ----

  private async connect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.stopped) return;
    const epoch = ++this.epoch;
    try {
      const client = await EngineClient.connect(this.endpoint, this.options.httpClientTimeout || DEFAULT_TIMEOUT_MS);
      if (this.stopped || epoch !== this.epoch) return;
      this.client = client;
      // Events were missed while away (a start that cancels a stop, a health change): state is re-read, not remembered.
      this.inspected.clear();
      this.leaving.clear();
      this.leavingTasks.clear();
      // Subscribe before listing, so a change between the list and the subscription is not missed.
      if (this.options.watch) await this.subscribe(client, epoch);
      this.connected = true;
      this.pendingFull = true;
      await this.draining?.catch(() => undefined); // a sync of the previous connection must not swallow this one
      await this.drain();
      if (!this.connected || epoch !== this.epoch) return;
      this.attempt = 0;
      if (this.down) this.log.info(`${this.name} provider: the engine at ${this.endpoint.display} is reachable again; configuration re-synchronised`);
      else this.log.info(`${this.name} provider: connected to the engine at ${this.endpoint.display} (API ${client.version})`);
      this.down = false;
      if (this.swarm && this.options.watch) this.scheduleRefresh();
    } catch (err) {
      this.lost(err, epoch);
    }
  }

  /** The engine went away: keep the last configuration (emit nothing), log once, retry with backoff. */
  private lost(err: unknown, epoch: number): void {
    if (this.stopped || epoch !== this.epoch || this.reconnectTimer) return;
    this.connected = false;
    this.eventsAbort?.abort();
    this.clearTimer(this.refreshTimer);
    this.clearTimer(this.pollTimer);
    this.clearTimer(this.debounceTimer);
    this.refreshTimer = this.pollTimer = this.debounceTimer = undefined;
    if (!this.down) {
      this.down = true;
      this.log.error(
        `${this.name} provider: the engine at ${this.endpoint.display} is unreachable: ${describeEngineError(err)}; keeping the last good configuration and reconnecting`,
      );
    }
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt++);
    this.reconnectTimer = this.timer(delay, () => void this.connect());
  }

  private async subscribe(client: EngineClient, epoch: number): Promise<void> {
    this.eventsAbort?.abort();
    const abort = new AbortController();
    this.eventsAbort = abort;
    const types = this.swarm ? ['service', 'node', 'container'] : ['container', 'network'];
    await client.events(
      types,
      abort.signal,
      (event) => epoch === this.epoch && this.onEvent(event),
      (err) => {
        if (!abort.signal.aborted) this.lost(err ?? new Error('the event stream ended'), epoch);
      },
    );
  }

  // ---- events ----

  private onEvent(event: EngineEvent): void {
    const type = event.Type ?? 'container';
    const action = event.Action ?? event.status ?? '';
    const id = event.Actor?.ID ?? event.id ?? '';
    const attributes = event.Actor?.Attributes ?? {};
    if (type === 'container') this.onContainerEvent(id, action, attributes);
    else if (type === 'network') {
      if (attributes.container) this.inspected.delete(attributes.container);
      this.schedule({ full: true });
    } else if (type === 'service') {
      this.watchService(id, SETTLE_MS);
      this.schedule({ services: [id] });
    } else if (type === 'node') this.schedule({ full: true });
  }

  private onContainerEvent(id: string, action: string, attributes: Record<string, string>): void {
    const health = action.startsWith('health_status');
    if (!health && !CONTAINER_ACTIONS.has(action)) return;
    const leaving = isLeaving(action, attributes.signal);
    const back = action === 'start' || action === 'restart' || action === 'unpause';
    if (this.swarm) {
      // A task container on this node: swarm sends no task events, so this is the earliest sign of a task change.
      const service = attributes['com.docker.swarm.service.id'];
      const task = attributes['com.docker.swarm.task.id'];
      if (!service) return;
      if (task && leaving) this.leavingTasks.add(task);
      this.watchService(service, SETTLE_MS);
      this.schedule({ services: [service] }, leaving ? 0 : DEBOUNCE_MS);
      return;
    }
    this.inspected.delete(id);
    if (leaving) this.leaving.add(id);
    else if (back) this.leaving.delete(id);
    this.schedule({ full: true }, leaving ? 0 : DEBOUNCE_MS);
  }

  // ---- synchronisation ----

  /** Queues a re-list (full, or of some swarm services) and runs it after a short debounce. */
  private schedule(what: { full?: boolean; services?: string[] }, delay = DEBOUNCE_MS): void {
    if (!this.connected || this.stopped) return;
    if (what.full) this.pendingFull = true;
    for (const s of what.services ?? []) this.pendingServices.add(s);
    if (delay === 0) {
      this.clearTimer(this.debounceTimer);
      this.debounceTimer = undefined;
      void this.drain();
      return;
    }
    this.debounceTimer ??= this.timer(delay, () => {
      this.debounceTimer = undefined;
      void this.drain();
    });
  }

  /** Runs queued syncs one at a time; a failure is an outage. */
  private drain(): Promise<void> {
    if (this.draining) return this.draining;
    // Cleared in a then-callback, never synchronously inside the run, so a stale settled promise cannot stick.
    const run = this.runQueue(this.epoch).finally(() => {
      if (this.draining === run) this.draining = undefined;
    });
    this.draining = run;
    return run;
  }

  private async runQueue(epoch: number): Promise<void> {
    try {
      while (this.connected && epoch === this.epoch && (this.pendingFull || this.pendingServices.size > 0)) {
        const full = this.pendingFull;
        const services = [...this.pendingServices];
        this.pendingFull = false;
        this.pendingServices.clear();
        if (!this.swarm) await this.syncContainers();
        else if (full) await this.syncSwarm();
        else await this.syncServices(services);
      }
    } catch (err) {
      this.pendingFull = false;
      this.pendingServices.clear();
      this.lost(err, epoch);
    }
  }

  private async syncContainers(): Promise<void> {
    const client = this.client!;
    // All containers, then those a default listing shows plus the stopped ones labelled allowNonRunning (Traefik's).
    const all = await client.listContainers();
    const list = all.filter((c) => LISTED_STATES.has(c.State) || allowsNonRunning(c.Labels ?? {}, this.options.labelPrefix));
    const present = new Set(list.map((c) => c.Id));
    for (const id of this.inspected.keys()) if (!present.has(id)) this.inspected.delete(id);
    for (const id of this.leaving) if (!present.has(id)) this.leaving.delete(id);
    const missing = list.filter((c) => !this.inspected.has(c.Id));
    await eachLimited(missing, INSPECT_CONCURRENCY, async (c) => {
      try {
        this.inspected.set(c.Id, await client.inspectContainer(c.Id));
      } catch (err) {
        if (!isNotFound(err)) throw err; // removed since the list: nothing to serve
      }
    });
    const containers = list.map((c) => this.inspected.get(c.Id)).filter((c): c is EngineContainer => c !== undefined);
    const find = (ref: string) => containers.find((c) => c.Id === ref || c.Id.startsWith(ref) || c.Name === `/${ref}`);
    this.publish(containers.map((c) => containerWorkload(c, this.leaving.has(c.Id), find)));
  }

  private async syncSwarm(): Promise<void> {
    const client = this.client!;
    const [services, tasks, networks, nodes] = await Promise.all([
      client.listServices(),
      client.listTasks({ 'desired-state': ['running'] }),
      client.listNetworks(),
      client.listNodes(),
    ]);
    this.state = {
      services: new Map(services.map((s) => [s.ID, s])),
      tasks: groupTasks(tasks),
      networks: new Map(networks.map((n) => [n.Id, n])),
      nodes: new Map(nodes.map((n) => [n.ID, n])),
    };
    this.publishSwarm();
  }

  /** Re-lists only some services and their tasks (fast polling while they converge). */
  private async syncServices(ids: string[]): Promise<void> {
    const client = this.client!;
    const [services, tasks] = await Promise.all([
      client.listServices({ id: ids }),
      client.listTasks({ service: ids, 'desired-state': ['running'] }),
    ]);
    const found = new Map(services.filter((s) => ids.includes(s.ID)).map((s) => [s.ID, s]));
    const grouped = groupTasks(tasks);
    for (const id of ids) {
      const service = found.get(id);
      if (service) {
        this.state.services.set(id, service);
        this.state.tasks.set(id, grouped.get(id) ?? []);
      } else {
        this.state.services.delete(id);
        this.state.tasks.delete(id);
        this.focus.delete(id);
      }
    }
    this.publishSwarm();
  }

  private publishSwarm(): void {
    const { services, tasks, networks, nodes } = this.state;
    const known = new Set([...tasks.values()].flat().map((t) => t.ID));
    for (const id of this.leavingTasks) if (!known.has(id)) this.leavingTasks.delete(id);
    this.updateFocus();
    const workloads = [...services.values()].map((s) => serviceWorkload(s, tasks.get(s.ID) ?? [], networks, nodes, this.leavingTasks));
    this.publish(workloads);
  }

  private publish(workloads: Workload[]): void {
    if (this.stopped) return;
    const context = this.context!;
    const options: BuildOptions = {
      provider: this.name,
      labelPrefix: this.options.labelPrefix,
      exposedByDefault: this.options.exposedByDefault,
      network: this.options.network,
      useBindPortIP: this.options.useBindPortIP,
      allowEmptyServices: this.options.allowEmptyServices,
      defaultRule: this.defaultRule,
      constraints: this.constraints,
      registry: context.registry,
    };
    let result: ReturnType<typeof buildConfiguration>;
    try {
      result = buildConfiguration(workloads, options);
    } catch (err) {
      // A bug in building must not pass for an engine outage, nor replace a good configuration.
      this.log.error({ err }, `${this.name} provider: could not build a configuration; keeping the last one`);
      return;
    }
    const warnings = new Set(result.warnings);
    for (const w of warnings) if (!this.lastWarnings.has(w)) this.log.warn(`${this.name} provider: ${w}`);
    this.lastWarnings = warnings;
    if (result.skipped.length > 0) this.log.debug({ skipped: result.skipped }, `${this.name} provider: ${result.skipped.length} left out`);
    // A server leaving (a task told to shut down, a container being stopped) leaves rotation now, not at the end of
    // providersThrottleDuration: it is about to close its connections and refuse new ones.
    const servers = serverKeys(result.config.config);
    const leaving = [...this.servers].some((key) => !servers.has(key));
    this.servers = servers;
    context.emit(result.config, leaving ? { immediate: true } : undefined);
  }

  // ---- swarm timers ----

  private scheduleRefresh(): void {
    this.clearTimer(this.refreshTimer);
    this.refreshTimer = this.timer(this.options.refreshSeconds, () => {
      this.schedule({ full: true });
      this.scheduleRefresh();
    });
  }

  /** Polls a service's tasks fast for `ms` (or longer while an update runs). */
  private watchService(id: string, ms: number): void {
    const now = Date.now();
    const current = this.focus.get(id);
    const limit = current && current.limit > now ? current.limit : now + MAX_FAST_POLL_MS;
    this.focus.set(id, { until: Math.min(limit, Math.max(current?.until ?? 0, now + ms)), limit });
    this.schedulePoll();
  }

  /** Keeps polling services that are updating or have not reached their replica count; drops the others. */
  private updateFocus(): void {
    const now = Date.now();
    for (const [id, service] of this.state.services) {
      if (UPDATING.has(service.UpdateStatus?.State ?? '')) this.watchService(id, FAST_POLL_MS * 3);
    }
    for (const [id, focus] of this.focus) {
      const service = this.state.services.get(id);
      const settled = !service || (!UPDATING.has(service.UpdateStatus?.State ?? '') && converged(service, this.state.tasks.get(id) ?? []));
      if (now >= focus.limit || (now >= focus.until && settled)) this.focus.delete(id);
    }
    this.schedulePoll();
  }

  private schedulePoll(): void {
    if (this.pollTimer || this.focus.size === 0 || !this.connected || !this.options.watch) return;
    this.pollTimer = this.timer(FAST_POLL_MS, () => {
      this.pollTimer = undefined;
      if (this.focus.size > 0) this.schedule({ services: [...this.focus.keys()] }, 0);
    });
  }

  private timer(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private clearTimer(t: NodeJS.Timeout | undefined): void {
    if (!t) return;
    clearTimeout(t);
    this.timers.delete(t);
  }
}

/** kill with a terminating signal, stop, die, destroy, pause, oom: the container stops serving now. */
function isLeaving(action: string, signal: string | undefined): boolean {
  if (action === 'kill') return !NON_FATAL_SIGNALS.has((signal ?? '').replace(/^SIG/, ''));
  return action === 'stop' || action === 'die' || action === 'destroy' || action === 'pause' || action === 'oom';
}

/** A replicated service has as many running tasks as replicas; a global one is taken as converged. */
function converged(service: EngineService, tasks: EngineTask[]): boolean {
  const replicas = service.Spec?.Mode?.Replicated?.Replicas;
  if (replicas === undefined) return true;
  return tasks.filter((t) => t.Status?.State === 'running' && t.DesiredState === 'running').length === replicas;
}

/** Every `<service> <server url>` of a configuration's HTTP load balancers (the provider emits no TCP or UDP yet). */
function serverKeys(config: DynamicConfig): Set<string> {
  const keys = new Set<string>();
  for (const [name, service] of Object.entries(config.http?.services ?? {})) {
    for (const server of service.loadBalancer?.servers ?? []) keys.add(`${name} ${server.url}`);
  }
  return keys;
}

function groupTasks(tasks: EngineTask[]): Map<string, EngineTask[]> {
  const grouped = new Map<string, EngineTask[]>();
  for (const task of tasks) {
    const list = grouped.get(task.ServiceID ?? '') ?? [];
    list.push(task);
    grouped.set(task.ServiceID ?? '', list);
  }
  return grouped;
}

async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
