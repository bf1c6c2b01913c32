// TCP services: a load balancer that hands each connection to the next server in turn, and weighted services
// that share connections among child services by weight (smooth weighted round-robin, as Traefik's WRR).
import type { Socket } from 'node:net';
import type { ConnectionHandler, TCPConnection } from '../plugin/contract.js';
import type { Logger } from '../log.js';
import { relay, type TCPDialer, type TCPServerTarget } from './proxy.js';

/** Round-robin over the servers; a service without servers closes every connection (Traefik answers nothing either). */
export function createTCPLoadBalancer(servers: readonly TCPServerTarget[], dialer: TCPDialer, log: Logger): ConnectionHandler {
  if (servers.length === 0) {
    return function noServer(connection: TCPConnection): void {
      log.debug('TCP: the service has no server; connection closed');
      connection.socket.destroy();
    };
  }
  let next = 0;
  return function tcpLoadBalancer(connection: TCPConnection): void {
    const server = servers[next]!;
    next = (next + 1) % servers.length;
    relay(connection.socket as Socket, server, dialer, log);
  };
}

export interface WeightedChild {
  name: string;
  weight: number;
  handler: ConnectionHandler;
}

/** Smooth weighted round-robin: over any window of sum(weights) connections each child gets exactly its weight. */
export function createTCPWeighted(children: readonly WeightedChild[]): ConnectionHandler {
  const active = children.filter((c) => c.weight > 0);
  const total = active.reduce((sum, c) => sum + c.weight, 0);
  const current = active.map(() => 0);
  return function tcpWeighted(connection: TCPConnection): void {
    if (active.length === 0) {
      connection.socket.destroy();
      return;
    }
    let best = 0;
    for (let i = 0; i < active.length; i++) {
      current[i]! += active[i]!.weight;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    active[best]!.handler(connection);
  };
}
