// The plugins and providers known to this process (built-ins and custom ones), looked up case-insensitively.
import { WharfError } from '../errors.js';
import { didYouMean } from '../config/decode.js';
import { fileProvider } from '../provider/file-definition.js';
import type { ProviderDefinition } from '../provider/provider.js';
import type { StaticConfig } from '../config/static.js';
import type { Plugin } from './contract.js';

export class PluginRegistry {
  private readonly byLowerName = new Map<string, Plugin>();
  private readonly providersByName = new Map<string, ProviderDefinition>();

  /** Starts with core's own file provider; everything else is registered by the distribution or the embedder. */
  constructor() {
    this.registerProvider(fileProvider);
  }

  /** Adds a provider definition (`providers.<name>`); a second one with the same name is a registration error. */
  registerProvider(definition: ProviderDefinition): this {
    const key = definition.name.toLowerCase();
    const existing = this.providersByName.get(key);
    if (existing && existing !== definition) {
      throw new WharfError('WHARF_ERR_PLUGIN', `provider '${definition.name}' is already registered; provider names must be unique`);
    }
    this.providersByName.set(key, definition);
    return this;
  }

  /** Registered providers, in registration order (file first). */
  providerDefinitions(): ProviderDefinition[] {
    return [...this.providersByName.values()];
  }

  /** Adds a plugin; a second plugin with the same name (any case) is a registration error. */
  register(plugin: Plugin): this {
    const key = plugin.name.toLowerCase();
    const existing = this.byLowerName.get(key);
    if (existing && existing !== plugin) {
      throw new WharfError('WHARF_ERR_PLUGIN', `plugin '${plugin.name}' is already registered (as '${existing.name}'); plugin names must be unique`);
    }
    this.byLowerName.set(key, plugin);
    return this;
  }

  get(name: string): Plugin | undefined {
    return this.byLowerName.get(name.toLowerCase());
  }

  /** Like get, but throws an error that lists the known types and suggests the nearest one. */
  require(name: string): Plugin {
    const plugin = this.get(name);
    if (plugin) return plugin;
    const names = this.names();
    const guess = didYouMean(name, names);
    throw new WharfError(
      'WHARF_ERR_PLUGIN',
      `unknown middleware type '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}; known types: ${names.join(', ')}`,
    );
  }

  /** Plugins that provide a per-router middleware. */
  middlewares(): Plugin[] {
    return [...this.byLowerName.values()].filter((p) => p.create);
  }

  all(): Plugin[] {
    return [...this.byLowerName.values()];
  }

  names(): string[] {
    return [...this.byLowerName.values()].map((p) => p.name).sort();
  }
}

/** A plugin's static section and whether its hooks run: always without a section, else when it is set. */
export function pluginSection(plugin: Plugin, config: StaticConfig): { enabled: boolean; value: unknown } {
  const declared = plugin.config?.static;
  if (!declared) return { enabled: true, value: undefined };
  // A dotted key (`log.otlp`) is a path into a core section; each step matches case-insensitively.
  let value: unknown = config;
  for (const part of (declared.key ?? plugin.name).toLowerCase().split('.')) {
    if (typeof value !== 'object' || value === null) return { enabled: false, value: undefined };
    const node = value as Record<string, unknown>;
    const found = Object.keys(node).find((k) => k.toLowerCase() === part);
    if (found === undefined) return { enabled: false, value: undefined };
    value = node[found];
  }
  return { enabled: true, value };
}
