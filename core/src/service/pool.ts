// undici connection pools per upstream origin, built from a serversTransport and shared across configuration generations.
import { createHash } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
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
  /** PEM text of the CAs that verify https upstreams, replacing the system CAs (Traefik's rootCAs). */
  rootCAs?: readonly string[];
  /** Client certificates (PEM text) for upstreams that ask for one (mTLS); one per key type. */
  certificates?: readonly ClientCertificate[];
}

/** A client certificate (with its chain) and its private key, as PEM text. */
export interface ClientCertificate {
  cert: string;
  key: string;
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
type ResolvedTransport = Required<Omit<ServersTransport, 'serverName'>> & {
  serverName: string | undefined;
  /** Digest of rootCAs and certificates: pools are shared only between transports with the same TLS material. */
  tlsId: string;
};

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
    connect: connectorFor(t),
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
 * How Wharf connects to upstreams through `transport`: the proxy's pools and the health checks both use it,
 * so a check reaches a server exactly as proxied requests do (dial timeout, verification, CAs, client
 * certificates, SNI). Throws on an invalid transport.
 */
export function upstreamConnector(transport: ServersTransport = {}): buildConnector.connector {
  return connectorFor(resolveTransport(transport));
}

/**
 * undici derives SNI from the request's Host header and reconnects whenever it changes, which
 * breaks passHostHeader on https upstreams; Traefik (Go) sends the upstream URL's host instead.
 * This connector pins SNI to serverName or the host connected to (none for IP literals, RFC 6066 §3).
 */
function connectorFor(t: ResolvedTransport): buildConnector.connector {
  const connect = buildConnector({
    timeout: t.dialTimeoutMs,
    rejectUnauthorized: !t.insecureSkipVerify,
    secureContext: secureContextFor(t),
  });
  return (options, callback) => {
    const watched: buildConnector.Callback = (...args) => {
      if (args[0] === null) watchReuse(args[1]);
      callback(...args);
    };
    if (options.protocol !== 'https:') return connect(options, watched);
    const host = t.serverName ?? unbracketed(options.hostname);
    return connect({ ...options, servername: isIP(host) === 0 ? host : undefined }, watched);
  };
}

const BYTES_AT_CONNECT = Symbol('wharf.bytesAtConnect');
const ON_REUSED_CONNECTION = Symbol('wharf.onReusedConnection');
type WatchedSocket = Socket & { [BYTES_AT_CONNECT]?: number };

/**
 * Marks the errors of a connection that had already received something since it was set up (an earlier
 * response): Go's "reused connection", whose failure before any response byte the proxy may resend once (proxy.ts,
 * resendOnFreshConnection). Registered before undici's own listener, so the mark is on the error undici reports.
 */
function watchReuse(socket: Socket): void {
  (socket as WatchedSocket)[BYTES_AT_CONNECT] = socket.bytesRead;
  socket.on('error', markReused);
}

function markReused(this: WatchedSocket, err: Error): void {
  if (this.bytesRead > (this[BYTES_AT_CONNECT] ?? 0)) (err as Error & { [ON_REUSED_CONNECTION]?: true })[ON_REUSED_CONNECTION] = true;
}

/** The error broke an upstream connection that had already carried a response (see watchReuse). */
export function brokeReusedConnection(err: Error): boolean {
  return (err as Error & { [ON_REUSED_CONNECTION]?: true })[ON_REUSED_CONNECTION] === true;
}

/**
 * CAs and client certificates, parsed once per pool rather than on every handshake. Undefined keeps Node's
 * defaults (system CAs, NODE_EXTRA_CA_CERTS). Given CAs replace those, as Traefik's rootCAs replace Go's system pool.
 */
function secureContextFor(t: ResolvedTransport): SecureContext | undefined {
  if (t.rootCAs.length === 0 && t.certificates.length === 0) return undefined;
  return createSecureContext({
    ca: t.rootCAs.length > 0 ? [...t.rootCAs] : undefined,
    cert: t.certificates.map((c) => c.cert),
    key: t.certificates.map((c) => c.key),
  });
}

/** URL host name without IPv6 brackets. */
export function upstreamHostname(url: URL): string {
  return unbracketed(url.hostname);
}

function unbracketed(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

function resolveTransport(t: ServersTransport): ResolvedTransport {
  const resolved: ResolvedTransport = {
    dialTimeoutMs: t.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
    responseHeaderTimeoutMs: t.responseHeaderTimeoutMs ?? 0,
    idleConnTimeoutMs: t.idleConnTimeoutMs ?? DEFAULT_IDLE_CONN_TIMEOUT_MS,
    maxIdleConnsPerHost: t.maxIdleConnsPerHost ?? DEFAULT_MAX_CONNS_PER_HOST,
    insecureSkipVerify: t.insecureSkipVerify ?? false,
    serverName: t.serverName || undefined,
    rootCAs: t.rootCAs ?? [],
    certificates: t.certificates ?? [],
    tlsId: tlsDigest(t),
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

function tlsDigest(t: ServersTransport): string {
  if (!t.rootCAs?.length && !t.certificates?.length) return '';
  return createHash('sha256').update(JSON.stringify([t.rootCAs ?? [], t.certificates ?? []])).digest('base64url');
}

/** Registry key: same origin and same effective transport means the same pool. */
export function poolKey(url: string, transport: ServersTransport = {}): string {
  return keyOf(parseUpstreamUrl(url), resolveTransport(transport));
}

function keyOf(origin: URL, t: ResolvedTransport): string {
  return `${origin.origin} ${t.dialTimeoutMs} ${t.responseHeaderTimeoutMs} ${t.idleConnTimeoutMs} ${t.maxIdleConnsPerHost} ${t.insecureSkipVerify} ${t.serverName ?? ''} ${t.tlsId}`;
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
