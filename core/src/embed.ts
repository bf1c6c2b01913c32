// Running Wharf inside another program (and in tests): static config from flags or an object, the plugins
// and providers given (core alone has the file provider), dynamic configuration pushed in as the `inline` provider.
import { decode } from './config/decode.js';
import { dynamicSchema, problemsFromDisabled, type DynamicConfig, type ProviderConfig } from './config/dynamic.js';
import { decodeStatic, mergeTrees, readStaticSources } from './config/static.js';
import { Gateway } from './gateway.js';
import { silentLogger, type Logger } from './log.js';
import type { Plugin } from './plugin/contract.js';
import { PluginRegistry } from './plugin/registry.js';
import { providersFor } from './provider/index.js';
import type { ProviderDefinition } from './provider/provider.js';

export interface StartOptions {
  /** Static configuration as command-line flags (`--entrypoints.web.address=127.0.0.1:0`). */
  args?: string[];
  /** Static configuration as an object (the YAML file's shape); flags win over it. */
  config?: Record<string, unknown>;
  /** Plugins to register (the `wharf` package's startGateway adds its built-ins). */
  plugins?: readonly Plugin[];
  /** Providers to register besides core's file provider (`@wharf/provider-docker`'s docker and swarm). */
  providers?: readonly ProviderDefinition[];
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
  const registry = new PluginRegistry();
  for (const plugin of options.plugins ?? []) registry.register(plugin);
  for (const provider of options.providers ?? []) registry.registerProvider(provider);
  const sources = readStaticSources(options.args ?? [], {});
  if (options.config) sources.tree = mergeTrees(options.config, sources.tree);
  const staticConfig = decodeStatic(sources, registry);
  const log = options.log ?? silentLogger();
  const gateway = new Gateway({ staticConfig, registry, log, providers: providersFor(staticConfig, registry) }) as EmbeddedGateway;
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
