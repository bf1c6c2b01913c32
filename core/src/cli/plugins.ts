// Loads built-in and custom plugin modules into a registry, by package name or path.
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WharfError, messageOf } from '../errors.js';
import type { Plugin } from '../plugin/contract.js';
import { PluginRegistry } from '../plugin/registry.js';
import { findProperty, NODE_VALUE, type TreeObject } from '../config/decode.js';

/** Built-in plugins: loaded exactly like custom ones, through their package names. */
export const BUILTIN_PLUGINS = ['@wharf/plugin-stripprefix', '@wharf/plugin-headers', '@wharf/plugin-ping', '@wharf/plugin-accesslog', '@wharf/plugin-ratelimit', '@wharf/plugin-api', '@wharf/plugin-metrics', '@wharf/plugin-healthcheck', '@wharf/plugin-retry', '@wharf/plugin-tls', '@wharf/plugin-redirectscheme'] as const;

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

/** Registry with the built-ins and the custom plugins; a custom plugin's configured name must be its own. */
export async function loadPlugins(custom: Map<string, string>, cwd = process.cwd()): Promise<PluginRegistry> {
  const registry = new PluginRegistry();
  for (const spec of BUILTIN_PLUGINS) registry.register(await importPlugin(spec, import.meta.dirname));
  for (const [name, spec] of custom) {
    const plugin = await importPlugin(spec, cwd);
    if (plugin.name.toLowerCase() !== name.toLowerCase()) {
      throw new WharfError('WHARF_ERR_PLUGIN_LOAD', `plugins.${name}.module: the module '${spec}' defines plugin '${plugin.name}'; use --plugins.${plugin.name}.module=${spec}`);
    }
    registry.register(plugin);
  }
  return registry;
}
