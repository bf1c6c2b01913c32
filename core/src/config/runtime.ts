// What happened when a configuration was built: each element beside its status and errors (for the log and API).
import type { MiddlewareConfig, RouterConfig, ServiceConfig } from './dynamic.js';
import type { ServersTransport } from '../service/pool.js';
import type { UDPRouterInfo, UDPServiceInfo } from './udp.js';
import type { TCPInfo } from '../tcp/info.js';

export type ElementStatus = 'enabled' | 'disabled' | 'warning';

export interface ElementInfo {
  /** Qualified name, `name@provider`. */
  name: string;
  provider: string;
  status: ElementStatus;
  /** Why the element is disabled (or what is wrong with part of it, for `warning`). */
  errors?: string[];
}

export interface RouterInfo extends ElementInfo {
  config?: RouterConfig;
  /** Entrypoints the router is attached to. */
  entryPoints: string[];
  /** Qualified middlewares in the order they run (entrypoint defaults first). */
  middlewares: string[];
  /** Qualified service name. */
  service?: string;
  /** The priority the router is routed by: routerPriority() of its configuration (explicit, else rule length). */
  priority?: number;
}

export interface ServiceInfo extends ElementInfo {
  config?: ServiceConfig;
  type?: 'loadBalancer' | 'weighted' | 'highestRandomWeight' | 'mirroring' | 'failover' | 'internal';
  usedBy: string[];
  /** url → UP/DOWN, as health checks see them. */
  serverStatus?: Record<string, 'UP' | 'DOWN'>;
  /** A loadBalancer's resolved serversTransport, so health checks reach its servers the way the proxy does. */
  transport?: ServersTransport;
}

export interface MiddlewareInfo extends ElementInfo {
  config?: MiddlewareConfig;
  /** Plugin type name (`stripPrefix`). */
  type?: string;
  usedBy: string[];
}

export interface RuntimeInfo {
  generation: number;
  routers: Record<string, RouterInfo>;
  services: Record<string, ServiceInfo>;
  middlewares: Record<string, MiddlewareInfo>;
  /** UDP routers and services (always set by the core). */
  udpRouters?: Record<string, UDPRouterInfo>;
  udpServices?: Record<string, UDPServiceInfo>;
  /** TCP routers, services and middlewares; absent when the configuration has none. */
  tcp?: TCPInfo;
}

/** Adds an error; `critical` disables the element, otherwise it only warns (Traefik's AddError). */
export function addError(info: ElementInfo, message: string, critical: boolean): void {
  (info.errors ??= []).push(message);
  if (critical) info.status = 'disabled';
  else if (info.status === 'enabled') info.status = 'warning';
}
