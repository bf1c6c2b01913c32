// Connection dispatch on an entrypoint with TCP routers (Traefik's tcp.Router.ServeTCP): each accepted connection
// is looked at before the HTTP server gets it — non-TLS TCP routers first, ClientHello peeked for TLS ones, HTTPS
// routers claiming a name by their Host rule before TCP catch-alls — and handed to HTTP(S) when no TCP router takes it.
import type { Server, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { parseClientHello } from '../entrypoint/client-hello.js';
import { proxiedPeer } from '../entrypoint/proxy-protocol.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import type { TCPConnection, TLSTerminator } from '../plugin/contract.js';
import { unwrapMappedIPv4 } from '../router/request-facts.js';
import type { TCPEntrypointRoutes, TCPTarget } from './build.js';
import { POSTGRES_SSL_REQUEST, POSTGRES_STARTTLS, startsLikePostgres, type PostgresClient } from './postgres.js';
import type { ConnectionFacts } from './rule.js';
import type { TCPRouteEntry } from './table.js';

export interface TCPDispatchOptions {
  entrypoint: string;
  /** The live generation's TCP routes of this entrypoint; undefined = none, the connection goes to HTTP untouched. */
  routes: () => TCPEntrypointRoutes | undefined;
  /** The TLS plugin's terminator, for TCP routers with tls (no passthrough). */
  terminator: () => TLSTerminator | undefined;
  /** How long the first bytes may take (the entrypoint's readTimeout); 0 = no limit. */
  readTimeoutMs: number;
  log: Logger;
}

type ConnectionListener = (this: Server, socket: Socket) => void;

const RECORD_HANDSHAKE = 0x16;
const NO_PROTOCOLS: readonly string[] = [];
const ACME_TLS_ALPN = 'acme-tls/1';

/** Connections served by TCP routers, so a stop can close them (the HTTP server does not know them). */
export class TCPConnections {
  private readonly sockets = new Set<Socket>();

  add(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  get size(): number {
    return this.sockets.size;
  }

  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

/**
 * Puts the TCP dispatch in front of the server's own connection handling. An entrypoint whose live generation has
 * no TCP router pays one map lookup per connection and nothing else.
 */
export function dispatchTCP(server: Server, options: TCPDispatchOptions, tracked: TCPConnections): void {
  const handlers = server.listeners('connection') as ConnectionListener[];
  server.removeAllListeners('connection');
  const toHTTP = (socket: Socket): void => {
    for (const handler of handlers) handler.call(server, socket);
  };
  server.on('connection', function dispatchConnection(socket: Socket) {
    const routes = options.routes();
    if (routes === undefined) return toHTTP(socket);
    new ConnectionDispatch(socket, routes, options, tracked, toHTTP).start();
  });
}

class ConnectionDispatch {
  private readonly clientIP: string;
  private readonly onError = (): void => void this.socket.destroy();

  constructor(
    private readonly socket: Socket,
    private readonly routes: TCPEntrypointRoutes,
    private readonly options: TCPDispatchOptions,
    private readonly tracked: TCPConnections,
    private readonly toHTTP: (socket: Socket) => void,
  ) {
    this.clientIP = unwrapMappedIPv4(proxiedPeer(socket)?.address ?? socket.remoteAddress ?? '');
  }

  start(): void {
    this.socket.on('error', this.onError);
    // A non-TLS client may wait for the server to speak (SMTP, MySQL): with only non-TLS TCP routers and no HTTPS
    // one, the connection is routed without reading a byte, as Traefik does.
    const { plain, secure, https } = this.routes;
    if (plain.size > 0 && secure.size === 0 && !https) {
      const entry = plain.match({ serverName: '', clientIP: this.clientIP, alpn: NO_PROTOCOLS });
      if (entry) return this.serve(entry, '');
    }
    this.peek();
  }

  /** Reads until the first byte says non-TLS, or the whole ClientHello is there; the bytes are put back. */
  private peek(): void {
    const socket = this.socket;
    const timeout = this.options.readTimeoutMs;
    if (timeout > 0) socket.setTimeout(timeout, () => socket.destroy());
    let bytes: Buffer = Buffer.alloc(0);
    let postgres = false;
    // A client that closes before its first bytes say what it is (or mid-ClientHello) is done.
    const onEnd = (): void => void socket.destroy();
    const onData = (chunk: Buffer): void => {
      bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk]);
      if (!postgres && this.routes.secure.size > 0 && startsLikePostgres(bytes)) {
        if (bytes.length < POSTGRES_SSL_REQUEST.length) return;
        // Traefik's STARTTLS for Postgres: accept the SSLRequest, then route by the ClientHello that follows.
        postgres = true;
        socket.write('S');
        bytes = bytes.subarray(POSTGRES_SSL_REQUEST.length);
        if (bytes.length === 0) return;
      }
      const hello = bytes[0] === RECORD_HANDSHAKE ? parseClientHello(bytes) : undefined;
      if (hello?.kind === 'more') return;
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      socket.setTimeout(0);
      socket.unshift(bytes);
      if (postgres) return this.routePostgres(hello);
      if (hello === undefined) return this.routePlain();
      if (hello.kind !== 'hello') {
        this.options.log.debug({ remoteAddress: socket.remoteAddress }, `TCP: dropping connection: ${hello.kind === 'invalid' ? hello.reason : 'not a TLS handshake'}`);
        return void socket.destroy();
      }
      this.routeTLS({ serverName: (hello.servername ?? '').toLowerCase().replace(/\.$/, ''), clientIP: this.clientIP, alpn: hello.alpn });
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
  }

  /** After a Postgres SSLRequest only TCP routers with tls can take the connection (Traefik's servePostgres). */
  private routePostgres(hello: ReturnType<typeof parseClientHello> | undefined): void {
    if (hello?.kind !== 'hello') return void this.socket.destroy();
    const entry = this.routes.secure.match({ serverName: (hello.servername ?? '').toLowerCase().replace(/\.$/, ''), clientIP: this.clientIP, alpn: hello.alpn });
    if (!entry) return void this.socket.destroy();
    if (entry.value.tls === 'passthrough') (this.socket as Socket & PostgresClient)[POSTGRES_STARTTLS] = true;
    this.serve(entry, hello.servername?.toLowerCase() ?? '');
  }

  private routePlain(): void {
    const entry = this.routes.plain.match({ serverName: '', clientIP: this.clientIP, alpn: NO_PROTOCOLS });
    if (entry) this.serve(entry, '');
    else this.handToHTTP();
  }

  /** Traefik's order: HTTPS routers naming the SNI, TCP routers naming it, HTTPS catch-all, TCP catch-all, HTTPS. */
  private routeTLS(facts: ConnectionFacts): void {
    // TLS-ALPN-01 challenges are answered by the TLS plugin, whatever TCP router would match.
    if (facts.alpn.includes(ACME_TLS_ALPN)) return this.handToHTTP();
    if (this.routes.httpsHosts.has(facts.serverName)) return this.handToHTTP();
    const entry = this.routes.secure.match(facts);
    if (entry && !entry.rule.catchAll) return this.serve(entry, facts.serverName);
    if (this.routes.httpsCatchAll || !entry) return this.handToHTTP();
    this.serve(entry, facts.serverName);
  }

  private handToHTTP(): void {
    this.socket.off('error', this.onError);
    this.toHTTP(this.socket);
    this.socket.resume();
  }

  private serve(entry: TCPRouteEntry<TCPTarget>, serverName: string): void {
    const socket = this.socket;
    this.tracked.add(socket);
    socket.allowHalfOpen = true;
    const target = entry.value;
    const connection: TCPConnection = { socket, clientIP: this.clientIP, serverName, entrypoint: this.options.entrypoint, router: target.router };
    if (target.tls === undefined || target.tls === 'passthrough') return target.handler(connection);
    this.terminate(connection, target, target.tls.options);
  }

  private terminate(connection: TCPConnection, target: TCPTarget, options: string | undefined): void {
    const terminator = this.options.terminator();
    if (!terminator) return void connection.socket.destroy();
    terminator(connection.socket, { entrypoint: this.options.entrypoint, servername: connection.serverName || undefined, options, provider: target.provider }).then(
      (secured: TLSSocket) => {
        secured.allowHalfOpen = true;
        secured.on('error', () => secured.destroy());
        target.handler({ ...connection, socket: secured });
      },
      (err: unknown) => {
        this.options.log.debug({ router: target.router }, `TCP: TLS handshake failed: ${messageOf(err)}`);
        connection.socket.destroy();
      },
    );
  }
}
