// The gateway command a distribution runs (`wharf`): read the static configuration, load the distribution's
// plugins and providers plus custom plugins, start the gateway (or a cluster).
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { decodeStatic, readStaticSources, staticSchema, type StaticConfig } from '../config/static.js';
import { messageOf } from '../errors.js';
import { Gateway } from '../gateway.js';
import { createLogger, type Logger } from '../log.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { providersFor } from '../provider/index.js';
import { runPrimary, runWorker } from '../cluster.js';
import { helpText } from './help.js';
import { onReopenSignal, stopOnSignal } from './signals.js';
import { customPluginSpecs, loadPlugins, type Distribution } from './plugins.js';

/** A command a distribution adds beside the gateway, selected by the first argument (`wharf healthcheck ...`). */
export interface Subcommand {
  /** One line for `wharf --help`. */
  description: string;
  /** Receives the arguments after the command's name; resolves to the exit code. */
  run(argv: readonly string[], distribution: CommandDistribution, env: NodeJS.ProcessEnv): Promise<number>;
}

/** A distribution as the command sees it: what it ships, the version `--version` prints, its subcommands. */
export interface CommandDistribution extends Distribution {
  version: string;
  commands?: Readonly<Record<string, Subcommand>>;
  /** What the distribution does not support yet, one line each with the reason: listed by --help. */
  unsupported?: readonly string[];
}

/** Runs until a signal stops the gateway; resolves to the exit code for start-up errors. */
export async function main(argv: readonly string[], distribution: CommandDistribution, env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  const command = argv[0] === undefined ? undefined : distribution.commands?.[argv[0]];
  if (command) return command.run(argv.slice(1), distribution, env);
  let sources;
  let registry: PluginRegistry;
  let config: StaticConfig;
  try {
    sources = readStaticSources(argv, env);
    registry = await loadPlugins(distribution, customPluginSpecs(sources.tree));
    if (sources.help) {
      process.stdout.write(helpText(staticSchema(registry), distribution.version, distribution.commands, distribution.unsupported));
      return 0;
    }
    if (sources.version) {
      process.stdout.write(`wharf ${distribution.version}\n`);
      return 0;
    }
    config = decodeStatic(sources, registry);
  } catch (err) {
    process.stderr.write(`wharf: ${messageOf(err)}\n`);
    return 2;
  }
  const log = createLogger(config.log);
  const workers = config.workers === 'auto' ? availableParallelism() : config.workers;
  if (workers > 1 && cluster.isPrimary) return runPrimary({ config, registry, log, workers });
  if (cluster.isWorker) return runWorker({ config, registry, log });
  return runSingle(config, registry, log);
}

async function runSingle(config: StaticConfig, registry: PluginRegistry, log: Logger): Promise<number | undefined> {
  const gateway = new Gateway({ staticConfig: config, registry, log, providers: providersFor(config, registry) });
  onReopenSignal();
  const started = gateway.start();
  // Before start-up completes: once an entrypoint is listening, SIGTERM must drain rather than kill.
  const stopped = stopOnSignal(gateway, log, started);
  try {
    await started;
  } catch (err) {
    log.fatal(messageOf(err));
    await gateway.stop().catch(() => undefined);
    log.flush?.();
    return 1;
  }
  await stopped;
  return 0;
}

