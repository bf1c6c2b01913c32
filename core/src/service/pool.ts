// undici connection pools per upstream origin, built from a serversTransport and shared across configuration generations.
import { isIP } from 'node:net';
import { Pool, buildConnector } from 'undici';
import { WharfError } from '../errors.js';

/** serversTransport options that shape upstream connections (Traefik's names, in milliseconds). */
export interface ServersTransport {
  /** TCP (and TLS) connect timeout; default 30 s like Traefik's dialTimeout. */
  dialTimeoutMs?: number;
  /** Time to wait for the upstream's response headers; 0 (default) = no limit. */
  responseHeaderTimeoutMs?: number;
  /** How long an idle keep-alive connection is kept; default 90 s, 0 = until the upstream closes it. */
  idleConnTimeoutMs?: number;
  /** Connections per upstream origin; default 200; a negative value disables keep-alive. */
  maxIdleConnsPerHost?: number;
  /** Skip certificate verification for https upstreams. */
  insecureSkipVerify?: boolean;
  /** SNI and certificate name for https upstreams; default the server URL's host name. */
  serverName?: string;
}

/** A pool held by one configuration generation; release() once that generation is retired. */
export interface PoolLease {
  readonly pool: Pool;
  /** Drops this lease's reference; idempotent. */
  release(): void;
}

/** Where load-balancer handlers get their pools from (PoolRegistry, or a test double). */
export interface PoolSource {
  acquire(url: string, transport?: ServersTransport): PoolLease;
}

const DEFAULT_DIAL_TIMEOUT_MS = 30_000;
const DEFAULT_IDLE_CONN_TIMEOUT_MS = 90_000;
const DEFAULT_MAX_CONNS_PER_HOST = 200;
// undici insists on a positive keep-alive timeout; its own ceiling stands in for "no limit".
const UNLIMITED_IDLE_MS = 600_000;

/** Transport with defaults applied; also the identity of a transport for pool reuse. */
type ResolvedTransport = Required<Omit<ServersTransport, 'serverName'>> & { serverName: string | undefined };

/** Parses an upstream server URL, accepting only what the proxy can speak (http, https). */
export function parseUpstreamUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new WharfError('WHARF_ERR_DYNAMIC_CONFIG', `invalid server URL ${JSON.stringify(url)}`, { cause: err });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new WharfError('WHARF_ERR_DYNAMIC_CONFIG', `unsupported server URL scheme ${parsed.protocol} in ${url}`);
  }
  return parsed;
}

/** Creates the keep-alive pool for one upstream origin. */
export function createPool(url: string, transport: ServersTransport = {}): Pool {
  return poolFor(parseUpstreamUrl(url), resolveTransport(transport));
}

function poolFor(origin: URL, t: ResolvedTransport): Pool {
  const idle = t.idleConnTimeoutMs > 0 ? t.idleConnTimeoutMs : UNLIMITED_IDLE_MS;
  return new Pool(origin.origin, {
    connect: pinnedServerNameConnector(origin, t),
    connections: t.maxIdleConnsPerHost > 0 ? t.maxIdleConnsPerHost : null,
    // pipelining 0 is undici's switch for "one request per connection".
    pipelining: t.maxIdleConnsPerHost < 0 ? 0 : 1,
    keepAliveTimeout: idle,
    // Caps the upstream's own Keep-Alive hint so the configured idle timeout always wins.
    keepAliveMaxTimeout: idle,
    headersTimeout: t.responseHeaderTimeoutMs,
    // A gateway must not cut long-lived bodies (SSE, long polling); client aborts still end them.
    bodyTimeout: 0,
  });
}

/**
 * undici derives SNI from the request's Host header and reconnects whenever it changes, which
 * breaks passHostHeader on https upstreams; Traefik (Go) sends the upstream URL's host instead.
 * This connector pins SNI to serverName or the URL's host name (none for IP literals, RFC 6066 §3).
 */
function pinnedServerNameConnector(origin: URL, t: ResolvedTransport): buildConnector.connector {
  const connect = buildConnector({ timeout: t.dialTimeoutMs, rejectUnauthorized: !t.insecureSkipVerify });
  if (origin.protocol !== 'https:') return connect;
  const host = t.serverName ?? upstreamHostname(origin);
  const servername = isIP(host) === 0 ? host : undefined;
  return (options, callback) => connect({ ...options, servername }, callback);
}

/** URL host name without IPv6 brackets. */
export function upstreamHostname(url: URL): string {
  const host = url.hostname;
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

function resolveTransport(t: ServersTransport): ResolvedTransport {
  const resolved: ResolvedTransport = {
    dialTimeoutMs: t.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
    responseHeaderTimeoutMs: t.responseHeaderTimeoutMs ?? 0,
    idleConnTimeoutMs: t.idleConnTimeoutMs ?? DEFAULT_IDLE_CONN_TIMEOUT_MS,
    maxIdleConnsPerHost: t.maxIdleConnsPerHost ?? DEFAULT_MAX_CONNS_PER_HOST,
    insecureSkipVerify: t.insecureSkipVerify ?? false,
    serverName: t.serverName || undefined,
  };
  for (const name of ['dialTimeoutMs', 'responseHeaderTimeoutMs', 'idleConnTimeoutMs'] as const) {
    const value = resolved[name];
    if (!Number.isFinite(value) || value < 0) {
      throw new WharfError('WHARF_ERR_DYNAMIC_CONFIG', `serversTransport ${name} must be a non-negative number, got ${value}`);
    }
  }
  if (!Number.isInteger(resolved.maxIdleConnsPerHost)) {
    throw new WharfError('WHARF_ERR_DYNAMIC_CONFIG', 'serversTransport maxIdleConnsPerHost must be an integer');
  }
  return resolved;
}

/** Registry key: same origin and same effective transport means the same pool. */
export function poolKey(url: string, transport: ServersTransport = {}): string {
  return keyOf(parseUpstreamUrl(url), resolveTransport(transport));
}

function keyOf(origin: URL, t: ResolvedTransport): string {
  return `${origin.origin} ${t.dialTimeoutMs} ${t.responseHeaderTimeoutMs} ${t.idleConnTimeoutMs} ${t.maxIdleConnsPerHost} ${t.insecureSkipVerify} ${t.serverName ?? ''}`;
}

interface Entry {
  readonly pool: Pool;
  refs: number;
}

/**
 * Reference-counted pools so a new configuration reuses the connections of unchanged servers:
 * acquire everything for the new generation, swap it in, then release the old generation's
 * leases. A pool nobody holds any more is closed gracefully (in-flight requests finish).
 */
export class PoolRegistry implements PoolSource {
  readonly #entries = new Map<string, Entry>();
  readonly #closing = new Set<Promise<void>>();

  /** Number of live (referenced) pools. */
  get size(): number {
    return this.#entries.size;
  }

  acquire(url: string, transport: ServersTransport = {}): PoolLease {
    const origin = parseUpstreamUrl(url);
    const resolved = resolveTransport(transport);
    const key = keyOf(origin, resolved);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { pool: poolFor(origin, resolved), refs: 0 };
      this.#entries.set(key, entry);
    }
    entry.refs++;
    return this.#lease(key, entry);
  }

  #lease(key: string, entry: Entry): PoolLease {
    let released = false;
    return {
      pool: entry.pool,
      release: () => {
        if (released) return;
        released = true;
        if (--entry.refs === 0) this.#retire(key, entry);
      },
    };
  }

  #retire(key: string, entry: Entry): void {
    if (this.#entries.get(key) === entry) this.#entries.delete(key);
    const closing = entry.pool.close().catch(() => {
      // Already closed or destroyed: nothing left to wait for.
    });
    this.#closing.add(closing);
    void closing.finally(() => this.#closing.delete(closing));
  }

  /** Resolves once every pool released so far has finished its in-flight requests. */
  async drained(): Promise<void> {
    await Promise.all(this.#closing);
  }

  /** Shutdown: closes every pool gracefully, referenced or not. */
  async closeAll(): Promise<void> {
    for (const [key, entry] of this.#entries) {
      entry.refs = 0;
      this.#retire(key, entry);
    }
    await this.drained();
  }
}
