// What a configuration generation made of the TCP routers, services and middlewares (for the log and the API).
import type { ElementInfo } from '../config/runtime.js';
import type { TCPMiddlewareConfig, TCPRouterConfig, TCPServiceConfig } from '../config/tcp.js';

export interface TCPRouterInfo extends ElementInfo {
  config?: TCPRouterConfig;
  entryPoints: string[];
  /** Qualified middlewares in the order they run. */
  middlewares: string[];
  service?: string;
  /** Routing priority: the configured one, else the rule's length (-1 for HostSNI(`*`)). */
  priority?: number;
}

export interface TCPServiceInfo extends ElementInfo {
  config?: TCPServiceConfig;
  type?: 'loadBalancer' | 'weighted';
  usedBy: string[];
  /** address → UP (no TCP health checks yet). */
  serverStatus?: Record<string, 'UP' | 'DOWN'>;
}

export interface TCPMiddlewareInfo extends ElementInfo {
  config?: TCPMiddlewareConfig;
  type?: string;
  usedBy: string[];
}

export interface TCPInfo {
  routers: Record<string, TCPRouterInfo>;
  services: Record<string, TCPServiceInfo>;
  middlewares: Record<string, TCPMiddlewareInfo>;
}
