// Public API of @wharf/core: what a plugin (built-in or custom) or an embedding program uses. Configuration
// tooling is in `@wharf/core/config`, PEM and upstream-TLS helpers in `@wharf/core/tls`, the provider contract in
// `@wharf/core/provider`, the command machinery in `@wharf/core/cli`.
export {
  definePlugin,
  type Plugin,
  type PluginConfig,
  type PluginContext,
  type PluginHost,
  type EntrypointCapability,
  type RouterCapability,
  type RouterInstrumentation,
  type InstrumentedRouter,
  type RouterObservability,
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
  type CertificateSupply,
  type CertificateResolverInfo,
  type PemPair,
  type PrimaryHost,
  type TLSTerminator,
  type TLSTerminationRequest,
  type TCPConnection,
  type ConnectionHandler,
  type ConnectionMiddleware,
  type ConnectionPlugin,
  defineConnectionMiddleware,
} from './plugin/contract.js';
/** TLS ClientHello peeking (SNI, ALPN) before a handshake: the TCP router and the TLS plugin read connections with it. */
export { ClientHelloReader, parseClientHello, type HelloResult } from './entrypoint/client-hello.js';
export { wrapResponse, ForwardingWriter, type ResponseWriter } from './response-writer.js';
export { hasRequestBody } from './service/proxy.js';
export { defineReducer } from './plugin/shared.js';
export { fileLines, readListFile, followFile } from './plugin/files.js';
export { onResponseHeaders, replaceRequestBody, isReplayableBody, type Middleware, type Next, type WharfContext, type WharfState, type UpstreamInfo, type ResponseHeaderHook, type RetryPolicy, type ReplayableBody } from './context.js';
export { Type, type Static, type TSchema, Duration, MapOf, StringList, Section, Secret, parseDuration, formatDuration } from './config/schema.js';
/** Schema marks, for tools that walk a schema (the API hides SECRET fields and prints DURATION ones as `10s`). */
export { SECRET, DURATION } from './config/schema.js';
export type { StaticConfig, EntryPointConfig } from './config/static.js';
export { WharfError, messageOf, type WharfErrorCode } from './errors.js';
export { Deadlines, type Deadline } from './deadlines.js';
export { addLogDestination, createLogger, silentLogger, type Logger } from './log.js';
export { Gateway } from './gateway.js';
export { startGateway, type StartOptions, type EmbeddedGateway } from './embed.js';
export type { RuntimeInfo, RouterInfo, ServiceInfo, MiddlewareInfo, ElementStatus } from './config/runtime.js';
export type { UDPRouterInfo, UDPServiceInfo, UDPRouterConfig, UDPServiceConfig } from './config/udp.js';
/** What a generation made of the TCP routers, services and middlewares (`RuntimeInfo.tcp`), for the API. */
export type { TCPInfo, TCPRouterInfo, TCPServiceInfo, TCPMiddlewareInfo } from './tcp/info.js';
export { qualify } from './runtime/build.js';
/** Traefik's ipStrategy and IP lists (X-Forwarded-For depth/excludedIPs, CIDR matching, IPv6 subnets), for plugins. */
export { ipMatcher, parseIPRange, forwardedIPPicker, maskIPv6, checkSourceCriterion, clientIPKey, type ForwardedPicker, type SourceCriterionConfig } from './ip.js';
