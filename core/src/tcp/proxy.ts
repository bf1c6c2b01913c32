// Relays one TCP connection to a server (Traefik's pkg/tcp/proxy.go): dial with a timeout (TLS when asked), an
// optional PROXY header first, bytes both ways, half-close passed on, and terminationDelay after a half-close.
import net, { isIP, type Socket } from 'node:net';
import tls, { type SecureContext } from 'node:tls';
import { Command, INETProtocol, IPv4Address, IPv4ProxyAddress, IPv6Address, IPv6ProxyAddress, Peer, TransportProtocol, V1ProxyProtocol, V2ProxyProtocol } from 'proxy-protocol-js';
import type { Logger } from '../log.js';
import { proxiedPeer } from '../entrypoint/proxy-protocol.js';
import { unwrapMappedIPv4 } from '../router/request-facts.js';
import { POSTGRES_ACCEPT_TLS, POSTGRES_SSL_REQUEST, POSTGRES_STARTTLS, type PostgresClient } from './postgres.js';

/** How a service reaches its servers: a tcp.serversTransports entry, resolved (milliseconds, PEM read). */
export interface TCPDialer {
  dialTimeoutMs: number;
  /** 0 = no keep-alive probes. */
  keepAliveMs: number;
  /** After one side closes its writing, the other is closed this much later; negative = never. */
  terminationDelayMs: number;
  proxyProtocolVersion: 1 | 2 | undefined;
  tls?: {
    serverName?: string;
    insecureSkipVerify: boolean;
    /** Built once per generation: rootCAs and client certificates. */
    secureContext?: SecureContext;
    /** A URI SAN the server certificate must carry. */
    peerCertURI?: string;
  };
}

export interface TCPServerTarget {
  host: string;
  port: number;
  tls: boolean;
  /** As configured (`host:port`), for logs. */
  address: string;
}

/** Parses a server's `host:port` (IPv6 in brackets); throws naming the field. */
export function parseServerAddress(address: string, field: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port < 1 || port > 65535) throw new Error(`${field}: ${JSON.stringify(address)} is not a host:port address (e.g. 10.0.0.5:5432 or [::1]:6379)`);
  return { host: match[1] ?? match[2]!, port };
}

/** Connects to the server and relays `client` to it until both sides are done. */
export function relay(client: Socket, target: TCPServerTarget, dialer: TCPDialer, log: Logger): void {
  const server = dial(target, dialer);
  let connected = false;
  const timer = dialer.dialTimeoutMs > 0 ? setTimeout(() => server.destroy(new Error(`dial timeout after ${dialer.dialTimeoutMs} ms`)), dialer.dialTimeoutMs) : undefined;
  const onServerError = (err: Error): void => {
    if (timer) clearTimeout(timer);
    if (!connected) log.debug({ server: target.address }, `TCP: cannot reach ${target.address}: ${err.message}`);
    client.destroy();
  };
  server.on('error', onServerError);
  client.on('error', () => server.destroy());
  client.on('close', () => server.destroy());
  server.on('close', () => client.destroy());
  server.once(target.tls ? 'secureConnect' : 'connect', () => {
    if (timer) clearTimeout(timer);
    connected = true;
    const refusal = target.tls ? peerCertificateProblem(server as tls.TLSSocket, dialer) : undefined;
    if (refusal) return onServerError(new Error(refusal));
    if (dialer.keepAliveMs > 0) server.setKeepAlive(true, dialer.keepAliveMs);
    if (dialer.proxyProtocolVersion) server.write(proxyHeader(client, dialer.proxyProtocolVersion));
    const start = (): void => {
      pipeHalf(client, server, dialer.terminationDelayMs);
      pipeHalf(server, client, dialer.terminationDelayMs);
      client.resume();
    };
    if ((client as Socket & PostgresClient)[POSTGRES_STARTTLS]) askPostgresForTLS(server, start, onServerError);
    else start();
  });
}

/**
 * Postgres STARTTLS with passthrough: the client's SSLRequest was answered by Wharf, so the server is asked the same
 * way and its `S` dropped before the client's ClientHello goes through (Traefik's postgresConn).
 */
function askPostgresForTLS(server: Socket, start: () => void, fail: (err: Error) => void): void {
  server.write(POSTGRES_SSL_REQUEST);
  server.once('data', (chunk: Buffer) => {
    if (chunk[0] !== POSTGRES_ACCEPT_TLS) return fail(new Error('the Postgres server refused TLS (no S to the SSLRequest)'));
    server.pause();
    if (chunk.length > 1) server.unshift(chunk.subarray(1));
    start();
  });
}

function dial(target: TCPServerTarget, dialer: TCPDialer): Socket {
  if (!target.tls) return net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
  const t = dialer.tls;
  const servername = t?.serverName ?? (isIP(target.host) === 0 ? target.host : undefined);
  const socket = tls.connect({ host: target.host, port: target.port, servername, rejectUnauthorized: !(t?.insecureSkipVerify ?? false), secureContext: t?.secureContext });
  socket.allowHalfOpen = true;
  return socket;
}

/** peerCertURI: the server certificate must name this URI among its SANs. */
function peerCertificateProblem(socket: tls.TLSSocket, dialer: TCPDialer): string | undefined {
  const uri = dialer.tls?.peerCertURI;
  if (!uri) return undefined;
  const sans = socket.getPeerCertificate().subjectaltname ?? '';
  return sans.split(', ').includes(`URI:${uri}`) ? undefined : `the server certificate has no URI SAN ${uri} (peerCertURI)`;
}

/**
 * Copies `from` to `to`; when `from` ends, `to` gets a half-close (FIN) and, as Traefik's read deadline, is closed
 * terminationDelay later unless it ended by itself.
 */
function pipeHalf(from: Socket, to: Socket, terminationDelayMs: number): void {
  const onEnd = (): void => {
    if (to.destroyed) return;
    to.end();
    if (terminationDelayMs < 0) return;
    const timer = setTimeout(() => to.destroy(), terminationDelayMs);
    to.once('close', () => clearTimeout(timer));
  };
  from.pipe(to, { end: false });
  // A peer that closed its writing before sending anything has ended already (while the server was dialled).
  if (from.readableEnded) onEnd();
  else from.once('end', onEnd);
}

/** The PROXY header announcing the client and the address it connected to. */
export function proxyHeader(client: Socket, version: 1 | 2): Buffer {
  const announced = proxiedPeer(client);
  const source = { address: unwrapMappedIPv4(announced?.address ?? client.remoteAddress ?? ''), port: announced?.port ?? client.remotePort ?? 0 };
  const destination = { address: unwrapMappedIPv4(client.localAddress ?? ''), port: client.localPort ?? 0 };
  const v4 = isIP(source.address) === 4 && isIP(destination.address) === 4;
  if (version === 1) {
    const [src, dst] = v4 ? [source.address, destination.address] : [asIPv6(source.address), asIPv6(destination.address)];
    return Buffer.from(new V1ProxyProtocol(v4 ? INETProtocol.TCP4 : INETProtocol.TCP6, new Peer(src, source.port), new Peer(dst, destination.port)).build(), 'latin1');
  }
  const address = v4
    ? new IPv4ProxyAddress(IPv4Address.createFrom(source.address.split('.').map(Number)), source.port, IPv4Address.createFrom(destination.address.split('.').map(Number)), destination.port)
    : new IPv6ProxyAddress(IPv6Address.createFrom(ipv6Bytes(asIPv6(source.address))), source.port, IPv6Address.createFrom(ipv6Bytes(asIPv6(destination.address))), destination.port);
  return Buffer.from(new V2ProxyProtocol(Command.PROXY, TransportProtocol.STREAM, address).build());
}

function asIPv6(address: string): string {
  return isIP(address) === 4 ? `::ffff:${address}` : address;
}

/** 16 bytes of an IPv6 address (`::` and a dotted IPv4 tail expanded). */
export function ipv6Bytes(address: string): number[] {
  let text = address.replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -dotted[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}
