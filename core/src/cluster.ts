// Multi-core mode (--workers=N): providers run once in the primary, which forwards every configuration
// to N workers that share the listeners; plugin shared state lives in the primary, and SIGUSR1 is passed on.
import cluster, { type Worker } from 'node:cluster';
import type { ProviderConfig } from './config/dynamic.js';
import type { StaticConfig } from './config/static.js';
import { messageOf } from './errors.js';
import { Gateway } from './gateway.js';
import type { Logger } from './log.js';
import type { PluginRegistry } from './plugin/registry.js';
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

type ToWorker = { type: 'wharf:config'; configs: ProviderConfig[] } | { type: 'wharf:stop' } | { type: 'wharf:reopen' } | SharedReply;
type ToPrimary = { type: 'wharf:ready' } | SharedCall;

const RESTART_DELAY_MS = 200;

export async function runPrimary(options: ClusterOptions & { workers: number }): Promise<number> {
  const { config, registry, log, workers } = options;
  let latest: ProviderConfig[] | undefined;
  let stopping = false;
  const broadcast = (msg: ToWorker) => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.isConnected() && worker.send(msg);
  };
  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.on('message', (msg: ToPrimary) => onWorkerMessage(worker, msg));
    return worker;
  };
  const onWorkerMessage = (worker: Worker, msg: ToPrimary) => {
    if (msg?.type === 'wharf:ready') {
      // A worker still loading missed any broadcast stop (it had no listener yet): tell it again now.
      if (stopping) worker.send({ type: 'wharf:stop' } satisfies ToWorker);
      // Always answered, even before any provider spoke: the worker waits for this before it listens.
      else worker.send({ type: 'wharf:config', configs: latest ?? [] } satisfies ToWorker);
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
      broadcast({ type: 'wharf:config', configs });
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
  return 0;
}

export async function runWorker(options: ClusterOptions): Promise<number> {
  const { config, registry, log } = options;
  const gateway = new Gateway({ staticConfig: config, registry, log: log.child({ worker: cluster.worker?.id }), shared: ipcSharedState() });
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
      gateway.apply(msg.configs);
      greeted();
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

/** Starts each provider in turn; one that fails is logged and the others still start. */
async function startProviders(providers: Provider[], context: { watcher: ConfigWatcher; log: Logger; registry: PluginRegistry }): Promise<void> {
  const { watcher, log, registry } = context;
  for (const provider of providers) {
    await provider
      .start({ emit: (c) => watcher.push(c), log: log.child({ provider: provider.name }), registry })
      .catch((err: unknown) => log.error(`provider ${provider.name} failed to start: ${messageOf(err)}`));
  }
}
