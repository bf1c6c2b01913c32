// A UDP entrypoint (`:53/udp`): one datagram socket; each client address is a session with its own upstream
// socket, opened by the router of the configuration live at its first datagram and closed after udp.timeout idle.
import { createSocket, type RemoteInfo, type Socket, type SocketType } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import type { EntryPointConfig } from '../config/static.js';
import { WharfError, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { udpListenAddress } from './address.js';
import type { UDPHandler } from './balancer.js';
import { Session, type SessionOwner } from './session.js';

export interface UDPEntrypointOptions {
  name: string;
  config: EntryPointConfig;
  /** The UDP router's service on this entrypoint in the live configuration, if any. */
  handler: () => UDPHandler | undefined;
  log: Logger;
}

export class UDPEntrypoint implements SessionOwner {
  readonly name: string;
  readonly log: Logger;
  private socket: Socket | undefined;
  private readonly sessions = new Map<string, Session>();
  private readonly timeoutMs: number;
  /** transport.maxConnections: the most sessions open at once (0 = no limit). */
  private readonly maxSessions: number;
  private sweeper: NodeJS.Timeout | undefined;
  private accepting = true;
  private onDrained: (() => void) | undefined;

  constructor(private readonly options: UDPEntrypointOptions) {
    this.name = options.name;
    this.log = options.log.child({ entryPoint: options.name });
    this.timeoutMs = options.config.udp.timeout;
    this.maxSessions = options.config.transport.maxConnections;
    if (!(this.timeoutMs > 0)) {
      throw new WharfError('WHARF_ERR_STATIC_CONFIG', `entryPoints.${options.name}.udp.timeout: must be more than 0 (an idle UDP session is closed after it), got ${this.timeoutMs}ms`);
    }
    udpListenAddress(options.config.address, options.name); // a bad address fails before anything is bound
  }

  /** Open sessions (one per client address). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Binds the address (IPv4 and IPv6 for `:port`); rejects with an error naming the entrypoint when it cannot. */
  async listen(): Promise<AddressInfo> {
    const { host, port } = udpListenAddress(this.options.config.address, this.name);
    try {
      this.socket = await bind(host, port);
    } catch (err) {
      throw new WharfError('WHARF_ERR_LISTEN', `entrypoint ${this.name}: cannot listen on ${this.options.config.address}: ${messageOf(err)}`, { cause: err });
    }
    this.socket.on('message', (message, client) => this.receive(message, client));
    this.socket.on('error', (err) => this.log.error(`UDP entrypoint ${this.name}: ${err.message}`));
    return this.socket.address();
  }

  address(): AddressInfo {
    if (!this.socket) throw new Error(`entrypoint ${this.name} is not listening`);
    return this.socket.address();
  }

  private receive(message: Buffer, client: RemoteInfo): void {
    const key = `${client.address}|${client.port}`;
    (this.sessions.get(key) ?? this.open(key, client))?.fromClient(message);
  }

  /** A first datagram from a client: the live router's service picks the server. */
  private open(key: string, client: RemoteInfo): Session | undefined {
    if (!this.accepting) return undefined;
    if (this.maxSessions > 0 && this.sessions.size >= this.maxSessions) {
      this.log.debug(`UDP entrypoint ${this.name}: ${this.sessions.size} sessions open (transport.maxConnections); datagram from ${client.address}:${client.port} dropped`);
      return undefined;
    }
    const handler = this.options.handler();
    if (!handler) {
      this.log.debug(`UDP entrypoint ${this.name}: no UDP router; datagram from ${client.address}:${client.port} dropped`);
      return undefined;
    }
    const session = new Session(key, client, this);
    this.sessions.set(key, session);
    if (!handler.serve(session)) {
      this.log.debug(`UDP entrypoint ${this.name}: the service has no server; datagram from ${client.address}:${client.port} dropped`);
      session.close();
      return undefined;
    }
    this.sweeper ??= setInterval(() => this.sweep(), Math.max(1, Math.floor(this.timeoutMs / 10))).unref();
    return session;
  }

  reply(message: Buffer, client: RemoteInfo): void {
    this.socket?.send(message, client.port, client.address);
  }

  ended(session: Session): void {
    if (this.sessions.get(session.key) === session) this.sessions.delete(session.key);
    if (this.sessions.size > 0) return;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.onDrained?.();
  }

  /** Closes the sessions idle for udp.timeout (checked every tenth of it, as Traefik does). */
  private sweep(): void {
    const idleSince = Date.now() - this.timeoutMs;
    for (const session of this.sessions.values()) if (session.lastActivity <= idleSince) session.close();
  }

  /** Stops opening sessions, lets open ones run until idle within graceMs, then closes everything. */
  async close(graceMs: number): Promise<void> {
    this.accepting = false;
    if (this.sessions.size > 0 && graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.onDrained = resolve;
        timer = setTimeout(resolve, graceMs);
      });
      clearTimeout(timer);
    }
    for (const session of [...this.sessions.values()]) session.close();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

/**
 * A bound datagram socket: for every interface `udp6` dual-stack, else (IPv6 off) `udp4` as Node's net servers
 * fall back, whose error is the one reported; for a host, its family.
 */
async function bind(host: string | undefined, port: number): Promise<Socket> {
  if (host === undefined) {
    try {
      return await bindSocket('udp6', '::', port);
    } catch {
      return bindSocket('udp4', '0.0.0.0', port);
    }
  }
  let ip = host;
  let family = isIP(host);
  if (family === 0) ({ address: ip, family } = await lookup(host));
  return bindSocket(family === 6 ? 'udp6' : 'udp4', ip, port);
}

function bindSocket(type: SocketType, address: string, port: number): Promise<Socket> {
  const socket = createSocket({ type, ipv6Only: false });
  return new Promise((resolve, reject) => {
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind({ address, port }, () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}
