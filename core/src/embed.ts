// Running Wharf inside another program (and in tests): static config from flags or an object,
// dynamic configuration pushed in directly as the `inline` provider, built-in plugins loaded by name.
import { decode } from './config/decode.js';
import { dynamicSchema, problemsFromDisabled, type DynamicConfig, type ProviderConfig } from './config/dynamic.js';
import { decodeStatic, mergeTrees, readStaticSources } from './config/static.js';
import { Gateway } from './gateway.js';
import { silentLogger, type Logger } from './log.js';
import type { Plugin } from './plugin/contract.js';
import { PluginRegistry } from './plugin/registry.js';
import { loadPlugins } from './cli/plugins.js';
import { providersFor } from './provider/index.js';

export interface StartOptions {
  /** Static configuration as command-line flags (`--entrypoints.web.address=127.0.0.1:0`). */
  args?: string[];
  /** Static configuration as an object (the YAML file's shape); flags win over it. */
  config?: Record<string, unknown>;
  /** Plugins to register besides (or instead of) the built-ins. */
  plugins?: Plugin[];
  /** Load the built-in plugins (default true). */
  builtins?: boolean;
  /** Dynamic configuration applied at start as the `inline` provider. */
  dynamic?: unknown;
  log?: Logger;
}

/** A started gateway plus `configure()` to replace the inline provider's configuration. */
export interface EmbeddedGateway extends Gateway {
  /** Decodes `raw` like a file and applies it (with other providers' latest) at once; returns the decoded problems. */
  configure(raw: unknown): ProviderConfig;
}

export async function startGateway(options: StartOptions = {}): Promise<EmbeddedGateway> {
  const registry = options.builtins === false ? new PluginRegistry() : await loadPlugins(new Map());
  for (const plugin of options.plugins ?? []) registry.register(plugin);
  const sources = readStaticSources(options.args ?? [], {});
  if (options.config) sources.tree = mergeTrees(options.config, sources.tree);
  const staticConfig = decodeStatic(sources, registry);
  const log = options.log ?? silentLogger();
  const gateway = new Gateway({ staticConfig, registry, log, providers: providersFor(staticConfig) }) as EmbeddedGateway;
  gateway.configure = (raw: unknown) => {
    const config = decodeInline(raw, registry);
    gateway.applyProvider(config);
    return config;
  };
  await gateway.start();
  if (options.dynamic !== undefined) gateway.configure(options.dynamic);
  return gateway;
}

/** Decodes a dynamic configuration object for the `inline` provider; root problems throw. */
export function decodeInline(raw: unknown, registry: PluginRegistry): ProviderConfig {
  const { value, issues, disabled } = decode<DynamicConfig>(dynamicSchema(registry), raw);
  if (issues.length > 0) throw new Error(issues.map((i) => `${i.source}: ${i.message}`).join('\n'));
  return { provider: 'inline', config: value ?? {}, problems: problemsFromDisabled(disabled) };
}
