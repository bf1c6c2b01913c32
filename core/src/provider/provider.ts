// The provider interface: a source of dynamic configuration (file, docker, …) that emits whole snapshots.
import type { ProviderConfig } from '../config/dynamic.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { Logger } from '../log.js';

export interface ProviderContext {
  /** Sends the provider's whole current configuration; the watcher skips snapshots equal to the last one. */
  emit(config: ProviderConfig): void;
  log: Logger;
  /** Plugin schemas the provider decodes middleware options with. */
  registry: PluginRegistry;
}

export interface Provider {
  /** Namespace of the names it produces (`api@file`). */
  readonly name: string;
  /** Starts producing configuration; resolves once the first snapshot was emitted or failed. */
  start(context: ProviderContext): Promise<void>;
  stop(): Promise<void>;
}
