// Public API of @wharf/core: everything a plugin (built-in or custom) or an embedding program may use.
export {
  definePlugin,
  type Plugin,
  type PluginConfig,
  type PluginContext,
  type PluginHost,
  type EntrypointCapability,
  type ServiceCapability,
  type PluginEvents,
  type ConfigurationCapability,
  type LifecycleCapability,
  type SharedState,
  type GatewayEvents,
  type ServerFactory,
  type ServerHealth,
  type HealthEvent,
  type UpstreamFailureEvent,
  type CertificateInfo,
} from './plugin/contract.js';
export { defineReducer } from './plugin/shared.js';
export { PluginRegistry } from './plugin/registry.js';
export { onResponseHeaders, type Middleware, type Next, type WharfContext, type WharfState, type UpstreamInfo, type ResponseHeaderHook } from './context.js';
export { Type, type Static, type TSchema, Duration, MapOf, StringList, Section, Secret, parseDuration, formatDuration } from './config/schema.js';
/** Schema marks, for tools that walk a schema (the API hides SECRET fields and prints DURATION ones as `10s`). */
export { SECRET, DURATION } from './config/schema.js';
export { decode, flatToTree, formatIssues, type DecodeIssue, type DecodeResult } from './config/decode.js';
export { dynamicSchema, problemsFromDisabled, type DynamicConfig, type ProviderConfig, type RouterConfig, type ServiceConfig, type ElementProblem } from './config/dynamic.js';
export { readStaticSources, decodeStatic, staticSchema, type StaticConfig, type EntryPointConfig } from './config/static.js';
export { defineProvider, type Provider, type ProviderContext, type ProviderDefinition } from './provider/provider.js';
export { WharfError, messageOf, type WharfErrorCode } from './errors.js';
export { Deadlines, type Deadline } from './deadlines.js';
export { createLogger, silentLogger, type Logger } from './log.js';
export { compileRule, type CompiledRule } from './router/rule/index.js';
export type { RequestFacts } from './router/request-facts.js';
export { Gateway } from './gateway.js';
export { startGateway, type StartOptions, type EmbeddedGateway } from './embed.js';
export type { RuntimeInfo, RouterInfo, ServiceInfo, MiddlewareInfo, ElementStatus } from './config/runtime.js';
export { qualify, isTLSEntryPoint } from './runtime/build.js';
export { parseAddress } from './entrypoint/address.js';
export { upstreamConnector, type ServersTransport, type ClientCertificate } from './service/pool.js';
export { isInlinePem, readPemValue, readCertificates, readKeyPair, parseKeyPair, KeyPairError, type KeyPair } from './config/pem.js';
export { optionRows, optionTable, markedSection, markedSections } from './config/docs.js';
