// UDP services: a server (Traefik's Proxy) and weighted round-robin over servers or services (Traefik's
// WRRLoadBalancer, with its GCD interleaving). A service is chosen once per session, when it opens.
import type { UDPTarget } from './address.js';
import type { Session } from './session.js';

/** What a UDP service does with a new session: gives it a server, or says it has none. */
export interface UDPHandler {
  serve(session: Session): boolean;
}

/** Sends the session to one server. */
export function serverHandler(target: UDPTarget): UDPHandler {
  return {
    serve(session) {
      session.dial(target);
      return true;
    },
  };
}

export interface Weighted {
  handler: UDPHandler;
  weight: number;
}

/**
 * Weighted round-robin: each pick walks the list, lowering the bar by the weights' GCD at every wrap, so servers
 * interleave (weights 3 and 1 give a a b a … rather than a a a b) and every `sum of weights` picks follow the weights.
 */
export function roundRobin(members: readonly Weighted[]): UDPHandler {
  const max = Math.max(0, ...members.map((m) => m.weight));
  const step = members.reduce((g, m) => gcd(g, m.weight), 0);
  let index = -1;
  let bar = 0;
  const next = (): UDPHandler | undefined => {
    if (max === 0) return undefined;
    for (;;) {
      index = (index + 1) % members.length;
      if (index === 0) {
        bar -= step;
        if (bar <= 0) bar = max;
      }
      const member = members[index]!;
      if (member.weight >= bar) return member.handler;
    }
  };
  return {
    serve(session) {
      return next()?.serve(session) ?? false;
    },
  };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** A shuffled copy, as Traefik starts each balancer: replicas do not all send their first session to the same server. */
export function shuffled<T>(values: readonly T[]): T[] {
  const out = [...values];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
