// The set of plugins known to this process: built-ins and custom ones, looked up case-insensitively.
import { WharfError } from '../errors.js';
import { didYouMean } from '../config/decode.js';
import type { Plugin } from './contract.js';

export class PluginRegistry {
  private readonly byLowerName = new Map<string, Plugin>();

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
