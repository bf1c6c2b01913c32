// The docker and swarm providers (issue #3): static options, the provider, and the pieces embedders may reuse.
export { DockerProvider } from './provider.js';
export { DockerProviderSchema, SwarmProviderSchema, dockerOptions, swarmOptions, DEFAULT_RULE, DEFAULT_ENDPOINT, type DockerOptions, type DockerProviderConfig, type SwarmProviderConfig } from './options.js';
export { buildConfiguration, type BuildOptions, type BuildResult } from './configuration.js';
export { labelSchema, labelTree, type LabelConfig } from './labels.js';
export { compileTemplate, normalize, type TemplateData, type RuleTemplate } from './template.js';
export { compileConstraints, type LabelPredicate } from './constraints.js';
export { containerWorkload, serviceWorkload, type Workload, type Instance } from './workload.js';
