// Which providers a static configuration turns on: every registered definition whose `providers.<name>` section is set.
import type { StaticConfig } from '../config/static.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { Provider } from './provider.js';

export function providersFor(config: StaticConfig, registry: PluginRegistry): Provider[] {
  const sections = config.providers as Record<string, unknown>;
  const providers: Provider[] = [];
  for (const definition of registry.providerDefinitions()) {
    const options = sections[definition.name];
    if (options !== undefined) providers.push(definition.create(options as never));
  }
  return providers;
}
