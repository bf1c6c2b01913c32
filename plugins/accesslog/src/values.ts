// How each access-log field's value is read from a finished exchange; shared by the field object and the json writer.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { UpstreamInfo } from '@wharf/core';
import type { Exchange } from './exchange.js';

const serviceAddrCache = new Map<string, string>();

/** `http://10.0.0.2:8080/base` → `10.0.0.2:8080` (Go's url.Host); servers are few, so each is parsed once. */
export function serviceAddr(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  let addr = serviceAddrCache.get(url);
  if (addr === undefined) {
    try {
      addr = new URL(url).host;
    } catch {
      addr = '';
    }
    if (serviceAddrCache.size < 4096) serviceAddrCache.set(url, addr);
  }
  return addr;
}

/** Go's net.SplitHostPort, or [value, '-'] when there is no port (Traefik's silentSplitHostPort). */
export function splitHostPort(value: string): [string, string] {
  const m = /^\[([^\]]*)\]:(\d*)$/.exec(value) ?? /^([^:]*):(\d*)$/.exec(value);
  return m ? [m[1]!, m[2]!] : [value, '-'];
}

const hostPortCache = new Map<string, readonly [string, string]>();
// Host values are client-controlled: memoise only this many, so they cannot grow memory.
const MAX_CACHED_HOSTS = 1024;

/** splitHostPort for a Host header: a gateway sees few distinct ones, so each is split (two regexes) once. */
export function requestHostPort(hostHeader: string): readonly [string, string] {
  let split = hostPortCache.get(hostHeader);
  if (split === undefined) {
    split = splitHostPort(hostHeader);
    if (hostPortCache.size < MAX_CACHED_HOSTS) hostPortCache.set(hostHeader, split);
  }
  return split;
}

/** ClientAddr and ClientPort of one connection. */
export interface Peer {
  ip: string;
  /** `ip:port`, `[ip]:port` for IPv6 (Go's net.JoinHostPort). */
  addr: string;
  /** The port, or `-` when the socket no longer knows it. */
  port: string;
}

const PEER = Symbol('wharf.accessLog.peer');
type PeerSocket = Socket & { [PEER]?: Peer };

/** ClientAddr and ClientPort, formatted once per connection: a keep-alive connection carries many requests. */
export function peer(x: Exchange): Peer {
  const socket = x.socket as PeerSocket;
  const ip = x.ctx.wharf.clientIP;
  let known = socket[PEER];
  if (known === undefined || known.ip !== ip) {
    const port = socket.remotePort;
    known = { ip, addr: ip.includes(':') ? `[${ip}]:${port ?? ''}` : `${ip}:${port ?? ''}`, port: String(port ?? '-') };
    socket[PEER] = known;
  }
  return known;
}

/**
 * The user an authentication middleware (basicAuth, digestAuth) named in `ctx.state.clientUsername`, whether or
 * not it let the request in (as Traefik logs it); `-` when none did. Control characters are escaped so a crafted
 * user name cannot start a new log line.
 */
export function clientUsername(x: Exchange): string {
  const name: unknown = (x.ctx.state as { clientUsername?: unknown } | undefined)?.clientUsername;
  if (typeof name !== 'string' || name === '') return '-';
  // eslint-disable-next-line no-control-regex -- exactly the control characters are what must not reach the line
  return name.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The peer address, or X-Forwarded-For as Traefik shows it, but only from a peer trusted to send it. */
export function clientHost(x: Exchange): string {
  const forwarded = x.ctx.req.headers['x-forwarded-for'];
  if (x.ctx.wharf.trustForwarded && typeof forwarded === 'string' && forwarded !== '') return wireText(forwarded);
  return x.ctx.wharf.clientIP;
}

// Node and undici decode the request target and header values byte for byte (latin1); the bytes are UTF-8.
const HIGH_BYTES = /[\u0080-\u00ff]/;
// eslint-disable-next-line no-control-regex -- a range over every byte value, not a stray control character
const BEYOND_BYTES = /[^\u0000-\u00ff]/;

/**
 * Text that came off the wire (request target, header values), as the UTF-8 the peer sent: `cafÃ©` → `café`.
 * Invalid sequences become U+FFFD, as Go's JSON encoder writes them in Traefik's lines.
 */
export function wireText(s: string): string {
  if (!HIGH_BYTES.test(s) || BEYOND_BYTES.test(s)) return s;
  return Buffer.from(s, 'latin1').toString('utf8');
}

/** RequestAddr: the Host header, or :authority on HTTP/2. */
export function host(req: IncomingMessage): string | undefined {
  const value = req.headers.host ?? (req.headers[':authority'] as string | undefined);
  return value === undefined ? undefined : wireText(value);
}

/** The TLS socket of an HTTPS exchange, else undefined. */
export function tls(x: Exchange): TLSSocket | undefined {
  const socket = x.socket as TLSSocket;
  return socket.encrypted ? socket : undefined;
}

/** TLSVersion: `TLSv1.3` → `1.3`, Traefik's spelling. */
export function tlsVersion(socket: TLSSocket): string | undefined {
  return socket.getProtocol()?.replace(/^TLSv/, '') ?? undefined;
}

/** OriginDuration in nanoseconds, when an upstream answered. */
export function originDuration(upstream: UpstreamInfo | undefined): number | undefined {
  return upstream?.durationNs === undefined ? undefined : Number(upstream.durationNs);
}
