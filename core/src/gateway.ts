// The gateway: entrypoints, plugin lifecycle, providers and atomic swaps of configuration generations.
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Middleware } from './context.js';
import { dynamicSchema, type ProviderConfig } from './config/dynamic.js';
import { addError, type RuntimeInfo } from './config/runtime.js';
import { staticSchema, type StaticConfig } from './config/static.js';
import { Entrypoint } from './entrypoint/entrypoint.js';
import { messageOf } from './errors.js';
import type { Logger } from './log.js';
import type { Plugin, PluginEvents, PluginHost, PrimaryHost, RouterInstrumentation, ServerFactory, SharedState, TLSTerminator } from './plugin/contract.js';
import { pluginSection, type PluginRegistry } from './plugin/registry.js';
import type { Provider } from './provider/provider.js';
import { ConfigWatcher } from './provider/watcher.js';
import { createDispatch } from './router/dispatch.js';
import { buildRuntime } from './runtime/build.js';
import type { Runtime } from './runtime/runtime.js';
import { PoolRegistry } from './service/pool.js';
import { localSharedState } from './plugin/shared.js';
import { HealthRegistry } from './service/health.js';
import { isUDPEntryPoint } from './udp/address.js';
import { UDPEntrypoint } from './udp/entrypoint.js';

export interface GatewayOptions {
  staticConfig: StaticConfig;
  registry: PluginRegistry;
  log: Logger;
  /** Providers to run in this process (none in cluster workers: the primary sends configurations). */
  providers?: Provider[];
  shared?: SharedState;
  /** Run the plugins' `primary` hooks here (default true); cluster workers leave them to the primary. */
  primaryHooks?: boolean;
}

interface EntrypointHook {
  middleware: Middleware;
  entrypoints?: readonly string[];
  order: number;
}

/** Events: `reload` (RuntimeInfo) after each swap. */
export class Gateway extends EventEmitter {
  readonly staticConfig: StaticConfig;
  readonly log: Logger;
  private readonly registry: PluginRegistry;
  private readonly providers: Provider[];
  private readonly shared: SharedState;
  private readonly pools = new PoolRegistry();
  private readonly entrypoints = new Map<string, Entrypoint>();
  private readonly udpEntrypoints = new Map<string, UDPEntrypoint>();
  private readonly hooks: EntrypointHook[] = [];
  private readonly instrumentations: RouterInstrumentation[] = [];
  private readonly internalServices = new Map<string, Middleware>();
  private readonly stopHooks: Array<() => void | Promise<void>> = [];
  private watcher: ConfigWatcher | undefined;
  private readonly latest = new Map<string, ProviderConfig>();
  private readonly serverFactories = new Map<string, ServerFactory>();
  private tlsTerminator: TLSTerminator | undefined;
  private readonly dynamicListeners: Array<{ key: string; plugin: string; listener: (sections: ReadonlyArray<{ provider: string; value: unknown }>) => void }> = [];
  readonly health: HealthRegistry;
  private runtime: Runtime;
  private generation = 0;
  private shuttingDown = false;
  private readonly primaryHooks: boolean;

  constructor(options: GatewayOptions) {
    super();
    this.staticConfig = options.staticConfig;
    this.registry = options.registry;
    this.log = options.log;
    this.providers = options.providers ?? [];
    this.shared = options.shared ?? localSharedState();
    this.primaryHooks = options.primaryHooks ?? true;
    this.health = new HealthRegistry(this.log, this);
    this.on('health', (e: { service: string; url: string; up: boolean }) => {
      const status = this.runtime.info.services[e.service]?.serverStatus;
      if (status && e.url in status) status[e.url] = e.up ? 'UP' : 'DOWN';
    });
    this.runtime = this.build([]);
  }

  /** The live configuration generation's runtime information (for the API and tests). */
  get info(): RuntimeInfo {
    return this.runtime.info;
  }

  get draining(): boolean {
    return this.shuttingDown;
  }

  /** Sets up plugins, binds every entrypoint, then starts the providers. */
  async start(): Promise<void> {
    await this.setupPlugins();
    // Configuration applied before start (a cluster worker gets it first) is live from the first request,
    // now that plugins are set up and their internal services exist.
    if (this.latest.size > 0) this.notifyDynamicSections();
    const initial = this.runtime;
    this.runtime = this.build([...this.latest.values()].sort((a, b) => a.provider.localeCompare(b.provider)));
    initial.retire();
    // Plugins subscribed while being set up (metrics, api) must see that generation like any later one.
    if (this.latest.size > 0) this.emit('reload', this.runtime.info);
    for (const [name, config] of Object.entries(this.staticConfig.entryPoints)) {
      if (isUDPEntryPoint(config)) {
        this.udpEntrypoints.set(name, new UDPEntrypoint({ name, config, handler: () => this.runtime.udp(name), log: this.log }));
        continue;
      }
      const hooks = this.hooks.filter((h) => !h.entrypoints || h.entrypoints.includes(name)).sort((a, b) => a.order - b.order);
      const entrypoint = new Entrypoint({
        name,
        config,
        middlewares: hooks.map((h) => h.middleware),
        dispatch: createDispatch({ entrypoint: name, current: () => this.runtime, sanitizePath: config.http.sanitizePath }),
        log: this.log,
        createServer: this.serverFactories.get(name),
        tcp: { routes: () => this.runtime.tcpRoutes(name), terminator: () => this.tlsTerminator },
      });
      this.entrypoints.set(name, entrypoint);
    }
    try {
      for (const [name, ep] of this.entrypoints) {
        const address = await ep.listen();
        this.log.info({ entryPoint: name }, `entrypoint ${name} listening on ${formatAddress(address)}`);
        this.emit('listening', { entrypoint: name, server: ep.server });
      }
      for (const [name, ep] of this.udpEntrypoints) {
        const address = await ep.listen();
        this.log.info({ entryPoint: name }, `entrypoint ${name} listening on ${formatAddress(address)}/udp`);
      }
    } catch (err) {
      await Promise.all([...this.entrypoints.values(), ...this.udpEntrypoints.values()].map((ep) => ep.close(0)));
      throw err;
    }
    await this.startProviders();
  }

  /** Bound address of an entrypoint (useful with port 0). */
  address(entrypoint: string): AddressInfo {
    const udp = this.udpEntrypoints.get(entrypoint);
    if (udp) return udp.address();
    const ep = this.entrypoints.get(entrypoint);
    if (!ep) throw new Error(`no entrypoint named ${entrypoint}`);
    return ep.server.address() as AddressInfo;
  }

  /** Replaces one provider's configuration and applies it with the others' latest, without throttling. */
  applyProvider(config: ProviderConfig): void {
    this.latest.set(config.provider, config);
    this.apply([...this.latest.values()]);
  }

  /** Builds a new generation from every provider's latest configuration and swaps it in atomically. */
  apply(configs: readonly ProviderConfig[]): void {
    for (const c of configs) this.latest.set(c.provider, c);
    this.notifyDynamicSections();
    const next = this.build([...this.latest.values()].sort((a, b) => a.provider.localeCompare(b.provider)));
    const previous = this.runtime;
    this.runtime = next;
    previous.retire();
    this.log.info({ generation: next.generation }, `configuration ${next.generation} applied: ${summary(next.info)}`);
    this.emit('reload', next.info);
  }

  /** Stops accepting, finishes in-flight requests within graceTimeOut, stops providers and plugins. */
  async stop(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.watcher?.stop();
    await Promise.allSettled(this.providers.map((p) => p.stop()));
    await Promise.all(
      [...this.entrypoints.values(), ...this.udpEntrypoints.values()].map((ep) => {
        const config = this.staticConfig.entryPoints[ep.name]!;
        return delay(config.transport.lifeCycle.requestAcceptGraceTimeout).then(() => ep.close(config.transport.lifeCycle.graceTimeOut));
      }),
    );
    this.runtime.retire();
    for (const hook of this.stopHooks.reverse()) {
      try {
        await hook();
      } catch (err) {
        this.log.error(`plugin stop hook failed: ${messageOf(err)}`);
      }
    }
    await this.pools.closeAll();
  }

  /** Hands plugin-owned sections (`tls`) to their plugins before the generation that uses them goes live. */
  private notifyDynamicSections(): void {
    for (const { key, plugin, listener } of this.dynamicListeners) {
      const sections = [...this.latest.values()]
        .filter((c) => c.config[key] !== undefined)
        .map((c) => ({ provider: c.provider, value: c.config[key] }));
      try {
        listener(sections);
      } catch (err) {
        this.log.error({ plugin }, `plugin ${plugin} rejected the ${key} configuration: ${messageOf(err)}`);
      }
    }
  }

  private build(configs: readonly ProviderConfig[]): Runtime {
    return buildRuntime(configs, {
      staticConfig: this.staticConfig,
      registry: this.registry,
      pools: this.pools,
      log: this.log,
      shared: this.shared,
      internalServices: this.internalServices,
      servedEntrypoints: this.serverFactories,
      isServerUp: (service, url) => this.health.isUp(service, url),
      onServerFailure: (service, url, detail) => this.emit('upstreamFailure', { service, url, ...detail }),
      generation: this.generation++,
      instrumentations: this.instrumentations,
      canTerminateTLS: this.tlsTerminator !== undefined,
    });
  }

  private async setupPlugins(): Promise<void> {
    const schemas = { static: staticSchema(this.registry), dynamic: dynamicSchema(this.registry) };
    for (const plugin of this.registry.all()) {
      const { enabled, value } = pluginSection(plugin, this.staticConfig);
      if (plugin.setup && enabled) await plugin.setup(value as never, this.hostFor(plugin, schemas));
    }
    if (!this.primaryHooks) return;
    for (const plugin of this.registry.all()) {
      const { enabled, value } = pluginSection(plugin, this.staticConfig);
      if (plugin.primary && enabled) await plugin.primary(value as never, this.primaryHost(plugin));
    }
  }

  /** In a single process the gateway is its own primary: its events and health registry. */
  private primaryHost(plugin: Plugin): PrimaryHost {
    return {
      log: this.log.child({ plugin: plugin.name }),
      staticConfig: this.staticConfig,
      events: this,
      health: this.health,
      lifecycle: { onStop: (fn) => void this.stopHooks.push(fn) },
    };
  }

  /** The capabilities one plugin's setup receives; `configuration.onDynamic` is bound to the section it owns. */
  private hostFor(plugin: Plugin, schemas: PluginHost['configuration']['schemas']): PluginHost {
    const dynamicKey = plugin.config?.dynamic?.key;
    const events: PluginEvents = {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one implementation for GatewayEvents' typed overloads
      on: ((event: string, listener: (...args: any[]) => void) => {
        this.on(event, listener);
        return events;
      }) as PluginEvents['on'],
      emit: (event: string, payload: unknown) => {
        this.emit(event, payload);
      },
    };
    return {
      log: this.log.child({ plugin: plugin.name }),
      staticConfig: this.staticConfig,
      shared: this.shared,
      entrypoints: {
        use: (middleware, options) => {
          this.hooks.push({ middleware, entrypoints: options?.entrypoints, order: options?.order ?? 0 });
        },
        serve: (entrypoint, factory) => {
          if (this.serverFactories.has(entrypoint)) throw new Error(`entrypoint ${entrypoint} is already served by another plugin`);
          this.serverFactories.set(entrypoint, factory);
        },
        terminateTLS: (terminator) => {
          if (this.tlsTerminator) throw new Error(`plugin ${plugin.name}: another plugin already terminates TLS for TCP routers`);
          this.tlsTerminator = terminator;
        },
      },
      routers: {
        instrument: (instrumentation) => {
          this.instrumentations.push(instrumentation);
        },
      },
      services: {
        provide: (name, handler) => {
          this.internalServices.set(`${name}@internal`, handler);
        },
        health: this.health,
      },
      events,
      configuration: {
        onDynamic: (listener) => {
          if (!dynamicKey) throw new Error(`plugin ${plugin.name}: configuration.onDynamic needs config.dynamic (the section the plugin owns)`);
          this.dynamicListeners.push({ key: dynamicKey, plugin: plugin.name, listener });
        },
        runtime: () => this.runtime.info,
        warnRouter: (router, message, kind = 'http') => {
          const info = kind === 'tcp' ? this.runtime.info.tcp?.routers[router] : this.runtime.info.routers[router];
          if (!info) return;
          addError(info, message, false);
          if (kind === 'tcp') this.log.error({ plugin: plugin.name, tcprouter: router }, `TCP router ${router}: ${message}`);
          else this.log.error({ plugin: plugin.name, routerName: router }, `router ${router}: ${message}`);
        },
        schemas,
      },
      lifecycle: {
        onStop: (fn) => {
          this.stopHooks.push(fn);
        },
        isShuttingDown: () => this.shuttingDown,
      },
    };
  }

  private async startProviders(): Promise<void> {
    if (this.providers.length === 0) return;
    this.watcher = new ConfigWatcher({
      throttleMs: this.staticConfig.providers.providersThrottleDuration,
      apply: (configs) => this.apply(configs),
    });
    const watcher = this.watcher;
    for (const provider of this.providers) {
      try {
        await provider.start({ emit: (c, o) => watcher.push(c, o), log: this.log.child({ provider: provider.name }), registry: this.registry });
      } catch (err) {
        this.log.error({ provider: provider.name }, `provider ${provider.name} failed to start: ${messageOf(err)}`);
      }
    }
  }
}


function summary(info: RuntimeInfo): string {
  const count = (o: Record<string, { status: string }>) => {
    const all = Object.values(o);
    const bad = all.filter((e) => e.status !== 'enabled').length;
    return bad > 0 ? `${all.length} (${bad} with errors)` : `${all.length}`;
  };
  const udp = info.udpRouters && Object.keys(info.udpRouters).length > 0 ? `, ${count(info.udpRouters)} UDP routers, ${count(info.udpServices ?? {})} UDP services` : '';
  return `${count(info.routers)} routers, ${count(info.services)} services, ${count(info.middlewares)} middlewares${udp}`;
}

function formatAddress(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
