// Server health verdicts (from health-check plugins) that the load balancers consult per request.
import type { EventEmitter } from 'node:events';
import type { ServerHealth } from '../plugin/contract.js';
import type { Logger } from '../log.js';

export class HealthRegistry implements ServerHealth {
  /** service → url → down reason; servers not listed are up. */
  private readonly down = new Map<string, Map<string, string>>();

  constructor(
    private readonly log: Logger,
    private readonly events: EventEmitter,
  ) {}

  set(service: string, url: string, up: boolean, reason?: string): void {
    if (!this.record(service, url, up, reason)) return;
    if (up) this.log.info({ service, server: url }, `server ${url} of ${service} is up again`);
    else this.log.warn({ service, server: url, reason }, `server ${url} of ${service} is down: ${reason ?? 'health check failed'}`);
    this.events.emit('health', { service, url, up, reason });
  }

  /** A verdict decided elsewhere (the primary, with --workers): applied and emitted, logged only where it was decided. */
  adopt(service: string, url: string, up: boolean, reason?: string): void {
    if (this.record(service, url, up, reason)) this.events.emit('health', { service, url, up, reason });
  }

  /** The servers now out of rotation, for a worker that starts later. */
  downServers(): Array<{ service: string; url: string; reason: string }> {
    return [...this.down].flatMap(([service, servers]) => [...servers].map(([url, reason]) => ({ service, url, reason })));
  }

  /** Stores a verdict; false when it changes nothing. */
  private record(service: string, url: string, up: boolean, reason?: string): boolean {
    const servers = this.down.get(service);
    const wasUp = !servers?.has(url);
    if (up === wasUp) return false;
    if (up) {
      servers!.delete(url);
      if (servers!.size === 0) this.down.delete(service);
    } else if (servers) servers.set(url, reason ?? 'down');
    else this.down.set(service, new Map([[url, reason ?? 'down']]));
    return true;
  }

  isUp(service: string, url: string): boolean {
    // Asked for every request: while every server is up (always, without health checks) that is one size check.
    return this.down.size === 0 || this.down.get(service)?.has(url) !== true;
  }

  forget(service: string, url?: string): void {
    if (url === undefined) this.down.delete(service);
    else this.down.get(service)?.delete(url);
  }
}
