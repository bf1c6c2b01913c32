// Builds a Runtime from every provider's configuration: resolves names, creates plugin middlewares and
// service handlers, compiles rules and per-entrypoint routing tables. Errors disable only what they touch.
import compose from 'koa-compose';
import type { Middleware } from '../context.js';
import { decode } from '../config/decode.js';
import {
  SERVICE_KINDS,
  ServersTransportSchema,
  type ElementKind,
  type MiddlewareConfig,
  type ProviderConfig,
  type RouterConfig,
  type ServiceConfig,
  type ServersTransportConfig,
} from '../config/dynamic.js';
import { readCertificates, readKeyPair } from '../config/pem.js';
import { addError, type MiddlewareInfo, type RouterInfo, type RuntimeInfo, type ServiceInfo } from '../config/runtime.js';
import type { StaticConfig } from '../config/static.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import type { InstrumentedRouter, PluginContext, RouterInstrumentation, SharedState } from '../plugin/contract.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { compileRule, type CompiledRule } from '../router/rule/index.js';
import { RoutingTable, routerPriority, type RouteEntry } from '../router/table.js';
import { createFailoverHandler } from '../service/failover.js';
import { createHighestRandomWeightHandler, createLoadBalancerHandler, createWeightedHandler } from '../service/handler.js';
import { createMirroringHandler } from '../service/mirror.js';
import type { ClientCertificate, PoolRegistry, ServersTransport } from '../service/pool.js';
import { buildTCP } from '../tcp/build.js';
import { buildOnce, chainOf } from './elements.js';
import { Runtime, type RouteTarget } from './runtime.js';
import { isUDPEntryPoint } from '../udp/address.js';
import { buildUDPRouting } from '../udp/build.js';

export interface BuildContext {
  staticConfig: StaticConfig;
  registry: PluginRegistry;
  pools: PoolRegistry;
  log: Logger;
  shared: SharedState;
  /** `<name>@internal` services offered by the core and plugins (ping, api). */
  internalServices: ReadonlyMap<string, Middleware>;
  /** Entrypoints whose server a plugin makes (the TLS plugin): only those can terminate TLS for a router. */
  servedEntrypoints?: ReadonlyMap<string, unknown>;
  /** Health of a server as health-check plugins see it; every server is up when absent. */
  isServerUp?: (service: string, url: string) => boolean;
  /** Passive health: a server failed a live request. */
  onServerFailure?: (service: string, url: string, detail: { status?: number; error?: string }) => void;
  generation: number;
  /** Wrappers of routers' chains registered by plugins (tracing); none = chains run unwrapped. */
  instrumentations?: readonly RouterInstrumentation[];
  /** Whether a plugin terminates TLS for TCP routers (EntrypointCapability.terminateTLS). */
  canTerminateTLS?: boolean;
}

interface Element<T> {
  name: string;
  provider: string;
  config: T;
}

/** Qualifies a reference: `auth` from provider `docker` is `auth@docker`; `auth@file` stays. */
export function qualify(reference: string, provider: string): string {
  return reference.includes('@') ? reference : `${reference}@${provider}`;
}

export function buildRuntime(configs: readonly ProviderConfig[], context: BuildContext): Runtime {
  return new RuntimeBuilder(configs, context).build();
}

class RuntimeBuilder {
  private readonly info: RuntimeInfo;
  private readonly routers = new Map<string, Element<RouterConfig>>();
  private readonly services = new Map<string, Element<ServiceConfig>>();
  private readonly middlewares = new Map<string, Element<MiddlewareConfig>>();
  private readonly transports = new Map<string, ServersTransportConfig>();
  /** serversTransports their provider could not decode, with its messages: services using one say why. */
  private readonly invalidTransports = new Map<string, string[]>();
  /** Pool transports by qualified name (undefined = the default), files read once per generation; or why not. */
  private readonly resolvedTransports = new Map<string | undefined, ServersTransport | Error>();
  private readonly builtMiddlewares = new Map<string, Middleware | null>();
  private readonly builtServices = new Map<string, Middleware | null>();
  /** Middlewares whose `create` is running, outermost first: a reference back into it is a cycle. */
  private readonly creating: string[] = [];
  /** Whether a built service has a server in rotation, for weighted parents with healthCheck; absent = always. */
  private readonly serviceAvailable = new Map<string, () => boolean>();
  private readonly releases: Array<() => void> = [];
  private readonly generationAbort = new AbortController();
  private readonly defaultTransport: ServersTransportConfig;

  constructor(private readonly configs: readonly ProviderConfig[], private readonly context: BuildContext) {
    this.info = { generation: context.generation, routers: {}, services: {}, middlewares: {}, udpRouters: {}, udpServices: {} };
    this.defaultTransport = defaultTransport(context.staticConfig);
    for (const { provider, config, problems } of configs) {
      this.collect('routers', provider, config.http?.routers, this.routers);
      this.collect('services', provider, config.http?.services, this.services);
      this.collect('middlewares', provider, config.http?.middlewares, this.middlewares);
      for (const [name, t] of Object.entries(config.http?.serversTransports ?? {})) this.transports.set(qualify(name, provider), t);
      for (const problem of problems) this.recordProblem(provider, problem.kind, problem.name, problem.messages);
    }
    for (const name of context.internalServices.keys()) {
      this.info.services[name] = { name, provider: 'internal', status: 'enabled', type: 'internal', usedBy: [] };
    }
  }

  build(): Runtime {
    const entries = new Map<string, RouteEntry<RouteTarget>[]>();
    for (const ep of this.httpEntryPoints()) {
      entries.set(tableKey(ep, false), []);
      entries.set(tableKey(ep, true), []);
    }
    for (const router of this.routers.values()) this.buildRouter(router, entries);
    const tables = new Map<string, RoutingTable<RouteTarget>>();
    for (const [key, list] of entries) tables.set(key, new RoutingTable(list));
    this.logProblems();
    const udp = buildUDPRouting(this.configs, this.context.staticConfig, this.context.log);
    this.info.udpRouters = udp.routers;
    this.info.udpServices = udp.services;
    const abort = this.generationAbort;
    const tcp = this.buildTCP();
    return new Runtime(this.info, tables, [() => abort.abort(), ...this.releases], udp.handlers, tcp?.entrypoints);
  }

  /** Entrypoints HTTP routers can use: all but the UDP ones. */
  private httpEntryPoints(): string[] {
    const all = this.context.staticConfig.entryPoints;
    return Object.keys(all).filter((n) => !isUDPEntryPoint(all[n]!));
  }

  /** The TCP side, only when some provider configured `tcp`: without it a generation costs nothing more. */
  private buildTCP(): ReturnType<typeof buildTCP> | undefined {
    if (!this.configs.some((c) => c.config.tcp !== undefined || c.problems.some((p) => p.kind.startsWith('tcp.')))) return undefined;
    const { staticConfig, registry, log, shared, canTerminateTLS } = this.context;
    const tcp = buildTCP(this.configs, { staticConfig, registry, log, shared, signal: this.generationAbort.signal, canTerminateTLS: canTerminateTLS ?? false, http: this.info });
    this.info.tcp = tcp.info;
    return tcp;
  }

  private collect<T>(kind: ElementKind, provider: string, elements: Record<string, T> | undefined, into: Map<string, Element<T>>): void {
    for (const [name, config] of Object.entries(elements ?? {})) {
      const qualified = qualify(name, provider);
      into.set(qualified, { name: qualified, provider, config });
      if (kind === 'routers') this.info.routers[qualified] = { name: qualified, provider, status: 'enabled', config: config as RouterConfig, entryPoints: [], middlewares: [] };
      if (kind === 'services') this.info.services[qualified] = { name: qualified, provider, status: 'enabled', config: config as ServiceConfig, usedBy: [] };
      if (kind === 'middlewares') this.info.middlewares[qualified] = { name: qualified, provider, status: 'enabled', config: config as MiddlewareConfig, usedBy: [] };
    }
  }

  /** Elements a provider could not decode are listed as disabled with the provider's messages. */
  private recordProblem(provider: string, kind: ElementKind, name: string, messages: string[]): void {
    const qualified = qualify(name, provider);
    const base = { name: qualified, provider, status: 'disabled' as const, errors: messages };
    if (kind === 'routers') this.info.routers[qualified] = { ...base, entryPoints: [], middlewares: [] };
    else if (kind === 'services') this.info.services[qualified] = { ...base, usedBy: [] };
    else if (kind === 'middlewares') this.info.middlewares[qualified] = { ...base, usedBy: [] };
    else if (kind === 'serversTransports') this.invalidTransports.set(qualified, messages);
  }

  private buildRouter(router: Element<RouterConfig>, entries: Map<string, RouteEntry<RouteTarget>[]>): void {
    const info = this.info.routers[router.name]!;
    const { config, provider } = router;
    // Set before the rule is compiled, as Traefik does: a router with a bad rule still shows its priority.
    const priority = routerPriority(config.priority, config.rule);
    info.priority = priority;
    let rule: CompiledRule;
    try {
      rule = compileRule(config.rule, config.ruleSyntax ?? this.context.staticConfig.core.defaultRuleSyntax);
    } catch (err) {
      addError(info, `invalid rule ${JSON.stringify(config.rule)}: ${messageOf(err)}`, true);
      return;
    }
    const entryPoints = this.routerEntryPoints(config, info);
    const service = qualify(config.service, provider);
    info.service = service;
    const serviceHandler = this.service(service, router.name, info);
    if (config.tls !== undefined && this.context.servedEntrypoints !== undefined) {
      const unserved = entryPoints.filter((ep) => !this.context.servedEntrypoints!.has(ep));
      if (unserved.length > 0) {
        addError(info, `it has tls set, but no plugin terminates TLS on entrypoint ${unserved.join(', ')} (register the tls plugin)`, true);
        return;
      }
    }
    for (const ep of entryPoints) {
      const names = [...(this.context.staticConfig.entryPoints[ep]?.http.middlewares ?? []), ...(config.middlewares ?? [])].map((m) => qualify(m, provider));
      info.middlewares = names;
      const chain = this.middlewareChain(names, router.name, info);
      if (!chain || !serviceHandler) continue;
      info.entryPoints.push(ep);
      // Traefik decides TLS per router: on an entrypoint with http.tls every router is a TLS one; elsewhere a router
      // with `tls` answers TLS connections only, one without plain connections only.
      const secure = config.tls !== undefined || isTLSEntryPoint(this.context.staticConfig.entryPoints[ep]!);
      const described: InstrumentedRouter = { name: router.name, entrypoint: ep, rule: config.rule, service, observability: config.observability };
      const composed = this.instrumented(described, names, chain, serviceHandler);
      entries.get(tableKey(ep, secure))!.push({ name: router.name, rule, priority, value: { router: router.name, service, chain: composed, observability: config.observability } });
    }
    if (info.status !== 'disabled' && info.entryPoints.length === 0 && !info.errors?.length) {
      addError(info, 'the router is not attached to any entrypoint: it has no entrypoint', true);
    }
  }

  /** Explicit entrypoints (unknown ones are errors), else the asDefault ones, else all (Traefik's model). */
  private routerEntryPoints(config: RouterConfig, info: RouterInfo): string[] {
    const all = this.context.staticConfig.entryPoints;
    let names: string[];
    if (config.entryPoints && config.entryPoints.length > 0) {
      names = [];
      for (const ep of config.entryPoints) {
        const found = Object.keys(all).find((n) => n.toLowerCase() === ep.toLowerCase());
        if (found && isUDPEntryPoint(all[found]!)) addError(info, `entrypoint '${found}' is a UDP entrypoint (${all[found]!.address}); HTTP routers cannot use it`, false);
        else if (found) names.push(found);
        else addError(info, `entrypoint '${ep}' does not exist (known: ${Object.keys(all).join(', ')})`, false);
      }
      if (names.length === 0) info.status = 'disabled';
    } else {
      const http = this.httpEntryPoints();
      const defaults = http.filter((n) => all[n]!.asDefault);
      names = defaults.length > 0 ? defaults : http;
    }
    return names;
  }

  /** The router's chain, each part wrapped by the registered instrumentations (plain koa-compose when there are none). */
  private instrumented(router: InstrumentedRouter, names: readonly string[], chain: Middleware[], service: Middleware): Middleware {
    const hooks = this.context.instrumentations;
    if (!hooks || hooks.length === 0) return composeChain(chain, service);
    const internal = this.context.internalServices.has(router.service);
    let parts = chain;
    let handler = service;
    for (const hook of hooks) {
      const wrapMiddleware = hook.middleware?.bind(hook);
      if (wrapMiddleware) parts = parts.map((mw, i) => wrapMiddleware({ name: names[i]!, type: this.info.middlewares[names[i]!]?.type ?? '' }, router, mw));
      if (hook.service) handler = hook.service({ name: router.service, internal }, router, handler);
    }
    let whole = composeChain(parts, handler);
    for (const hook of hooks) if (hook.router) whole = hook.router(router, whole);
    return whole;
  }

  private middlewareChain(names: string[], router: string, info: RouterInfo): Middleware[] | null {
    return chainOf(names, (name) => this.middleware(name, router), (name) => addError(info, `middleware '${name}' ${middlewareProblem(this.info.middlewares[name])}`, true));
  }

  /** Creates a middleware once per generation, on first use; a failure disables it and its users (routers, chains). */
  private middleware(name: string, user: string): Middleware | null {
    return buildOnce(name, user, this.info.middlewares[name], this.middlewares.get(name), this.builtMiddlewares, (element, info) => this.createMiddleware(element, info));
  }

  private createMiddleware(element: Element<MiddlewareConfig>, info: MiddlewareInfo): Middleware {
    let [type, options] = Object.entries(element.config)[0]!;
    if (type === 'plugin') [type, options] = Object.entries(options as Record<string, unknown>)[0]!;
    const plugin = this.context.registry.require(type);
    info.type = plugin.name;
    if (!plugin.create) throw new Error(`plugin '${plugin.name}' has no per-router middleware`);
    plugin.validate?.(options as never);
    const log = this.context.log.child({ middleware: element.name, plugin: plugin.name });
    const references = this.referencesFrom(element);
    this.creating.push(element.name);
    try {
      return plugin.create(options as never, { name: element.name, log, signal: this.generationAbort.signal, shared: this.context.shared, ...references });
    } finally {
      this.creating.pop();
      references.close();
    }
  }

  /**
   * What a middleware's `create` may reach in this generation: other middlewares and services, qualified in its
   * provider as routers' references are. Only while `create` runs: afterwards the builder is gone.
   */
  private referencesFrom(element: Element<MiddlewareConfig>): Pick<PluginContext, 'middleware' | 'service'> & { close(): void } {
    let open = true;
    const check = (what: string) => {
      if (!open) throw new Error(`${element.name}: ${what}() can only be called from create, while the configuration is built`);
    };
    return {
      middleware: (reference) => {
        check('middleware');
        return this.referencedMiddleware(qualify(reference, element.provider), element.name);
      },
      service: (reference) => {
        check('service');
        return this.referencedService(qualify(reference, element.provider), element.name);
      },
      close: () => (open = false),
    };
  }

  /** A middleware another one is made of (chain), created now if needed; throws why it cannot be used. */
  private referencedMiddleware(name: string, user: string): Middleware {
    const start = this.creating.indexOf(name);
    if (start !== -1) throw new Error(`middleware cycle: ${[...this.creating.slice(start), name].join(' → ')}`);
    const built = this.middleware(name, user);
    if (!built) throw new Error(`middleware '${name}' ${middlewareProblem(this.info.middlewares[name])}`);
    return built;
  }

  /** A service a middleware sends requests to (errors pages); throws why it cannot be used. */
  private referencedService(name: string, user: string): Middleware {
    const built = this.service(name, user);
    if (!built) throw new Error(`service '${name}' ${serviceProblem(this.info.services[name])}`);
    return built;
  }

  /** Builds a service handler once per generation; weighted services recurse with cycle detection. */
  private service(name: string, user: string, routerInfo?: RouterInfo, stack: string[] = []): Middleware | null {
    const info = this.info.services[name];
    if (info && !info.usedBy.includes(user)) info.usedBy.push(user);
    const internal = this.context.internalServices.get(name);
    if (internal) return internal;
    if (this.builtServices.has(name)) {
      const built = this.builtServices.get(name)!;
      if (!built && routerInfo) addError(routerInfo, `service '${name}' ${serviceProblem(info)}`, true);
      return built;
    }
    let built: Middleware | null = null;
    const element = this.services.get(name);
    if (element && info) {
      if (stack.includes(name)) {
        addError(info, `service cycle: ${[...stack, name].join(' → ')}`, true);
      } else {
        try {
          built = this.createService(element, info, [...stack, name]);
        } catch (err) {
          addError(info, messageOf(err), true);
        }
      }
    }
    this.builtServices.set(name, built);
    if (!built && routerInfo) addError(routerInfo, `service '${name}' ${serviceProblem(info)}`, true);
    return built;
  }

  /** A service of its one kind, behind its own middlewares (run after the router's, as Traefik 3.7 does). */
  private createService(element: Element<ServiceConfig>, info: ServiceInfo, stack: string[]): Middleware | null {
    const kinds = SERVICE_KINDS.filter((kind) => element.config[kind] !== undefined);
    if (kinds.length !== 1) {
      throw new Error(`a service is exactly one of ${SERVICE_KINDS.join(', ')}; this one has ${kinds.length === 0 ? 'none' : kinds.join(' and ')}`);
    }
    const handler = this.createServiceKind(element, info, stack);
    const names = element.config.middlewares;
    if (!handler || names === undefined || names.length === 0) return handler;
    return composeChain(this.serviceMiddlewares(element, names), handler);
  }

  /** A service's middlewares, created now if needed; throws naming the first that cannot be used. */
  private serviceMiddlewares(element: Element<ServiceConfig>, names: readonly string[]): Middleware[] {
    return names.map((reference, i) => {
      const name = qualify(reference, element.provider);
      // A middleware being created that reaches this service (an errors page) would need itself.
      const start = this.creating.indexOf(name);
      if (start !== -1) throw new Error(`middlewares[${i}]: middleware cycle: ${[...this.creating.slice(start), name].join(' → ')} (through service ${element.name})`);
      const built = this.middleware(name, element.name);
      if (!built) throw new Error(`middlewares[${i}]: middleware '${name}' ${middlewareProblem(this.info.middlewares[name])}`);
      return built;
    });
  }

  private createServiceKind(element: Element<ServiceConfig>, info: ServiceInfo, stack: string[]): Middleware | null {
    const { config, provider, name } = element;
    if (config.loadBalancer) {
      info.type = 'loadBalancer';
      const lb = config.loadBalancer;
      const transport = this.transport(lb.serversTransport ? qualify(lb.serversTransport, provider) : undefined);
      const isUp = this.context.isServerUp;
      const onFailure = this.context.onServerFailure;
      info.serverStatus = Object.fromEntries(lb.servers.map((s) => [s.url, !isUp || isUp(name, s.url) ? 'UP' : 'DOWN'] as const));
      info.transport = transport;
      const handler = createLoadBalancerHandler({
        service: name,
        servers: lb.servers.map((s) => ({ url: s.url, weight: s.weight ?? 1, preservePath: s.preservePath ?? false })),
        passHostHeader: lb.passHostHeader,
        stickyCookie: lb.sticky?.cookie,
        strategy: lb.strategy,
        transport: info.transport,
        pools: this.context.pools,
        isServerUp: isUp ? (url: string) => isUp(name, url) : undefined,
        onServerFailure: onFailure ? (url, detail) => onFailure(name, url, detail) : undefined,
        log: this.context.log.child({ service: name }),
      });
      this.releases.push(() => handler.release());
      this.serviceAvailable.set(name, handler.hasAvailableServer);
      return handler.middleware;
    }
    if (config.mirroring) return this.createMirroring(element, info, stack);
    if (config.failover) return this.createFailover(element, info, stack);
    if (config.highestRandomWeight) return this.createHighestRandomWeight(element, info, stack);
    info.type = 'weighted';
    const weighted = config.weighted!;
    const children = weighted.services.map((child) => {
      const childName = qualify(child.name, provider);
      return { name: childName, weight: child.weight, handler: this.childService(childName, name, stack, 'child service') };
    });
    const isChildUp = this.availabilityOf(children.map((c) => c.name));
    // Up while a child with a share is: its own parent (with healthCheck) skips it once none is, as Traefik propagates status.
    this.serviceAvailable.set(name, () => children.some((c) => c.weight > 0 && isChildUp(c.name)));
    return createWeightedHandler(children, { isServiceUp: weighted.healthCheck ? isChildUp : undefined, stickyCookie: weighted.sticky?.cookie, service: name });
  }

  /** highestRandomWeight: a child service per client address, as weighted services are built otherwise. */
  private createHighestRandomWeight(element: Element<ServiceConfig>, info: ServiceInfo, stack: string[]): Middleware {
    const { provider, name } = element;
    const hrw = element.config.highestRandomWeight!;
    info.type = 'highestRandomWeight';
    const children = hrw.services.map((child, i) => {
      const childName = qualify(child.name, provider);
      return { name: childName, weight: child.weight, handler: this.childService(childName, name, stack, `highestRandomWeight.services[${i}].name`) };
    });
    const isChildUp = this.availabilityOf(children.map((c) => c.name));
    this.serviceAvailable.set(name, () => children.some((c) => c.weight > 0 && isChildUp(c.name)));
    return createHighestRandomWeightHandler(children, { isServiceUp: hrw.healthCheck ? isChildUp : undefined });
  }

  /** A service another one is made of, built now if needed; throws why it cannot be used (`<role> '<name>' …`). */
  private childService(childName: string, parent: string, stack: string[], role: string): Middleware {
    const handler = this.service(childName, parent, undefined, stack);
    if (!handler) throw new Error(`${role} '${childName}' ${serviceProblem(this.info.services[childName])}`);
    return handler;
  }

  /** mirroring: the main service answers; mirrors get copies. Its status is the main service's. */
  private createMirroring(element: Element<ServiceConfig>, info: ServiceInfo, stack: string[]): Middleware {
    const { provider, name } = element;
    const mirroring = element.config.mirroring!;
    info.type = 'mirroring';
    const mainName = qualify(mirroring.service, provider);
    const main = this.childService(mainName, name, stack, 'mirroring.service');
    const mirrors = mirroring.mirrors.map((mirror, i) => {
      const mirrorName = qualify(mirror.name, provider);
      return { name: mirrorName, percent: mirror.percent, handler: this.childService(mirrorName, name, stack, `mirroring.mirrors[${i}].name`) };
    });
    const isUp = this.availabilityOf([mainName]);
    this.serviceAvailable.set(name, () => isUp(mainName));
    const log = this.context.log.child({ service: name });
    return createMirroringHandler({ service: name, main, mirrors, mirrorBody: mirroring.mirrorBody, maxBodySize: mirroring.maxBodySize, log });
  }

  /** failover: the main service while it has a server in rotation (health-check verdicts), else the fallback. */
  private createFailover(element: Element<ServiceConfig>, info: ServiceInfo, stack: string[]): Middleware {
    const { provider, name } = element;
    const failover = element.config.failover!;
    info.type = 'failover';
    const mainName = qualify(failover.service, provider);
    const fallbackName = qualify(failover.fallback, provider);
    const main = this.childService(mainName, name, stack, 'failover.service');
    const fallback = this.childService(fallbackName, name, stack, 'failover.fallback');
    const isUp = this.availabilityOf([mainName, fallbackName]);
    const isMainUp = (): boolean => isUp(mainName);
    const isFallbackUp = (): boolean => isUp(fallbackName);
    this.serviceAvailable.set(name, () => isMainUp() || isFallbackUp());
    return createFailoverHandler({ main, fallback, isMainUp, isFallbackUp: failover.healthCheck ? isFallbackUp : undefined, errors: failover.errors });
  }

  /**
   * The pool transport of a serversTransport (the default one when unnamed), resolved once per generation:
   * every service using a broken one is disabled with the same error, naming the transport and field.
   */
  private transport(name: string | undefined): ServersTransport {
    let resolved = this.resolvedTransports.get(name);
    if (resolved === undefined) {
      const config = name === undefined ? this.defaultTransport : this.transports.get(name);
      try {
        if (!config) throw missingTransport(name!, this.invalidTransports.get(name!));
        resolved = toPoolTransport(config, name === undefined ? 'the static serversTransport (the default one)' : `serversTransport '${name}'`);
      } catch (err) {
        resolved = err instanceof Error ? err : new Error(String(err));
      }
      this.resolvedTransports.set(name, resolved);
    }
    if (resolved instanceof Error) throw resolved;
    return resolved;
  }

  /** Availability of already-built services by name; internal services and unknown names count as up. */
  private availabilityOf(names: readonly string[]): (name: string) => boolean {
    const checks = new Map(names.map((n) => [n, this.serviceAvailable.get(n)]));
    return (name) => checks.get(name)?.() ?? true;
  }

  private logProblems(): void {
    const log = this.context.log;
    for (const kind of ['routers', 'services', 'middlewares'] as const) {
      for (const info of Object.values(this.info[kind])) {
        if (info.errors?.length) log.error({ [kind.slice(0, -1)]: info.name, status: info.status }, `${kind.slice(0, -1)} ${info.name}: ${info.errors.join('; ')}`);
      }
    }
    // Logged even when no service uses them: the runtime info has no transports section to show them in.
    for (const [name, messages] of this.invalidTransports) {
      log.error({ serversTransport: name, status: 'disabled' }, `serversTransport ${name}: ${messages.join('; ')}`);
    }
  }
}

/** The transport of services that name none: the static `serversTransport` over the dynamic schema's defaults (Traefik's default@internal). */
function defaultTransport(staticConfig: StaticConfig): ServersTransportConfig {
  const defaults = decode<ServersTransportConfig>(ServersTransportSchema, {}).value;
  const global = staticConfig.serversTransport;
  if (global === undefined) return defaults;
  const { spiffe: _refusedAtStart, ...fields } = global;
  return { ...defaults, ...fields };
}

/** Why a named serversTransport is not there: its provider rejected it (and why), or nothing defines it. */
function missingTransport(name: string, invalid: string[] | undefined): Error {
  if (invalid) return new Error(`serversTransport '${name}' is invalid: ${invalid.join('; ')}`);
  return new Error(`serversTransport '${name}' does not exist; define it under http.serversTransports, or qualify it with its provider (name@file)`);
}

function middlewareProblem(info: MiddlewareInfo | undefined): string {
  if (!info) return 'does not exist';
  return `is disabled: ${(info.errors ?? []).join('; ')}`;
}

function serviceProblem(info: ServiceInfo | undefined): string {
  if (!info) return 'does not exist';
  return `is disabled: ${(info.errors ?? ['unknown error']).join('; ')}`;
}

function composeChain(middlewares: Middleware[], service: Middleware): Middleware {
  if (middlewares.length === 0) return service;
  return compose([...middlewares, service]) as unknown as Middleware;
}

/** The routing table of an entrypoint for its TLS connections or its plain ones. */
export function tableKey(entrypoint: string, secure: boolean): string {
  return secure ? `${entrypoint}\u0000tls` : entrypoint;
}

/** An entrypoint terminates TLS when a TLS plugin configured `http.tls` on it. */
export function isTLSEntryPoint(ep: StaticConfig['entryPoints'][string]): boolean {
  return (ep.http as Record<string, unknown>).tls !== undefined;
}

/** A serversTransport as pools take it: durations in milliseconds, PEM files read now (configuration time). */
function toPoolTransport(t: ServersTransportConfig, where: string): ServersTransport {
  return {
    dialTimeoutMs: t.forwardingTimeouts.dialTimeout,
    responseHeaderTimeoutMs: t.forwardingTimeouts.responseHeaderTimeout,
    idleConnTimeoutMs: t.forwardingTimeouts.idleConnTimeout,
    readIdleTimeoutMs: t.forwardingTimeouts.readIdleTimeout,
    pingTimeoutMs: t.forwardingTimeouts.pingTimeout,
    disableHTTP2: t.disableHTTP2,
    maxIdleConnsPerHost: t.maxIdleConnsPerHost,
    insecureSkipVerify: t.insecureSkipVerify,
    serverName: t.serverName,
    rootCAs: t.rootCAs?.map((value, i) => readCertificates(value, `${where} rootCAs[${i}]`)),
    certificates: t.certificates && clientCertificates(t.certificates, `${where} certificates`),
  };
}

/** Reads the client certificates; Node presents one per key type, so a second RSA (or EC…) one is an error, not a silent pick. */
function clientCertificates(list: NonNullable<ServersTransportConfig['certificates']>, where: string): ClientCertificate[] {
  const byType = new Map<string, number>();
  return list.map(({ certFile, keyFile }, i) => {
    const { cert, key, keyType } = readKeyPair(certFile, keyFile, `${where}[${i}]`);
    const first = byType.get(keyType);
    if (first !== undefined) {
      throw new Error(`${where}[${i}]: a second ${keyType} certificate (after [${first}]); an upstream is offered one client certificate per key type: keep one`);
    }
    byType.set(keyType, i);
    return { cert, key };
  });
}
