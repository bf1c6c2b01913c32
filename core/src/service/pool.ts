// undici connection pools per upstream origin, built from a serversTransport and shared across configuration generations.
import { createHash } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { Pool, buildConnector } from 'undici';
import { WharfError } from '../errors.js';
import { H2Upstream } from './h2-upstream.js';

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
  /** Speak HTTP/1.1 only: https upstreams are not offered h2, h2c:// servers get HTTP/1.1 (Traefik's disableHTTP2). */
  disableHTTP2?: boolean;
  /** HTTP/2 connections: ping after this long without a frame; 0 (default) = no pings (forwardingTimeouts.readIdleTimeout). */
  readIdleTimeoutMs?: number;
  /** HTTP/2 connections: close one whose ping is not answered in this time; default 15 s (forwardingTimeouts.pingTimeout). */
  pingTimeoutMs?: number;
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
const DEFAULT_PING_TIMEOUT_MS = 15_000;
// undici insists on a positive keep-alive timeout; its own ceiling stands in for "no limit".
const UNLIMITED_IDLE_MS = 600_000;

/** Transport with defaults applied; also the identity of a transport for pool reuse. */
type ResolvedTransport = Required<Omit<ServersTransport, 'serverName'>> & {
  serverName: string | undefined;
  /** Digest of rootCAs and certificates: pools are shared only between transports with the same TLS material. */
  tlsId: string;
};

/** Parses an upstream server URL, accepting only what the proxy can speak (http, https, h2c). */
export function parseUpstreamUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new WharfError('WHARF_ERR_DYNAMIC_CONFIG', `invalid server URL ${JSON.stringify(url)}`, { cause: err });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:' && parsed.protocol !== 'h2c:') {
    throw new WharfError('WHARF_ERR_DYNAMIC_CONFIG', `unsupported server URL scheme ${parsed.protocol} in ${url}`);
  }
  return parsed;
}

/** Creates the keep-alive pool for one upstream origin. */
export function createPool(url: string, transport: ServersTransport = {}): Pool {
  return poolFor(parseUpstreamUrl(url), resolveTransport(transport));
}

/**
 * The HTTP/1.1 origin of a server URL: h2c:// (a scheme URL parsers treat as opaque, origin "null") is plain HTTP
 * underneath, used by upgrades (which HTTP/2 cannot carry) and with disableHTTP2.
 */
function http1Origin(url: URL): string {
  if (url.protocol !== 'h2c:') return url.origin;
  return `http://${url.host}`;
}

function poolFor(origin: URL, t: ResolvedTransport): Pool {
  const idle = t.idleConnTimeoutMs > 0 ? t.idleConnTimeoutMs : UNLIMITED_IDLE_MS;
  const h2 = h2UpstreamFor(origin, t);
  const pool = new Pool(http1Origin(origin), {
    connect: h2 === undefined ? connectorFor(t) : withAlpnSpare(connectorFor(t), h2),
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
  if (h2 !== undefined) h2Upstreams.set(pool, h2);
  return pool;
}

const h2Upstreams = new WeakMap<object, H2Upstream>();

/** The TLS connection on which a server answered ALPN with http/1.1 serves the first HTTP/1.1 request: one handshake, not two. */
function withAlpnSpare(connect: buildConnector.connector, h2: H2Upstream): buildConnector.connector {
  return (options, callback) => {
    const spare = h2.takeHttp1Socket();
    if (spare === undefined) return connect(options, callback);
    // undici stalls on a connector that calls back synchronously; a real connect never does.
    setImmediate(() => callback(null, spare));
  };
}

/** The HTTP/2 side of a pool built for an h2c:// or https:// server (unless disableHTTP2); the proxy uses it first. */
export function h2UpstreamOf(pool: object): H2Upstream | undefined {
  return h2Upstreams.get(pool);
}

/** h2c:// speaks HTTP/2 with prior knowledge; https:// offers h2 by ALPN, as Traefik does unless disableHTTP2. */
function h2UpstreamFor(origin: URL, t: ResolvedTransport): H2Upstream | undefined {
  if (t.disableHTTP2 || (origin.protocol !== 'h2c:' && origin.protocol !== 'https:')) return undefined;
  const host = upstreamHostname(origin);
  const common = {
    host,
    port: Number(origin.port) || (origin.protocol === 'https:' ? 443 : 80),
    dialTimeoutMs: t.dialTimeoutMs,
    responseHeaderTimeoutMs: t.responseHeaderTimeoutMs,
    idleConnTimeoutMs: t.idleConnTimeoutMs,
    readIdleTimeoutMs: t.readIdleTimeoutMs,
    pingTimeoutMs: t.pingTimeoutMs,
  };
  if (origin.protocol === 'h2c:') return new H2Upstream({ ...common, mode: 'h2c' });
  const servername = t.serverName ?? host;
  return new H2Upstream({
    ...common,
    mode: 'tls',
    tls: {
      rejectUnauthorized: !t.insecureSkipVerify,
      secureContext: secureContextFor(t),
      ...(isIP(servername) === 0 ? { servername } : {}),
    },
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
    readIdleTimeoutMs: t.readIdleTimeoutMs ?? 0,
    pingTimeoutMs: t.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS,
    disableHTTP2: t.disableHTTP2 ?? false,
    idleConnTimeoutMs: t.idleConnTimeoutMs ?? DEFAULT_IDLE_CONN_TIMEOUT_MS,
    maxIdleConnsPerHost: t.maxIdleConnsPerHost ?? DEFAULT_MAX_CONNS_PER_HOST,
    insecureSkipVerify: t.insecureSkipVerify ?? false,
    serverName: t.serverName || undefined,
    rootCAs: t.rootCAs ?? [],
    certificates: t.certificates ?? [],
    tlsId: tlsDigest(t),
  };
  for (const name of ['dialTimeoutMs', 'responseHeaderTimeoutMs', 'idleConnTimeoutMs', 'readIdleTimeoutMs', 'pingTimeoutMs'] as const) {
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
  return `${origin.protocol}//${origin.host} ${t.disableHTTP2} ${t.readIdleTimeoutMs} ${t.pingTimeoutMs} ${t.dialTimeoutMs} ${t.responseHeaderTimeoutMs} ${t.idleConnTimeoutMs} ${t.maxIdleConnsPerHost} ${t.insecureSkipVerify} ${t.serverName ?? ''} ${t.tlsId}`;
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
    const closing = Promise.all([entry.pool.close(), h2UpstreamOf(entry.pool)?.close()]).then(() => undefined, () => {
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
