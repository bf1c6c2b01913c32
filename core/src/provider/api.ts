// `@wharf/core/provider`: what a provider package (docker, a custom one) needs besides the plugin API —
// the contract, the generic decoder its labels or records go through, and the dynamic model it emits.
export { defineProvider, type EmitOptions, type Provider, type ProviderContext, type ProviderDefinition } from './provider.js';
export { decode, flatToTree, formatIssues, type DecodeIssue, type DecodeResult, type TreeObject } from '../config/decode.js';
export {
  dynamicSchema,
  problemsFromDisabled,
  type DynamicConfig,
  type ElementKind,
  type ElementProblem,
  type MiddlewareConfig,
  type ProviderConfig,
  type RouterConfig,
  type ServerConfig,
  type ServiceConfig,
} from '../config/dynamic.js';
export type { UDPRouterConfig, UDPServiceConfig } from '../config/udp.js';
export type { TCPConfig, TCPRouterConfig, TCPServiceConfig, TCPServersTransportConfig, TCPMiddlewareConfig } from '../config/tcp.js';
export type { PluginRegistry } from '../plugin/registry.js';
// The rule parser with a grammar of your own (constraints over labels use it).
export { MatcherSet, RuleSyntaxError, compileExpression, compileRegexp, parseExpression, type Grammar, type MatcherNode } from '../router/rule/index.js';
