// The provider contract: a source of dynamic configuration (file, docker, …) that emits whole snapshots,
// declared with `defineProvider` and registered like a plugin, so core names no provider but its own file one.
import type { Static, TSchema } from '@sinclair/typebox';
import type { ProviderConfig } from '../config/dynamic.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { Logger } from '../log.js';

/** How a snapshot is applied. */
export interface EmitOptions {
  /**
   * Apply it now rather than at the end of the providersThrottleDuration window: for a snapshot that takes servers
   * out of rotation (a container being stopped, a task told to shut down), which must not keep receiving requests.
   */
  immediate?: boolean;
}

export interface ProviderContext {
  /** Sends the provider's whole current configuration; the watcher skips snapshots equal to the last one. */
  emit(config: ProviderConfig, options?: EmitOptions): void;
  log: Logger;
  /** Plugin schemas the provider decodes middleware options with. */
  registry: PluginRegistry;
}

/** A running source of configuration, made by a ProviderDefinition from its static options. */
export interface Provider {
  /** Namespace of the names it produces (`api@file`). */
  readonly name: string;
  /** Starts producing configuration; resolves once the first snapshot was emitted or failed. */
  start(context: ProviderContext): Promise<void>;
  stop(): Promise<void>;
}

/** What a provider package exports: its static section `providers.<name>` and how to start it. */
export interface ProviderDefinition<S extends TSchema = TSchema> {
  /** Section under `providers` (`docker` → `--providers.docker.*`) and the `@name` its elements carry. */
  readonly name: string;
  /** One line for `--help` and the docs. */
  readonly description?: string;
  /** Static options (TypeBox), validated and defaulted like every other section. */
  readonly schema: S;
  /** Makes the provider from its decoded options; throw an Error naming the field for a bad combination. */
  create(options: Static<S>): Provider;
}

/** Declares a provider; checks its shape at definition time so mistakes fail at registration. */
export function defineProvider<S extends TSchema>(definition: ProviderDefinition<S>): ProviderDefinition<S> {
  if (typeof definition.name !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(definition.name)) {
    throw new TypeError(`provider name must be a word of letters, digits, '-' or '_' (got ${JSON.stringify(definition.name)})`);
  }
  if (!definition.schema || typeof definition.schema !== 'object') {
    throw new TypeError(`provider '${definition.name}': schema must be a JSON Schema object (use Type.Object({...}))`);
  }
  if (typeof definition.create !== 'function') {
    throw new TypeError(`provider '${definition.name}': create must be a function returning a Provider`);
  }
  return Object.freeze(definition);
}
