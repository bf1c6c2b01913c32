// Builds the registry a command runs with: the distribution's plugins and providers, then custom plugin
// modules named in the static configuration, by package name or path.
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WharfError, messageOf } from '../errors.js';
import type { Plugin } from '../plugin/contract.js';
import { PluginRegistry } from '../plugin/registry.js';
import type { ProviderDefinition } from '../provider/provider.js';
import { findProperty, NODE_VALUE, type TreeObject } from '../config/decode.js';

/** Imports a plugin module (package name, or a path relative to `cwd`) and checks its default export. */
export async function importPlugin(spec: string, cwd = process.cwd()): Promise<Plugin> {
  let url: string;
  try {
    url = spec.startsWith('.') || isAbsolute(spec)
      ? pathToFileURL(resolve(cwd, spec)).href
      : pathToFileURL(createRequire(join(cwd, 'package.json')).resolve(spec)).href;
  } catch (err) {
    throw new WharfError('WHARF_ERR_PLUGIN_LOAD', `cannot find plugin module '${spec}' from ${cwd}: ${messageOf(err)}`, { cause: err });
  }
  let mod: { default?: unknown; plugin?: unknown };
  try {
    mod = (await import(url)) as typeof mod;
  } catch (err) {
    throw new WharfError('WHARF_ERR_PLUGIN_LOAD', `plugin module '${spec}' failed to load: ${messageOf(err)}`, { cause: err });
  }
  const plugin = (mod.default ?? mod.plugin) as Plugin | undefined;
  if (!plugin || typeof plugin !== 'object' || typeof plugin.name !== 'string' || typeof plugin.schema !== 'object') {
    throw new WharfError('WHARF_ERR_PLUGIN_LOAD', `plugin module '${spec}' must export default definePlugin({ name, schema, create })`);
  }
  return plugin;
}

/** Custom plugins named in the raw static tree: `plugins.<name>.module` and Traefik's `experimental.localPlugins.<name>.moduleName`. */
export function customPluginSpecs(tree: TreeObject): Map<string, string> {
  const specs = new Map<string, string>();
  const child = (node: unknown, key: string): unknown => {
    if (!node || typeof node !== 'object') return undefined;
    const found = findProperty(node as Record<string, unknown>, key);
    return found === undefined ? undefined : (node as Record<string, unknown>)[found];
  };
  const scalar = (v: unknown) => (typeof v === 'string' ? v : v && typeof v === 'object' ? (v as TreeObject)[NODE_VALUE] : undefined);
  const collect = (map: unknown, field: string) => {
    if (!map || typeof map !== 'object') return;
    for (const [name, entry] of Object.entries(map)) {
      const spec = scalar(child(entry, field));
      if (typeof spec === 'string' && spec !== '') specs.set(name, spec);
    }
  };
  collect(child(tree, 'plugins'), 'module');
  collect(child(child(tree, 'experimental'), 'localPlugins'), 'moduleName');
  return specs;
}

/** What a distribution (the `wharf` package, or your own build) ships: its plugins and providers. */
export interface Distribution {
  plugins: readonly Plugin[];
  providers: readonly ProviderDefinition[];
}

/** Registry with the distribution's plugins and providers and the custom plugins; a custom plugin's configured name must be its own. */
export async function loadPlugins(distribution: Distribution, custom: Map<string, string>, cwd = process.cwd()): Promise<PluginRegistry> {
  const registry = new PluginRegistry();
  for (const plugin of distribution.plugins) registry.register(plugin);
  for (const provider of distribution.providers) registry.registerProvider(provider);
  for (const [name, spec] of custom) {
    const plugin = await importPlugin(spec, cwd);
    if (plugin.name.toLowerCase() !== name.toLowerCase()) {
      throw new WharfError('WHARF_ERR_PLUGIN_LOAD', `plugins.${name}.module: the module '${spec}' defines plugin '${plugin.name}'; use --plugins.${plugin.name}.module=${spec}`);
    }
    registry.register(plugin);
  }
  return registry;
}
