// A TCP routing table: routers in Traefik's order (priority, then provider precedence, then name), first match wins.
import { compareRoutes, type RouteEntry } from '../router/table.js';
import type { CompiledTCPRule, ConnectionFacts } from './rule.js';

export interface TCPRouteEntry<T> {
  name: string;
  rule: CompiledTCPRule;
  /** The routing priority, computed (tcpRouterPriority). */
  priority: number;
  value: T;
}

export class TCPRoutingTable<T> {
  readonly #ordered: readonly TCPRouteEntry<T>[];

  constructor(entries: readonly TCPRouteEntry<T>[]) {
    // compareRoutes only reads name, priority and rule.rule, which TCP entries have too.
    this.#ordered = [...entries].sort((a, b) => compareRoutes(a as unknown as RouteEntry<unknown>, b as unknown as RouteEntry<unknown>));
  }

  get size(): number {
    return this.#ordered.length;
  }

  match(facts: ConnectionFacts): TCPRouteEntry<T> | undefined {
    for (const entry of this.#ordered) if (entry.rule.match(facts)) return entry;
    return undefined;
  }
}
