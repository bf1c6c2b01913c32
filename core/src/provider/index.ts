// Which providers a static configuration turns on.
import type { StaticConfig } from '../config/static.js';
import { DockerProvider, dockerOptions, swarmOptions, type DockerProviderConfig, type SwarmProviderConfig } from './docker/index.js';
import { FileProvider, type FileProviderConfig } from './file.js';
import type { Provider } from './provider.js';

export function providersFor(config: StaticConfig): Provider[] {
  const providers: Provider[] = [];
  const file = config.providers.file as FileProviderConfig | undefined;
  if (file) providers.push(new FileProvider(file));
  const docker = config.providers.docker as DockerProviderConfig | undefined;
  if (docker) providers.push(new DockerProvider('docker', dockerOptions(docker)));
  const swarm = config.providers.swarm as SwarmProviderConfig | undefined;
  if (swarm) providers.push(new DockerProvider('swarm', swarmOptions(swarm)));
  return providers;
}
