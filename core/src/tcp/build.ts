// Builds the TCP side of a configuration generation: routers compiled into per-entrypoint tables, middlewares and
// services created once, each element's status and errors beside it. An error disables only what it touches.
import { createSecureContext } from 'node:tls';
import { decode } from '../config/decode.js';
import type { ProviderConfig } from '../config/dynamic.js';
import { readCertificates, readKeyPair } from '../config/pem.js';
import { addError, type RuntimeInfo } from '../config/runtime.js';
import type { StaticConfig } from '../config/static.js';
import { TCPServersTransportSchema, type TCPConfig, type TCPMiddlewareConfig, type TCPRouterConfig, type TCPServiceConfig, type TCPServersTransportConfig } from '../config/tcp.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import type { ConnectionHandler, ConnectionMiddleware, SharedState } from '../plugin/contract.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { ruleHostNames } from '../router/rule/index.js';
import { parseServerAddress, type TCPDialer } from './proxy.js';
import { compileTCPRule, tcpRouterPriority, tcpRuleHostNames, type CompiledTCPRule } from './rule.js';
import { createTCPLoadBalancer, createTCPWeighted } from './service.js';
import { TCPRoutingTable, type TCPRouteEntry } from './table.js';
import { isUDPEntryPoint } from '../udp/address.js';
import { buildOnce, chainOf } from '../runtime/elements.js';
import type { TCPInfo, TCPMiddlewareInfo, TCPRouterInfo, TCPServiceInfo } from './info.js';

/** What a TCP table entry leads to. */
export interface TCPTarget {
  router: string;
  provider: string;
  /** Middlewares then the service. */
  handler: ConnectionHandler;
  /** How TLS is handled: not at all (non-TLS router), relayed untouched, or terminated with these options. */
  tls: undefined | 'passthrough' | { options: string | undefined };
}

/** One entrypoint's TCP routing, as Traefik's tcp.Router holds it beside the HTTP(S) handlers. */
export interface TCPEntrypointRoutes {
  /** Routers without `tls`: non-TLS connections. */
  readonly plain: TCPRoutingTable<TCPTarget>;
  /** Routers with `tls` (passthrough or terminated). */
  readonly secure: TCPRoutingTable<TCPTarget>;
  /** Whether HTTPS routers exist on this entrypoint (they keep the non-TLS fast path off, as in Traefik). */
  readonly https: boolean;
  /** An HTTPS router without a Host rule exists: it takes TLS connections no TCP router claims by name. */
  readonly httpsCatchAll: boolean;
  /** SNI names HTTPS routers claim by their Host rules (lower-case): those win over TCP catch-all routers. */
  readonly httpsHosts: ReadonlySet<string>;
}

export interface TCPBuildContext {
  staticConfig: StaticConfig;
  registry: PluginRegistry;
  log: Logger;
  shared: SharedState;
  signal: AbortSignal;
  /** Whether a plugin (TLS) terminates TLS for TCP routers. */
  canTerminateTLS: boolean;
  /** The HTTP side of the same generation (which routers are HTTPS, and their hosts). */
  http: RuntimeInfo;
}

export interface TCPGeneration {
  info: TCPInfo;
  /** Entrypoints with at least one TCP router; absent = today's HTTP path, untouched. */
  entrypoints: ReadonlyMap<string, TCPEntrypointRoutes>;
}

interface Element<T> {
  name: string;
  provider: string;
  config: T;
}

export function buildTCP(configs: readonly ProviderConfig[], context: TCPBuildContext): TCPGeneration {
  return new TCPBuilder(configs, context).build();
}

function qualify(reference: string, provider: string): string {
  return reference.includes('@') ? reference : `${reference}@${provider}`;
}

class TCPBuilder {
  private readonly info: TCPInfo = { routers: {}, services: {}, middlewares: {} };
  private readonly routers: Element<TCPRouterConfig>[] = [];
  private readonly services = new Map<string, Element<TCPServiceConfig>>();
  private readonly middlewares = new Map<string, Element<TCPMiddlewareConfig>>();
  private readonly transports = new Map<string, TCPServersTransportConfig>();
  private readonly invalidTransports = new Map<string, string[]>();
  private readonly dialers = new Map<string, TCPDialer | Error>();
  private readonly builtServices = new Map<string, ConnectionHandler | null>();
  private readonly builtMiddlewares = new Map<string, ConnectionMiddleware | null>();

  constructor(configs: readonly ProviderConfig[], private readonly context: TCPBuildContext) {
    for (const { provider, config, problems } of configs) {
      const tcp = config.tcp as TCPConfig | undefined;
      for (const [name, router] of Object.entries(tcp?.routers ?? {})) {
        const qualified = qualify(name, provider);
        this.routers.push({ name: qualified, provider, config: router });
        this.info.routers[qualified] = { name: qualified, provider, status: 'enabled', config: router, entryPoints: [], middlewares: [] };
      }
      for (const [name, service] of Object.entries(tcp?.services ?? {})) {
        const qualified = qualify(name, provider);
        this.services.set(qualified, { name: qualified, provider, config: service });
        this.info.services[qualified] = { name: qualified, provider, status: 'enabled', config: service, usedBy: [] };
      }
      for (const [name, middleware] of Object.entries(tcp?.middlewares ?? {})) {
        const qualified = qualify(name, provider);
        this.middlewares.set(qualified, { name: qualified, provider, config: middleware });
        this.info.middlewares[qualified] = { name: qualified, provider, status: 'enabled', config: middleware, usedBy: [] };
      }
      for (const [name, transport] of Object.entries(tcp?.serversTransports ?? {})) this.transports.set(qualify(name, provider), transport);
      for (const problem of problems) this.recordProblem(provider, problem.kind, problem.name, problem.messages);
    }
  }

  build(): TCPGeneration {
    const tables = new Map<string, { plain: TCPRouteEntry<TCPTarget>[]; secure: TCPRouteEntry<TCPTarget>[] }>();
    for (const router of this.routers) this.buildRouter(router, tables);
    const entrypoints = new Map<string, TCPEntrypointRoutes>();
    for (const [ep, lists] of tables) {
      if (lists.plain.length === 0 && lists.secure.length === 0) continue;
      entrypoints.set(ep, { plain: new TCPRoutingTable(lists.plain), secure: new TCPRoutingTable(lists.secure), ...this.httpsOf(ep) });
    }
    this.logProblems();
    return { info: this.info, entrypoints };
  }

  private recordProblem(provider: string, kind: string, name: string, messages: string[]): void {
    const qualified = qualify(name, provider);
    const base = { name: qualified, provider, status: 'disabled' as const, errors: messages };
    if (kind === 'tcp.routers') this.info.routers[qualified] = { ...base, entryPoints: [], middlewares: [] };
    else if (kind === 'tcp.services') this.info.services[qualified] = { ...base, usedBy: [] };
    else if (kind === 'tcp.middlewares') this.info.middlewares[qualified] = { ...base, usedBy: [] };
    else if (kind === 'tcp.serversTransports') this.invalidTransports.set(qualified, messages);
  }

  private buildRouter(router: Element<TCPRouterConfig>, tables: Map<string, { plain: TCPRouteEntry<TCPTarget>[]; secure: TCPRouteEntry<TCPTarget>[] }>): void {
    const info = this.info.routers[router.name]!;
    const { config, provider } = router;
    let rule: CompiledTCPRule;
    try {
      rule = compileTCPRule(config.rule, config.ruleSyntax ?? this.context.staticConfig.core.defaultRuleSyntax);
    } catch (err) {
      info.priority = tcpRouterPriority(config.priority, config.rule);
      return addError(info, `invalid rule ${JSON.stringify(config.rule)}: ${messageOf(err)}`, true);
    }
    const priority = tcpRouterPriority(config.priority, rule);
    info.priority = priority;
    if (config.tls === undefined && tcpRuleHostNames(config.rule, config.ruleSyntax ?? this.context.staticConfig.core.defaultRuleSyntax).length > 0) {
      return addError(info, `invalid rule ${JSON.stringify(config.rule)}: it has a HostSNI matcher, but no tls on the router (SNI exists only in TLS connections); add tls, or use HostSNI(\`*\`)`, true);
    }
    if (config.tls !== undefined && !config.tls.passthrough && !this.context.canTerminateTLS) {
      return addError(info, 'it has tls without passthrough, but no plugin terminates TLS for TCP routers (register the tls plugin, or set tls.passthrough)', true);
    }
    const entryPoints = this.routerEntryPoints(config, info);
    const service = qualify(config.service, provider);
    info.service = service;
    info.middlewares = (config.middlewares ?? []).map((m) => qualify(m, provider));
    const serviceHandler = this.service(service, router.name, [], info);
    const chain = this.chain(info.middlewares, router.name, info);
    if (!serviceHandler || !chain) return;
    const handler = chain.reduceRight<ConnectionHandler>((next, middleware) => (connection) => middleware(connection, next), serviceHandler);
    const tls: TCPTarget['tls'] = config.tls === undefined ? undefined : config.tls.passthrough ? 'passthrough' : { options: config.tls.options };
    const entry: TCPRouteEntry<TCPTarget> = { name: router.name, rule, priority, value: { router: router.name, provider, handler, tls } };
    for (const ep of entryPoints) {
      let lists = tables.get(ep);
      if (!lists) tables.set(ep, (lists = { plain: [], secure: [] }));
      (tls === undefined ? lists.plain : lists.secure).push(entry);
      info.entryPoints.push(ep);
    }
    if (info.status !== 'disabled' && info.entryPoints.length === 0 && !info.errors?.length) addError(info, 'the router is not attached to any entrypoint: it has no entrypoint', true);
  }

  /** Explicit entrypoints (unknown or UDP ones are errors), else the asDefault ones, else all TCP ones (as HTTP routers). */
  private routerEntryPoints(config: TCPRouterConfig, info: TCPRouterInfo): string[] {
    const all = this.context.staticConfig.entryPoints;
    if (!config.entryPoints || config.entryPoints.length === 0) {
      const tcp = Object.keys(all).filter((n) => !isUDPEntryPoint(all[n]!));
      const defaults = tcp.filter((n) => all[n]!.asDefault);
      return defaults.length > 0 ? defaults : tcp;
    }
    const names: string[] = [];
    for (const ep of config.entryPoints) {
      const found = Object.keys(all).find((n) => n.toLowerCase() === ep.toLowerCase());
      if (!found) addError(info, `entrypoint '${ep}' does not exist (known: ${Object.keys(all).join(', ')})`, false);
      else if (isUDPEntryPoint(all[found]!)) addError(info, `entrypoint '${found}' is a UDP entrypoint (${all[found]!.address}); TCP routers cannot use it`, false);
      else names.push(found);
    }
    if (names.length === 0) info.status = 'disabled';
    return names;
  }

  private chain(names: readonly string[], router: string, info: TCPRouterInfo): ConnectionMiddleware[] | null {
    return chainOf(names, (name) => this.middleware(name, router), (name) => addError(info, `middleware '${name}' ${problemOf(this.info.middlewares[name], 'tcp.middlewares')}`, true));
  }

  private middleware(name: string, user: string): ConnectionMiddleware | null {
    return buildOnce(name, user, this.info.middlewares[name], this.middlewares.get(name), this.builtMiddlewares, (element, info) => this.createMiddleware(element, info));
  }

  private createMiddleware(element: Element<TCPMiddlewareConfig>, info: TCPMiddlewareInfo): ConnectionMiddleware {
    const [type, options] = Object.entries(element.config)[0]!;
    const plugin = this.context.registry.require(type);
    info.type = plugin.name;
    if (!plugin.tcp) throw new Error(`plugin '${plugin.name}' has no TCP (connection-level) middleware`);
    plugin.tcp.validate?.(options as never);
    const log = this.context.log.child({ middleware: element.name, plugin: plugin.name });
    return plugin.tcp.create(options as never, { name: element.name, log, signal: this.context.signal, shared: this.context.shared });
  }

  private service(name: string, user: string, stack: string[], routerInfo?: TCPRouterInfo): ConnectionHandler | null {
    const info = this.info.services[name];
    if (info && !info.usedBy.includes(user)) info.usedBy.push(user);
    let built = this.builtServices.get(name);
    if (built === undefined) {
      built = null;
      const element = this.services.get(name);
      if (element && info) {
        if (stack.includes(name)) addError(info, `weighted service cycle: ${[...stack, name].join(' → ')}`, true);
        else {
          try {
            built = this.createService(element, info, [...stack, name]);
          } catch (err) {
            addError(info, messageOf(err), true);
          }
        }
      }
      if (!stack.includes(name)) this.builtServices.set(name, built);
    }
    if (!built && routerInfo) addError(routerInfo, `service '${name}' ${problemOf(info, 'tcp.services')}`, true);
    return built;
  }

  private createService(element: Element<TCPServiceConfig>, info: TCPServiceInfo, stack: string[]): ConnectionHandler {
    const { config, provider, name } = element;
    const log = this.context.log.child({ service: name });
    if (config.loadBalancer) {
      info.type = 'loadBalancer';
      const lb = config.loadBalancer;
      const servers = lb.servers.map((s, i) => ({ ...parseServerAddress(s.address, `servers[${i}].address`), tls: s.tls ?? false, address: s.address }));
      let dialer = this.dialer(lb.serversTransport ? qualify(lb.serversTransport, provider) : undefined);
      // The deprecated service-level fields win over the transport's, as in Traefik, which warns about them too.
      if (lb.proxyProtocol || lb.terminationDelay !== undefined) {
        log.warn(`TCP service ${name}: loadBalancer.${lb.proxyProtocol ? 'proxyProtocol' : 'terminationDelay'} is deprecated; set it on a serversTransport (tcp.serversTransports)`);
        dialer = { ...dialer, proxyProtocolVersion: (lb.proxyProtocol?.version as 1 | 2 | undefined) ?? dialer.proxyProtocolVersion, terminationDelayMs: lb.terminationDelay ?? dialer.terminationDelayMs };
      }
      info.serverStatus = Object.fromEntries(lb.servers.map((s) => [s.address, 'UP'] as const));
      return createTCPLoadBalancer(servers, dialer, log);
    }
    info.type = 'weighted';
    const children = config.weighted!.services.map((child) => {
      const childName = qualify(child.name, provider);
      const handler = this.service(childName, name, stack);
      if (!handler) throw new Error(`child service '${childName}' ${problemOf(this.info.services[childName], 'tcp.services')}`);
      return { name: childName, weight: child.weight, handler };
    });
    return createTCPWeighted(children);
  }

  /** A serversTransport resolved once per generation (PEM read now); every service using a broken one says why. */
  private dialer(name: string | undefined): TCPDialer {
    const key = name ?? '';
    let resolved = this.dialers.get(key);
    if (resolved === undefined) {
      try {
        const config = name === undefined ? decode<TCPServersTransportConfig>(TCPServersTransportSchema, {}).value : this.transports.get(name);
        if (!config) {
          const invalid = this.invalidTransports.get(name!);
          throw new Error(invalid ? `serversTransport '${name}' is invalid: ${invalid.join('; ')}` : `serversTransport '${name}' does not exist; define it under tcp.serversTransports, or qualify it with its provider (name@file)`);
        }
        resolved = toDialer(config, `serversTransport '${name ?? 'default'}'`);
      } catch (err) {
        resolved = err instanceof Error ? err : new Error(String(err));
      }
      this.dialers.set(key, resolved);
    }
    if (resolved instanceof Error) throw resolved;
    return resolved;
  }

  /** Which HTTP routers of this generation are HTTPS ones on the entrypoint, and the names they claim. */
  private httpsOf(ep: string): Pick<TCPEntrypointRoutes, 'https' | 'httpsCatchAll' | 'httpsHosts'> {
    const tlsEntrypoint = (this.context.staticConfig.entryPoints[ep]?.http as Record<string, unknown> | undefined)?.tls !== undefined;
    const hosts = new Set<string>();
    let https = false;
    let catchAll = false;
    for (const router of Object.values(this.context.http.routers)) {
      if (router.status === 'disabled' || !router.config || !router.entryPoints.includes(ep)) continue;
      if (router.config.tls === undefined && !tlsEntrypoint) continue;
      https = true;
      let names: string[] = [];
      try {
        names = ruleHostNames(router.config.rule, router.config.ruleSyntax ?? this.context.staticConfig.core.defaultRuleSyntax);
      } catch {
        // A rule that does not compile made the router disabled already.
      }
      if (names.length === 0) catchAll = true;
      for (const n of names) hosts.add(n.replace(/\.$/, ''));
    }
    return { https, httpsCatchAll: catchAll, httpsHosts: hosts };
  }

  private logProblems(): void {
    for (const kind of ['routers', 'services', 'middlewares'] as const) {
      for (const info of Object.values(this.info[kind])) {
        if (info.errors?.length) this.context.log.error({ [`tcp${kind.slice(0, -1)}`]: info.name, status: info.status }, `TCP ${kind.slice(0, -1)} ${info.name}: ${info.errors.join('; ')}`);
      }
    }
    for (const [name, messages] of this.invalidTransports) this.context.log.error({ serversTransport: name }, `TCP serversTransport ${name}: ${messages.join('; ')}`);
  }
}

function problemOf(info: { errors?: string[] } | undefined, where: string): string {
  if (!info) return `does not exist; define it under ${where}`;
  return `is disabled: ${(info.errors ?? ['unknown error']).join('; ')}`;
}

/** A tcp.serversTransports entry as the relay takes it; PEM files read now, errors naming the field. */
function toDialer(t: TCPServersTransportConfig, where: string): TCPDialer {
  const tls = t.tls;
  let secureContext;
  if (tls && (tls.rootCAs?.length || tls.certificates?.length)) {
    const pairs = (tls.certificates ?? []).map(({ certFile, keyFile }, i) => readKeyPair(certFile, keyFile, `${where} tls.certificates[${i}]`));
    secureContext = createSecureContext({
      ca: tls.rootCAs?.length ? tls.rootCAs.map((value, i) => readCertificates(value, `${where} tls.rootCAs[${i}]`)) : undefined,
      cert: pairs.map((p) => p.cert),
      key: pairs.map((p) => p.key),
    });
  }
  return {
    dialTimeoutMs: t.dialTimeout,
    keepAliveMs: t.dialKeepAlive,
    terminationDelayMs: t.terminationDelay,
    proxyProtocolVersion: t.proxyProtocol?.version as 1 | 2 | undefined,
    tls: tls && { serverName: tls.serverName, insecureSkipVerify: tls.insecureSkipVerify, secureContext, peerCertURI: tls.peerCertURI },
  };
}
