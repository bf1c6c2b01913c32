// The plugin contract: what every middleware — built-in or custom — declares and provides.
import type { Static, TSchema } from '@sinclair/typebox';
import type { Middleware } from '../context.js';
import type { Logger } from '../log.js';
import type { Server, ServerOptions, RequestListener } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { RuntimeInfo } from '../config/runtime.js';
import type { StaticConfig } from '../config/static.js';

/** Gateway events a plugin can follow (metrics, API, health checks). */
export interface GatewayEvents {
  /** A new configuration generation is live. */
  on(event: 'reload', listener: (info: RuntimeInfo) => void): unknown;
  /** An entrypoint's server is bound. */
  on(event: 'listening', listener: (e: { entrypoint: string; server: Server }) => void): unknown;
  /** A server's health changed (set through PluginHost.health). */
  on(event: 'health', listener: (e: HealthEvent) => void): unknown;
  /** A proxied request to a server failed (connection error, timeout) or answered 5xx: passive health checks. */
  on(event: 'upstreamFailure', listener: (e: UpstreamFailureEvent) => void): unknown;
  /** The certificates a TLS plugin serves now (after each load or reload). */
  on(event: 'certificates', listener: (certificates: readonly CertificateInfo[]) => void): unknown;
  /** Another plugin (ACME) supplies certificates for the TLS plugin to serve; the latest supply per source wins. */
  on(event: 'certificateSupply', listener: (supply: CertificateSupply) => void): unknown;
  /** A certificate resolver's state changed (certificates held, errors); the latest per resolver name wins (API). */
  on(event: 'certificateResolver', listener: (resolver: CertificateResolverInfo) => void): unknown;
}

/** A PEM certificate chain and its private key. */
export interface PemPair {
  cert: string;
  key: string;
}

/**
 * Certificates a plugin obtained at run time (ACME) for the TLS plugin to serve by SNI beside `tls.certificates`,
 * live, without restart. Each supply replaces the previous one from the same `source`.
 */
export interface CertificateSupply {
  /** Who supplies them, e.g. `acme.le`. */
  source: string;
  certificates: readonly PemPair[];
  /** TLS-ALPN-01 (RFC 8737) certificates by domain: served only to clients offering the `acme-tls/1` protocol. */
  challenges?: ReadonlyMap<string, PemPair>;
}

/** A served certificate as metrics and the API may show it (never the key). */
export interface CertificateInfo {
  /** DNS names from the SAN and CN, the CN first. */
  names: readonly string[];
  /** Expiry, Unix time in seconds. */
  notAfter: number;
  serial?: string;
}

/**
 * What a certificate resolver (ACME) holds, for the API: announced after every change and again once the
 * entrypoints listen, so a plugin set up later still receives it.
 */
export interface CertificateResolverInfo {
  name: string;
  /** The CA's directory URL. */
  caServer: string;
  /** The challenge types it answers, in order of preference (`http-01`, `tls-alpn-01`, `dns-01`). */
  challenges: readonly string[];
  /** Certificates it holds; notAfter in Unix seconds. */
  certificates: ReadonlyArray<{ domains: { main: string; sans: readonly string[] }; notAfter: number }>;
  /** Current problems (an order that failed, storage unreadable), each naming the resolver and the domains. */
  errors: readonly string[];
}

export interface HealthEvent {
  service: string;
  url: string;
  up: boolean;
  reason?: string;
}

export interface UpstreamFailureEvent {
  service: string;
  url: string;
  /** Upstream status for 5xx answers; undefined for connection failures and timeouts. */
  status?: number;
  error?: string;
}

/** Server health shared by health-check plugins and the load balancer: down servers get no new requests. */
export interface ServerHealth {
  /** Records a verdict; transitions are logged once and emitted as a `health` event. */
  set(service: string, url: string, up: boolean, reason?: string): void;
  isUp(service: string, url: string): boolean;
  /** Forgets servers of services no longer configured. */
  forget(service: string, url?: string): void;
}

/** Creates an entrypoint's server (the TLS plugin returns an https or HTTP/2 server with the same handler). */
export type ServerFactory = (options: ServerOptions, handler: RequestListener) => Server;

/** Given to `create` once per configuration generation and middleware instance. */
export interface PluginContext {
  /** Qualified middleware name from the configuration (`api-rl@docker`). */
  readonly name: string;
  /** Logger bound to the plugin and middleware name. */
  readonly log: Logger;
  /** Aborted when the configuration generation that created the middleware is retired: stop timers here. */
  readonly signal: AbortSignal;
  /** State shared by every worker process of this gateway (see PluginHost.shared). */
  readonly shared: SharedState;
  /**
   * Another middleware of the same configuration generation, for middlewares made of others (chain). The reference
   * resolves like a router's: `auth@file` as written, `auth` in this middleware's provider. It is created on first
   * use and shared; throws, naming it, when it does not exist, is disabled, or leads back to a middleware being
   * created (a cycle: the message gives its path). Call it from `create` only.
   */
  middleware(reference: string): Middleware;
  /**
   * A service's handler by name, resolved the same way (`pages`, `pages@file`, `ping@internal`); throws when the
   * service does not exist or is disabled. Called with a context, it sends that context's request as it is then
   * (method, URL, headers) to the service and writes the answer (through `ctx.wharf.writer` when set), as a
   * router would (errors pages). Call it from `create` only.
   */
  service(reference: string): Middleware;
}

/**
 * Key/value state shared across worker processes (node:cluster), kept in the primary.
 * `update` runs the updater atomically in the primary, so read-modify-write needs no locks.
 */
export interface SharedState {
  /** Runs a named reducer registered with `defineReducer` in the primary; resolves to its result. */
  call<R = unknown>(reducer: string, key: string, arg: unknown): Promise<R>;
}

/** Hooks on entrypoints: run before routing, or serve the entrypoint's connections yourself. */
export interface EntrypointCapability {
  /** Adds a middleware that runs on every request of the given entrypoints (all when omitted), before routing; lower `order` runs first. */
  use(middleware: Middleware, options?: { entrypoints?: readonly string[]; order?: number }): void;
  /** Creates this entrypoint's server instead of the core's plain HTTP one (one plugin per entrypoint; TLS). */
  serve(entrypoint: string, factory: ServerFactory): void;
  /**
   * Terminates TLS for TCP routers (one plugin: the TLS plugin), with the certificates and options it serves HTTPS
   * with. Without one, a TCP router with `tls` (and no passthrough) is disabled with an error saying so.
   */
  terminateTLS(terminator: TLSTerminator): void;
}

/** What a TCP router asks of the TLS terminator. */
export interface TLSTerminationRequest {
  entrypoint: string;
  /** SNI of the ClientHello, if any. */
  servername: string | undefined;
  /** The router's `tls.options` as written (undefined = `default`), resolved in the router's provider. */
  options: string | undefined;
  provider: string;
}

/**
 * Handshakes as the server on `socket` (paused; its ClientHello is still to be read) and resolves once the
 * handshake is done; rejects (the core closes the socket) when it fails or is refused.
 */
export type TLSTerminator = (socket: Socket, request: TLSTerminationRequest) => Promise<TLSSocket>;

/** One TCP connection routed by a TCP router, as connection middlewares see it. */
export interface TCPConnection {
  /** The client's connection: a TLSSocket when Wharf terminated TLS, else the accepted socket (bytes not yet read). */
  readonly socket: Socket;
  /** Client IP (from the PROXY header when trusted), IPv4-mapped IPv6 unwrapped. */
  readonly clientIP: string;
  /** SNI of the ClientHello ('' for non-TLS connections). */
  readonly serverName: string;
  readonly entrypoint: string;
  /** Qualified router name. */
  readonly router: string;
}

/** Serves a TCP connection: relays it to a service, or ends it. */
export type ConnectionHandler = (connection: TCPConnection) => void;

/**
 * A connection-level middleware (Traefik's TCP middlewares): calls `next(connection)` to pass the connection on,
 * or closes `connection.socket` to refuse it. Runs once per connection, before any byte goes to a server.
 */
export type ConnectionMiddleware = (connection: TCPConnection, next: ConnectionHandler) => void;

/** The connection-level side of a plugin: `tcp.middlewares.<name>.<plugin name>` options and the factory. */
export interface ConnectionPlugin<O extends TSchema = TSchema> {
  /** JSON Schema (TypeBox) of the `tcp.middlewares` options. */
  readonly schema: O;
  /** Cross-field checks; throw an Error whose message names the field. */
  validate?(options: Static<O>): void;
  /** Runs once per configuration generation and middleware instance. */
  create(options: Static<O>, context: Pick<PluginContext, 'name' | 'log' | 'signal' | 'shared'>): ConnectionMiddleware;
}

/** Types a plugin's `tcp` part (infers its options from the schema). */
export function defineConnectionMiddleware<O extends TSchema>(spec: ConnectionPlugin<O>): ConnectionPlugin<O> {
  return spec;
}

/** One router on one entrypoint as a RouterInstrumentation sees it, when a configuration generation is built. */
export interface InstrumentedRouter {
  /** Qualified router name (`api@file`). */
  readonly name: string;
  readonly entrypoint: string;
  readonly rule: string;
  /** Qualified service name. */
  readonly service: string;
  /** The router's `observability` settings as configured (absent fields: the entrypoint's defaults). */
  readonly observability?: RouterObservability;
}

/** A router's `observability` settings (Traefik's RouterObservabilityConfig). */
export interface RouterObservability {
  accessLogs?: boolean;
  metrics?: boolean;
  tracing?: boolean;
  traceVerbosity?: 'minimal' | 'detailed';
}

/**
 * Wraps the parts of every router's chain once per configuration generation (tracing: a span per router, per
 * middleware, per upstream call). Each hook gets the built handler and returns the one to run instead. Only
 * the middlewares a router names (its entrypoint's `http.middlewares` first) are offered, not those a chain
 * middleware is made of. With no instrumentation registered nothing is wrapped.
 */
export interface RouterInstrumentation {
  /** The router's whole chain: its middlewares, then its service. */
  router?(router: InstrumentedRouter, chain: Middleware): Middleware;
  /** One middleware of the router's chain; `type` is its plugin's name (`rateLimit`). */
  middleware?(middleware: { readonly name: string; readonly type: string }, router: InstrumentedRouter, handler: Middleware): Middleware;
  /** The router's service handler; `internal` for `<name>@internal` services (ping, api). */
  service?(service: { readonly name: string; readonly internal: boolean }, router: InstrumentedRouter, handler: Middleware): Middleware;
}

/** Hooks on routers' chains. */
export interface RouterCapability {
  /** Registers an instrumentation for every generation built from now on; call it from `setup`. */
  instrument(instrumentation: RouterInstrumentation): void;
}

/** Services a plugin offers, and the health of every server the load balancers use. */
export interface ServiceCapability {
  /** Offers a handler as the service `<name>@internal` (ping@internal, api@internal) for routers to use. */
  provide(name: string, handler: Middleware): void;
  /** Server verdicts: a server marked down gets no new requests (health checks write, anyone may read). */
  readonly health: ServerHealth;
}

/** What happens in the gateway, and what a plugin announces to the others. */
export interface PluginEvents extends GatewayEvents {
  /** Announces the certificates now served (a TLS plugin); others receive them as the `certificates` event. */
  emit(event: 'certificates', certificates: readonly CertificateInfo[]): void;
  /** Supplies certificates (and TLS-ALPN-01 challenge certificates) for the TLS plugin to serve; see CertificateSupply. */
  emit(event: 'certificateSupply', supply: CertificateSupply): void;
  /** Announces a certificate resolver's state; see CertificateResolverInfo. */
  emit(event: 'certificateResolver', resolver: CertificateResolverInfo): void;
}

/** The configuration as data: the section the plugin owns, the live generation, and the schemas. */
export interface ConfigurationCapability {
  /**
   * Receives every provider's value of the dynamic section this plugin declares (`config.dynamic`), each time a
   * generation is built and before it goes live; throw to report a problem (logged, the section is skipped).
   */
  onDynamic(listener: (sections: ReadonlyArray<{ provider: string; value: unknown }>) => void): void;
  /** The live configuration generation: every router, service and middleware with its status and errors (for the API). */
  runtime(): RuntimeInfo;
  /**
   * Attaches a non-fatal error to a router of the live generation (status `warning`, shown by the API) and logs it:
   * for problems a plugin finds in router fields it interprets (`tls.certResolver`). Call it from a `reload` listener.
   * `kind` says which routers `router` names: `http` (the default, `RuntimeInfo.routers`) or `tcp`
   * (`RuntimeInfo.tcp.routers`). An unknown router is ignored.
   */
  warnRouter(router: string, message: string, kind?: 'http' | 'tcp'): void;
  /** The static and dynamic configuration schemas with every plugin's fields, to present configuration (secrets, durations). */
  readonly schemas: { readonly static: TSchema; readonly dynamic: TSchema };
}

/** The process's life: shutdown hooks and the drain state. */
export interface LifecycleCapability {
  /** Runs at shutdown, after entrypoints stopped accepting and in-flight requests finished. */
  onStop(fn: () => void | Promise<void>): void;
  /** True once SIGTERM/SIGINT started the graceful drain (ping answers terminatingStatusCode). */
  isShuttingDown(): boolean;
}

/** What a plugin may use beyond per-router middleware, grouped by capability; given to `setup` once per process. */
export interface PluginHost {
  /** Logger bound to the plugin's name. */
  readonly log: Logger;
  /** The whole decoded static configuration, read-only. */
  readonly staticConfig: Readonly<StaticConfig>;
  /** State shared by every worker process (reducers run in the primary). */
  readonly shared: SharedState;
  readonly entrypoints: EntrypointCapability;
  readonly routers: RouterCapability;
  readonly services: ServiceCapability;
  readonly events: PluginEvents;
  readonly configuration: ConfigurationCapability;
  readonly lifecycle: LifecycleCapability;
}

/**
 * What `primary` receives: the work done once per gateway, whatever the number of worker processes. With
 * `--workers` it runs in the primary, which sees every worker's configuration generation and live failures and
 * hands its health verdicts to every worker; without, in the gateway's own process.
 */
export interface PrimaryHost {
  readonly log: Logger;
  readonly staticConfig: Readonly<StaticConfig>;
  readonly events: {
    /** A configuration generation is live in the workers (reported once, not once per worker). */
    on(event: 'reload', listener: (info: RuntimeInfo) => void): unknown;
    /** A proxied request failed in any worker (passive health checks). */
    on(event: 'upstreamFailure', listener: (e: UpstreamFailureEvent) => void): unknown;
  };
  /** Verdicts set here reach every worker's load balancers, `health` events, API and metrics. */
  readonly health: ServerHealth;
  readonly lifecycle: { onStop(fn: () => void | Promise<void>): void };
}

/** Where a plugin extends the configuration model, besides its middleware options (`schema`). */
export interface PluginConfig<S extends TSchema = TSchema> {
  /**
   * A static section (`--ping`, `--accessLog`): its key (default: the plugin name) and schema; `setup` gets its value.
   * A dotted key (`log.otlp`) places the section inside a core section.
   */
  readonly static?: {
    readonly key?: string;
    readonly schema: S;
    /** Entrypoints the section serves on (api.insecure → traefik); a missing `traefik` one is created on :8080, as Traefik does. */
    entryPoints?(config: Static<S>): readonly string[];
  };
  /** Fields added under every `entryPoints.<name>` (dotted path → schema), e.g. `http.tls`. */
  readonly entryPoint?: Readonly<Record<string, TSchema>>;
  /** Fields added under every `http.services.<name>.loadBalancer`, e.g. `healthCheck`. */
  readonly loadBalancer?: Readonly<Record<string, TSchema>>;
  /** A top-level dynamic section the plugin owns (`tls`), decoded by every provider and handed to `configuration.onDynamic`. */
  readonly dynamic?: { readonly key: string; readonly schema: TSchema };
}

/** A plugin module's default export: build it with `definePlugin`. */
export interface Plugin<O extends TSchema = TSchema, S extends TSchema = TSchema> {
  /** Type name used in configuration (`stripPrefix`); matched case-insensitively (`stripprefix`). */
  readonly name: string;
  /** One line for docs and the API. */
  readonly description?: string;
  /** JSON Schema (TypeBox) of the middleware options: validation, label coercion, defaults and docs. */
  readonly schema: O;
  /** Cross-field checks on decoded options; throw an Error whose message names the field. */
  validate?(options: Static<O>): void;
  /** Turns validated options into the per-request middleware; runs once per configuration generation. */
  create?(options: Static<O>, context: PluginContext): Middleware;
  /** Sections the plugin adds to the static and dynamic configuration. */
  readonly config?: PluginConfig<S>;
  /** Runs once per process when the static section is present (or always when there is none). */
  setup?(config: Static<S> | undefined, host: PluginHost): void | Promise<void>;
  /** Runs once per gateway (in the primary with `--workers`) under the same condition: checks that must not run once per worker. */
  primary?(config: Static<S> | undefined, host: PrimaryHost): void | Promise<void>;
  /** A connection-level middleware for TCP routers (`tcp.middlewares.<name>.<plugin name>`); see ConnectionPlugin. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each plugin's own options type
  readonly tcp?: ConnectionPlugin<any>;
}

/** Declares a plugin; checks its shape at definition time so mistakes fail at registration, not per request. */
export function definePlugin<O extends TSchema, S extends TSchema = TSchema>(plugin: Plugin<O, S>): Plugin<O, S> {
  if (typeof plugin.name !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(plugin.name)) {
    throw new TypeError(`plugin name must be a word of letters, digits, '-' or '_' (got ${JSON.stringify(plugin.name)})`);
  }
  if (!plugin.schema || typeof plugin.schema !== 'object') {
    throw new TypeError(`plugin '${plugin.name}': schema must be a JSON Schema object (use Type.Object({...}))`);
  }
  if (plugin.create !== undefined && typeof plugin.create !== 'function') {
    throw new TypeError(`plugin '${plugin.name}': create must be a function returning a middleware`);
  }
  if (plugin.setup !== undefined && typeof plugin.setup !== 'function') {
    throw new TypeError(`plugin '${plugin.name}': setup must be a function`);
  }
  if (plugin.primary !== undefined && typeof plugin.primary !== 'function') {
    throw new TypeError(`plugin '${plugin.name}': primary must be a function`);
  }
  for (const legacy of ['staticSchema', 'staticKey', 'entryPointSchema', 'dynamicKey', 'dynamicSchema', 'loadBalancerSchema', 'usesEntryPoints'] as const) {
    if (legacy in plugin) throw new TypeError(`plugin '${plugin.name}': '${legacy}' moved under config (config.static, config.entryPoint, config.loadBalancer, config.dynamic)`);
  }
  if (plugin.tcp !== undefined && typeof plugin.tcp.create !== 'function') {
    throw new TypeError(`plugin '${plugin.name}': tcp.create must be a function returning a connection middleware`);
  }
  if (!plugin.create && !plugin.setup && !plugin.primary && !plugin.tcp) {
    throw new TypeError(`plugin '${plugin.name}': provide create (a middleware), tcp (a connection middleware), setup (process hooks) and/or primary (once per gateway)`);
  }
  return Object.freeze(plugin);
}
