// @wharf/provider-docker: the docker (containers, or swarm with swarmMode) and swarm providers as definitions
// a distribution registers, plus the pieces embedders and tests reuse.
import { defineProvider } from '@wharf/core/provider';
import { DockerProviderSchema, SwarmProviderSchema, dockerOptions, swarmOptions } from './options.js';
import { DockerProvider } from './provider.js';

/** `providers.docker`: containers, or swarm services with `swarmMode` (Traefik v2 form). */
export const dockerProvider = defineProvider({
  name: 'docker',
  description: 'Routing from labels on Docker containers (or swarm services with swarmMode), live from engine events.',
  schema: DockerProviderSchema,
  create: (options) => new DockerProvider('docker', dockerOptions(options)),
});

/** `providers.swarm`: swarm services and their tasks (Traefik v3 form). */
export const swarmProvider = defineProvider({
  name: 'swarm',
  description: 'Routing from deploy labels on Docker Swarm services, balanced over their running tasks.',
  schema: SwarmProviderSchema,
  create: (options) => new DockerProvider('swarm', swarmOptions(options)),
});

/** Both providers, for `registry.registerProvider`. */
export const providers = [dockerProvider, swarmProvider] as const;
export default providers;

export { DockerProvider } from './provider.js';
export { DockerProviderSchema, SwarmProviderSchema, dockerOptions, swarmOptions, DEFAULT_RULE, DEFAULT_ENDPOINT, type DockerOptions, type DockerProviderConfig, type SwarmProviderConfig } from './options.js';
export { buildConfiguration, type BuildOptions, type BuildResult } from './configuration.js';
export { labelSchema, labelTree, type LabelConfig } from './labels.js';
export { compileTemplate, normalize, type TemplateData, type RuleTemplate } from './template.js';
export { compileConstraints, type LabelPredicate } from './constraints.js';
export { containerWorkload, serviceWorkload, type Workload, type Instance } from './workload.js';
