// `@wharf/core/cli`: the command machinery a distribution wraps (the `wharf` package, or your own build).
export { main, type CommandDistribution, type Subcommand } from './main.js';
export { loadPlugins, importPlugin, customPluginSpecs, type Distribution } from './plugins.js';
