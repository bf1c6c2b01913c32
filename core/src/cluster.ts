// Multi-core mode (--workers=N): providers run once in the primary, which forwards every configuration
// to N workers that share the listeners; plugin shared state lives in the primary, and SIGUSR1 is passed on.
import cluster, { type Worker } from 'node:cluster';
import type { ProviderConfig } from './config/dynamic.js';
import type { StaticConfig } from './config/static.js';
import { messageOf } from './errors.js';
import { Gateway } from './gateway.js';
import type { Logger } from './log.js';
import type { PluginRegistry } from './plugin/registry.js';
import type { RuntimeInfo } from './config/runtime.js';
import type { UpstreamFailureEvent } from './plugin/contract.js';
import { PrimaryHooks, type HealthMessage } from './plugin/primary.js';
import { answerSharedCall, ipcSharedState, type SharedCall, type SharedReply } from './plugin/shared.js';
import { providersFor } from './provider/index.js';
import type { Provider } from './provider/provider.js';
import { ConfigWatcher } from './provider/watcher.js';
import { onReopenSignal, raiseReopenSignal, stopOnSignal } from './cli/signals.js';

interface ClusterOptions {
  config: StaticConfig;
  registry: PluginRegistry;
  log: Logger;
}

/**
 * `seq` numbers configurations; `report` asks this worker to send back the generation it builds from it (for the
 * plugins' primary hooks), `failures` to forward its upstream failures.
 */
type ConfigMessage = { type: 'wharf:config'; configs: ProviderConfig[]; seq: number; report: boolean; failures: boolean };
type ToWorker = ConfigMessage | { type: 'wharf:stop' } | { type: 'wharf:reopen' } | HealthMessage | SharedReply;
type ToPrimary =
  | { type: 'wharf:ready' }
  | { type: 'wharf:reload'; seq: number; info: RuntimeInfo }
  | { type: 'wharf:upstream-failures'; seq: number; events: UpstreamFailureEvent[] }
  | SharedCall;

const RESTART_DELAY_MS = 200;

export async function runPrimary(options: ClusterOptions & { workers: number }): Promise<number> {
  const { config, registry, log, workers } = options;
  let latest: ProviderConfig[] | undefined;
  let seq = 0;
  let stopping = false;
  const broadcast = (msg: ToWorker) => {
    for (const worker of Object.values(cluster.workers ?? {})) if (worker?.isConnected()) worker.send(msg);
  };
  // Health checks and other once-per-gateway work run here, not once per worker.
  const hooks = new PrimaryHooks({ config, registry, log, broadcast });
  await hooks.start();
  /** The configuration message for one worker: the first connected worker reports the generation it builds. */
  const configFor = (reporter: boolean): ConfigMessage => ({
    type: 'wharf:config',
    configs: latest ?? [],
    seq,
    report: reporter && hooks.wants(seq),
    failures: hooks.active,
  });
  const connectedWorkers = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.on('message', (msg: ToPrimary) => onWorkerMessage(worker, msg));
    return worker;
  };
  const onWorkerMessage = (worker: Worker, msg: ToPrimary) => {
    if (msg?.type === 'wharf:ready') {
      // A worker still loading missed any broadcast stop (it had no listener yet): tell it again now.
      if (stopping) worker.send({ type: 'wharf:stop' } satisfies ToWorker);
      // Always answered, even before any provider spoke: the worker waits for this before it listens. It
      // adopts the verdicts in force first, and reports the generation if no worker did (the reporter died).
      else {
        for (const verdict of hooks.snapshot()) worker.send(verdict satisfies ToWorker);
        worker.send(configFor(true) satisfies ToWorker);
      }
    } else if (msg?.type === 'wharf:reload') {
      hooks.reload(msg.seq, msg.info);
    } else if (msg?.type === 'wharf:upstream-failures') {
      hooks.upstreamFailures(msg.seq, msg.events);
    } else if (msg?.type === 'wharf:shared') {
      void answerSharedCall(msg).then((reply) => worker.isConnected() && worker.send(reply satisfies ToWorker));
    }
  };
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    log.error(`worker ${worker.process.pid} exited (${signal ?? code}); starting a replacement`);
    setTimeout(() => !stopping && fork(), RESTART_DELAY_MS);
  });

  const watcher = new ConfigWatcher({
    throttleMs: config.providers.providersThrottleDuration,
    apply: (configs) => {
      latest = configs;
      seq++;
      connectedWorkers().forEach((worker, i) => worker.send(configFor(i === 0) satisfies ToWorker));
    },
  });
  const providers = providersFor(config, registry);
  let providersStarted: Promise<unknown> = Promise.resolve();
  // Installed before the first fork: from here on a SIGTERM stops the whole cluster gracefully, never by default action.
  const stopped = new Promise<void>((resolve) => {
    const onSignal = () => {
      if (stopping) return;
      stopping = true;
      watcher.stop();
      // A provider still starting would set up its watch after being stopped; stop them once started.
      void providersStarted.then(() => Promise.allSettled(providers.map((p) => p.stop())));
      broadcast({ type: 'wharf:stop' });
      const check = setInterval(() => {
        if (Object.keys(cluster.workers ?? {}).length === 0) {
          clearInterval(check);
          resolve();
        }
      }, 50);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  // logrotate signals the primary (the pid it knows); the files are open in the workers. Over IPC rather than
  // kill(): a worker still loading has no SIGUSR1 listener yet, and opens its files at the new path anyway.
  onReopenSignal(() => {
    log.info(`SIGUSR1 received: asking ${Object.keys(cluster.workers ?? {}).length} workers to reopen their files`);
    broadcast({ type: 'wharf:reopen' });
  });
  for (let i = 0; i < workers; i++) fork();
  providersStarted = startProviders(providers, { watcher, log, registry });
  await providersStarted;
  log.info(`primary ${process.pid} running ${workers} workers`);
  await stopped;
  await hooks.stop();
  return 0;
}

export async function runWorker(options: ClusterOptions): Promise<number> {
  const { config, registry, log } = options;
  const gateway = new Gateway({ staticConfig: config, registry, log: log.child({ worker: cluster.worker?.id }), shared: ipcSharedState(), primaryHooks: false });
  const primary = linkToPrimary(gateway);
  let started: Promise<void> | undefined;
  let stopRequested = false;
  let greeted!: () => void;
  const greeting = new Promise<void>((resolve) => (greeted = resolve));
  // Also a SIGUSR1 sent to this worker directly (kill to the process group) must not open the inspector.
  onReopenSignal();
  process.on('message', (msg: ToWorker) => {
    if (msg?.type === 'wharf:reopen') {
      raiseReopenSignal();
    } else if (msg?.type === 'wharf:config') {
      primary.configuring(msg);
      gateway.apply(msg.configs);
      greeted();
    } else if (msg?.type === 'wharf:health') {
      gateway.health.adopt(msg.service, msg.url, msg.up, msg.reason);
    } else if (msg?.type === 'wharf:health-forget') {
      gateway.health.forget(msg.service, msg.url);
    } else if (msg?.type === 'wharf:stop') {
      stopRequested = true;
      greeted();
      void (started ?? Promise.resolve()).catch(() => undefined).then(() => gateway.stop()).then(() => process.exit(0));
    }
  });
  // The primary answers with the latest configuration: a new (or replacement) worker that listened before
  // having it would answer 404 to the connections the primary hands it meanwhile.
  process.send?.({ type: 'wharf:ready' } satisfies ToPrimary);
  await greeting;
  if (stopRequested) return 0;
  started = gateway.start();
  const stopped = stopOnSignal(gateway, log, started);
  try {
    await started;
  } catch (err) {
    log.fatal(messageOf(err));
    return 1;
  }
  await stopped;
  return 0;
}

/**
 * A worker's side of the primary hooks: it reports the generation built from a configuration when asked
 * (each time one goes live: the first is rebuilt once plugins are set up), and forwards upstream failures,
 * gathered per event-loop turn so a failure storm costs one message per turn.
 */
function linkToPrimary(gateway: Gateway): { configuring(msg: ConfigMessage): void } {
  let current: ConfigMessage | undefined;
  let pending: UpstreamFailureEvent[] = [];
  const send = (msg: ToPrimary) => process.connected && process.send?.(msg);
  gateway.on('reload', (info: RuntimeInfo) => {
    if (current?.report) send({ type: 'wharf:reload', seq: current.seq, info });
  });
  gateway.on('upstreamFailure', (event: UpstreamFailureEvent) => {
    if (!current?.failures) return;
    if (pending.length === 0) {
      const seq = current.seq;
      setImmediate(() => {
        send({ type: 'wharf:upstream-failures', seq, events: pending });
        pending = [];
      });
    }
    pending.push(event);
  });
  return { configuring: (msg) => void (current = msg) };
}

/** Starts each provider in turn; one that fails is logged and the others still start. */
async function startProviders(providers: Provider[], context: { watcher: ConfigWatcher; log: Logger; registry: PluginRegistry }): Promise<void> {
  const { watcher, log, registry } = context;
  for (const provider of providers) {
    await provider
      .start({ emit: (c, o) => watcher.push(c, o), log: log.child({ provider: provider.name }), registry })
      .catch((err: unknown) => log.error(`provider ${provider.name} failed to start: ${messageOf(err)}`));
  }
}
