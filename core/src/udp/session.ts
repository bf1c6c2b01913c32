// One UDP session: the datagrams of one client address, relayed through one upstream socket of its own, so the
// server's replies come back to that client (Traefik's pkg/udp Conn + Proxy).
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup } from 'node:dns';
import type { Logger } from '../log.js';
import type { UDPTarget } from './address.js';

/** What a session needs from its entrypoint. */
export interface SessionOwner {
  /** Sends a server's datagram back to the client, from the entrypoint's socket. */
  reply(message: Buffer, client: RemoteInfo): void;
  /** The session is over: forget it. */
  ended(session: Session): void;
  readonly log: Logger;
}

// Datagrams a client sends while its upstream socket is being set up; beyond this they are dropped, as a full
// socket buffer would drop them.
const MAX_QUEUED = 64;

export class Session {
  /** Date.now() of the last datagram either way: the entrypoint closes sessions idle longer than udp.timeout. */
  lastActivity = Date.now();
  private upstream: Socket | undefined;
  /** Datagrams waiting for the upstream socket; undefined once it is connected. */
  private queue: Buffer[] | undefined = [];
  private closed = false;

  constructor(
    readonly key: string,
    readonly client: RemoteInfo,
    private readonly owner: SessionOwner,
  ) {}

  /** A datagram from the client. */
  fromClient(message: Buffer): void {
    if (this.closed) return;
    this.lastActivity = Date.now();
    if (this.queue === undefined) this.upstream!.send(message);
    else if (this.queue.length < MAX_QUEUED) this.queue.push(message);
  }

  /** Opens the upstream socket to the chosen server (resolving a host name first). */
  dial(target: UDPTarget): void {
    if (target.family !== 0) return this.connect(target, target.host, target.family);
    lookup(target.host, (err, ip, family) => {
      if (this.closed) return;
      if (err) return this.fail(target, err);
      this.connect(target, ip, family === 6 ? 6 : 4);
    });
  }

  private connect(target: UDPTarget, ip: string, family: 4 | 6): void {
    if (this.closed) return;
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    this.upstream = socket;
    socket.on('message', (message) => {
      this.lastActivity = Date.now();
      this.owner.reply(message, this.client);
    });
    // ICMP port unreachable (ECONNREFUSED) and the like end the session, as a failed read does in Traefik.
    socket.on('error', (err) => this.fail(target, err));
    socket.connect(target.port, ip, () => {
      const queued = this.queue ?? [];
      this.queue = undefined;
      for (const message of queued) socket.send(message);
    });
  }

  private fail(target: UDPTarget, err: Error): void {
    this.owner.log.debug({ server: target.address }, `UDP session from ${this.client.address}:${this.client.port} to ${target.address} ended: ${err.message}`);
    this.close();
  }

  /** Closes the upstream socket; later datagrams from the client open a new session. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = undefined;
    try {
      this.upstream?.close();
    } catch {
      // already closed by an error
    }
    this.owner.ended(this);
  }
}
