// One configuration generation, live: routing tables per entrypoint, chains, and the resources they hold.
import type { Middleware } from '../context.js';
import type { RuntimeInfo } from '../config/runtime.js';
import type { RouterObservability } from '../plugin/contract.js';
import type { RoutingTable } from '../router/table.js';
import type { UDPHandler } from '../udp/balancer.js';
import type { TCPEntrypointRoutes } from '../tcp/build.js';

/** What a routing-table entry points at: a router's precompiled chain (middlewares then service). */
export interface RouteTarget {
  router: string;
  service: string;
  chain: Middleware;
  observability?: RouterObservability;
}

export class Runtime {
  private inflight = 0;
  private retiring = false;
  private readonly controller = new AbortController();

  constructor(
    readonly info: RuntimeInfo,
    private readonly tables: ReadonlyMap<string, RoutingTable<RouteTarget>>,
    private readonly releases: Array<() => void>,
    private readonly udpHandlers: ReadonlyMap<string, UDPHandler> = new Map(),
    private readonly tcp?: ReadonlyMap<string, TCPEntrypointRoutes>,
  ) {}

  /** The entrypoint's TCP routers; undefined when it has none (its connections go straight to HTTP). */
  tcpRoutes(entrypoint: string): TCPEntrypointRoutes | undefined {
    return this.tcp?.get(entrypoint);
  }

  get generation(): number {
    return this.info.generation;
  }

  /** Aborted when this generation is retired and drained (plugins stop timers on it). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The table for the entrypoint's TLS connections (`secure`) or plain ones; see tableKey in build.ts. */
  table(entrypoint: string, secure = false): RoutingTable<RouteTarget> | undefined {
    return this.tables.get(secure ? `${entrypoint}\u0000tls` : entrypoint);
  }

  /** The service of the UDP router on a UDP entrypoint; its sessions outlive the generation, as Traefik's do. */
  udp(entrypoint: string): UDPHandler | undefined {
    return this.udpHandlers.get(entrypoint);
  }

  /** leave() as a reaction for a request's promise: made once per generation, not once per request. */
  readonly leaveAfter = (): void => this.leave();
  /** leave() then pass the error on, for a request's promise. */
  readonly leaveAfterError = (err: unknown): never => {
    this.leave();
    throw err;
  };

  /** Marks a request as running on this generation, so its pools stay open until it ends. */
  enter(): void {
    this.inflight++;
  }

  leave(): void {
    this.inflight--;
    if (this.retiring && this.inflight === 0) this.release();
  }

  /** Called when a newer generation is live: resources go once the last request on this one has ended. */
  retire(): void {
    if (this.retiring) return;
    this.retiring = true;
    if (this.inflight === 0) this.release();
  }

  private release(): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort();
    for (const release of this.releases) release();
  }
}
