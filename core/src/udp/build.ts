// Builds the UDP half of a configuration generation (Traefik's udp router and service managers): each UDP
// entrypoint gets the service of its router; errors disable only the router or service they concern.
import type { ProviderConfig } from '../config/dynamic.js';
import { addError } from '../config/runtime.js';
import type { StaticConfig } from '../config/static.js';
import type { UDPRouterConfig, UDPRouterInfo, UDPServiceConfig, UDPServiceInfo } from '../config/udp.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { isUDPEntryPoint, parseServerAddress } from './address.js';
import { roundRobin, serverHandler, shuffled, type UDPHandler } from './balancer.js';

export interface UDPRouting {
  routers: Record<string, UDPRouterInfo>;
  services: Record<string, UDPServiceInfo>;
  /** UDP entrypoint → the service its router sends new sessions to. */
  handlers: Map<string, UDPHandler>;
}

interface Element<T> {
  name: string;
  provider: string;
  config: T;
}

export function buildUDPRouting(configs: readonly ProviderConfig[], staticConfig: StaticConfig, log: Logger): UDPRouting {
  return new UDPBuilder(configs, staticConfig).build(log);
}

function qualify(reference: string, provider: string): string {
  return reference.includes('@') ? reference : `${reference}@${provider}`;
}

class UDPBuilder {
  private readonly routing: UDPRouting = { routers: {}, services: {}, handlers: new Map() };
  private readonly routers: Element<UDPRouterConfig>[] = [];
  private readonly services = new Map<string, Element<UDPServiceConfig>>();
  private readonly built = new Map<string, UDPHandler | null>();
  private readonly udpEntryPoints: string[];

  constructor(configs: readonly ProviderConfig[], private readonly staticConfig: StaticConfig) {
    this.udpEntryPoints = Object.keys(staticConfig.entryPoints).filter((ep) => isUDPEntryPoint(staticConfig.entryPoints[ep]!));
    for (const { provider, config, problems } of configs) {
      for (const [name, router] of Object.entries(config.udp?.routers ?? {})) {
        const qualified = qualify(name, provider);
        this.routers.push({ name: qualified, provider, config: router });
        this.routing.routers[qualified] = { name: qualified, provider, status: 'enabled', config: router, entryPoints: [] };
      }
      for (const [name, service] of Object.entries(config.udp?.services ?? {})) {
        const qualified = qualify(name, provider);
        this.services.set(qualified, { name: qualified, provider, config: service });
        this.routing.services[qualified] = { name: qualified, provider, status: 'enabled', config: service, usedBy: [] };
      }
      // Elements the provider could not decode are shown disabled with its messages.
      for (const { kind, name, messages } of problems) {
        const qualified = qualify(name, provider);
        const base = { name: qualified, provider, status: 'disabled' as const, errors: messages };
        if (kind === 'udp.routers') this.routing.routers[qualified] = { ...base, entryPoints: [] };
        else if (kind === 'udp.services') this.routing.services[qualified] = { ...base, usedBy: [] };
      }
    }
  }

  build(log: Logger): UDPRouting {
    const byEntryPoint = new Map<string, { name: string; handler: UDPHandler }[]>();
    for (const router of this.routers) {
      const info = this.routing.routers[router.name]!;
      const entryPoints = this.entryPoints(router.config, info);
      const service = qualify(router.config.service, router.provider);
      info.service = service;
      const handler = this.service(service, router.name);
      if (!handler) {
        addError(info, `service '${service}' ${this.serviceProblem(service)}`, true);
        continue;
      }
      for (const ep of entryPoints) {
        const list = byEntryPoint.get(ep) ?? [];
        list.push({ name: router.name, handler });
        byEntryPoint.set(ep, list);
      }
    }
    for (const [ep, candidates] of byEntryPoint) this.pickRouter(ep, candidates);
    for (const kind of ['routers', 'services'] as const) {
      for (const info of Object.values(this.routing[kind])) {
        if (info.errors?.length) log.error({ [`udp${kind === 'routers' ? 'Router' : 'Service'}`]: info.name, status: info.status }, `UDP ${kind.slice(0, -1)} ${info.name}: ${info.errors.join('; ')}`);
      }
    }
    return this.routing;
  }

  /** Explicit entrypoints (unknown or TCP ones are errors), else every UDP entrypoint (Traefik's default for UDP). */
  private entryPoints(config: UDPRouterConfig, info: UDPRouterInfo): string[] {
    const all = this.staticConfig.entryPoints;
    if (!config.entryPoints || config.entryPoints.length === 0) {
      if (this.udpEntryPoints.length === 0) addError(info, 'there is no UDP entrypoint (an entrypoint address such as :53/udp)', true);
      info.entryPoints = [...this.udpEntryPoints];
      return info.entryPoints;
    }
    for (const ep of config.entryPoints) {
      const found = Object.keys(all).find((n) => n.toLowerCase() === ep.toLowerCase());
      if (found === undefined) addError(info, `entrypoint '${ep}' does not exist (UDP entrypoints: ${this.udpEntryPoints.join(', ') || 'none'})`, false);
      else if (!this.udpEntryPoints.includes(found)) addError(info, `entrypoint '${found}' is not a UDP entrypoint (its address ${all[found]!.address} has no /udp)`, false);
      else if (!info.entryPoints.includes(found)) info.entryPoints.push(found);
    }
    if (info.entryPoints.length === 0) addError(info, 'no valid entrypoint for this router', true);
    return info.entryPoints;
  }

  /** A UDP entrypoint serves one router: as Traefik, the last by name; the others say so. */
  private pickRouter(entrypoint: string, candidates: { name: string; handler: UDPHandler }[]): void {
    candidates.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
    const [chosen, ...others] = candidates;
    this.routing.handlers.set(entrypoint, chosen!.handler);
    for (const other of others) {
      const info = this.routing.routers[other.name]!;
      addError(info, `entrypoint '${entrypoint}' is served by UDP router '${chosen!.name}' (a UDP entrypoint has one router; the last by name wins)`, false);
    }
  }

  /** Builds a service once per generation; weighted services recurse with cycle detection. */
  private service(name: string, user: string, stack: string[] = []): UDPHandler | null {
    const info = this.routing.services[name];
    if (info && !info.usedBy.includes(user)) info.usedBy.push(user);
    if (this.built.has(name)) return this.built.get(name)!;
    const element = this.services.get(name);
    let handler: UDPHandler | null = null;
    if (element && info) {
      if (stack.includes(name)) addError(info, `weighted service cycle: ${[...stack, name].join(' → ')}`, true);
      else {
        try {
          handler = this.createService(element, info, [...stack, name]);
        } catch (err) {
          addError(info, messageOf(err), true);
        }
      }
    }
    this.built.set(name, handler);
    return handler;
  }

  private createService({ name, provider, config }: Element<UDPServiceConfig>, info: UDPServiceInfo, stack: string[]): UDPHandler {
    if (config.loadBalancer) {
      info.type = 'loadBalancer';
      const servers = config.loadBalancer.servers;
      const targets = [];
      for (const [i, server] of servers.entries()) {
        // As Traefik, a server with a bad address is left out and the others serve; Wharf also says so.
        try {
          targets.push(parseServerAddress(server.address, `loadBalancer.servers[${i}].address`));
        } catch (err) {
          addError(info, messageOf(err), false);
        }
      }
      if (servers.length > 0 && targets.length === 0) throw new Error('no server has a valid address (host:port)');
      return roundRobin(shuffled(targets).map((t) => ({ handler: serverHandler(t), weight: 1 })));
    }
    info.type = 'weighted';
    const members = config.weighted!.services.map((child) => {
      const childName = qualify(child.name, provider);
      const handler = this.service(childName, name, stack);
      if (!handler) throw new Error(`child service '${childName}' ${this.serviceProblem(childName)}`);
      return { handler, weight: child.weight };
    });
    return roundRobin(shuffled(members));
  }

  private serviceProblem(name: string): string {
    const info = this.routing.services[name];
    if (!info) return 'does not exist';
    return `is disabled: ${(info.errors ?? ['unknown error']).join('; ')}`;
  }
}
