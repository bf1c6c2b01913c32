// The server of a TLS entrypoint: reads SNI from the ClientHello, handshakes with the options chosen for that name,
// then hands HTTP/1.1 connections to the entrypoint's own HTTP server and h2 ones (ALPN) to an HTTP/2 server.
import http, { type RequestListener, type Server, type ServerOptions } from 'node:http';
import http2, { type Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { ClientHelloReader, type Logger, type ServerFactory } from '@wharf/core';
import { adaptHttp2Request, adaptHttp2Response } from './h2-request.js';
import type { HostOptions } from './hosts.js';
import { optionsFor } from './hosts.js';
import { clientCertificateRefusal, requestsCertificate, type CompiledOptions } from './options.js';
import type { StoreHolder } from './store-holder.js';
import type { LoadedCertificate } from './certificates.js';
import type { TLSSnapshot } from './store.js';

export interface TLSServerDeps {
  entrypoint: string;
  store: StoreHolder;
  /**
   * The entrypoint has no `http.tls`: TLS is decided per router, as in Traefik, so a connection that starts with
   * an HTTP request line is plain HTTP, served as on any entrypoint, and a ClientHello is a TLS one.
   */
  mixed: boolean;
  /** entryPoints.<ep>.http2.maxConcurrentStreams */
  maxConcurrentStreams: number;
  /** This entrypoint's host → options map, as of the live configuration. */
  hostOptions: () => HostOptions;
  log: Logger;
}

// TLS alert descriptions (RFC 8446 §6.2) sent when a handshake is refused before it starts.
const ALERT_INTERNAL_ERROR = 80;
const ALERT_UNRECOGNIZED_NAME = 112;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 60_000;
// RFC 9113 §3.4: the client preface begins with this line, which no HTTP/1.1 method can be mistaken for.
const H2_PREFACE_START = Buffer.from('PRI * HTTP/2.0');
/** The ALPN protocol of TLS-ALPN-01 validation connections (RFC 8737 §6.2). */
const ACME_TLS_ALPN = 'acme-tls/1';
const HTTP_ON_TLS_PORT = 'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';

type ConnectionListener = (this: Server, socket: Socket) => void;

/** Creates the ServerFactory the plugin registers for one TLS entrypoint. */
export function tlsServerFactory(deps: TLSServerDeps): ServerFactory {
  return (options, handler) => new TLSEntrypointServer(deps, options, handler).server;
}

/**
 * Wraps the core's http.Server: it keeps listening, its timeouts, upgrade handling and connection tracking apply to
 * HTTP/1.1 over TLS exactly as to plain HTTP (https.Server does the same with a tls.Server underneath).
 */
class TLSEntrypointServer {
  readonly server: Server;
  private readonly http1: ConnectionListener;
  private readonly h2: http2.Http2Server;
  private readonly sessions = new Set<Http2Session>();
  /** The connection under each HTTP/2 session: TLS, or plain for h2c. */
  private readonly connections = new WeakMap<Http2Session, Socket>();
  private handingOver: Socket | undefined;
  /** Every accepted TCP connection until it closes: destroyed by closeAllConnections. */
  private readonly sockets = new Set<Socket>();
  /** Connections that have not sent a complete ClientHello yet: idle, as far as a graceful stop is concerned. */
  private readonly awaitingHello = new Set<Socket>();
  /** HTTP/1.1 connections over TLS; those that never sent a byte are idle for a graceful stop (see closeIdle). */
  private readonly http1Sockets = new Set<TLSSocket>();
  private readonly handshakeTimeout: number;
  /** TLS servers (never listening) per options and certificate, of the snapshot they were built for. */
  private servers: { snapshot: TLSSnapshot; byOptions: Map<CompiledOptions, Map<LoadedCertificate, tls.Server>> } | undefined;
  private readonly log: Logger;

  constructor(
    private readonly deps: TLSServerDeps,
    options: ServerOptions,
    handler: RequestListener,
  ) {
    this.log = deps.log.child({ entryPoint: deps.entrypoint });
    this.server = http.createServer(options, handler);
    this.http1 = this.server.listeners('connection')[0] as ConnectionListener;
    this.server.removeAllListeners('connection');
    this.server.on('connection', (socket: Socket) => this.accept(socket));
    this.handshakeTimeout = options.headersTimeout || DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.h2 = this.createHttp2Server(options, handler);
    this.extendConnectionClosing();
  }

  /** HTTP/2 sessions run the same request handler; the compat API makes them look like HTTP/1.1 requests. */
  private createHttp2Server(options: ServerOptions, handler: RequestListener): http2.Http2Server {
    const h2 = http2.createServer({ settings: { maxHeaderListSize: options.maxHeaderSize ?? 32768, maxConcurrentStreams: this.deps.maxConcurrentStreams } });
    const http1Handler = handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;
    h2.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
      adaptHttp2Request(req, this.connections.get(req.stream.session!)!);
      adaptHttp2Response(res);
      http1Handler(req, res);
    });
    h2.on('session', (session: Http2Session) => {
      // Emitted synchronously from emit('connection') in secured(), for the socket handed over there.
      this.connections.set(session, this.handingOver!);
      this.trackSession(session);
    });
    return h2;
  }

  /** Closes sessions idle for the entrypoint's idleTimeout; sessions with streams in flight are left alone. */
  private trackSession(session: Http2Session): void {
    this.sessions.add(session);
    let streams = 0;
    session.on('stream', (stream) => {
      streams++;
      stream.once('close', () => streams--);
    });
    session.once('close', () => this.sessions.delete(session));
    const idle = this.server.keepAliveTimeout;
    if (idle > 0) session.setTimeout(idle, () => streams === 0 && session.close());
  }

  /** The core drains and force-closes through these two; h2 sessions and pending handshakes must follow. */
  private extendConnectionClosing(): void {
    const server = this.server;
    const closeIdle = server.closeIdleConnections.bind(server);
    const closeAll = server.closeAllConnections.bind(server);
    server.closeIdleConnections = () => {
      closeIdle();
      for (const socket of this.awaitingHello) socket.destroy();
      // Node counts a connection that has not sent its first request as busy (its headersTimeout runs), which
      // would hold the stop until graceTimeOut: a TLS connection with no request byte read is idle.
      for (const socket of this.http1Sockets) if (socket.bytesRead === 0) socket.destroy();
      // GOAWAY: streams in flight finish, no new ones start (RFC 9113 §6.8).
      for (const session of this.sessions) session.close();
    };
    server.closeAllConnections = () => {
      closeAll();
      for (const session of this.sessions) session.destroy();
      for (const socket of this.sockets) socket.destroy();
    };
  }

  /** Buffers the ClientHello, then starts the handshake with the options for its server name. */
  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    // http.Server makes sockets half-open for its own parser; a TLS socket must close when its peer does, as under
    // https.Server, or a client that leaves mid-handshake keeps the connection (and a graceful stop) waiting.
    const allowHalfOpen = socket.allowHalfOpen;
    socket.allowHalfOpen = false;
    const onError = (): void => void socket.destroy();
    socket.on('error', onError);
    socket.setTimeout(this.handshakeTimeout, () => socket.destroy());
    this.awaitingHello.add(socket);
    socket.once('close', () => this.awaitingHello.delete(socket));
    const reader = new ClientHelloReader();
    const onData = (chunk: Buffer) => {
      const hello = reader.push(chunk);
      if (hello.kind === 'more') return;
      this.awaitingHello.delete(socket);
      socket.off('data', onData);
      socket.pause();
      socket.setTimeout(0);
      if (hello.kind === 'hello' && hello.alpn.includes(ACME_TLS_ALPN) && this.answerChallenge(socket, reader.bytes(), hello.servername)) return;
      if (hello.kind === 'hello') this.handshake(socket, reader.bytes(), hello.servername);
      else if (hello.kind === 'http' && this.deps.mixed) this.servePlain(socket, reader.bytes(), allowHalfOpen, onError);
      else if (hello.kind === 'http') socket.end(HTTP_ON_TLS_PORT);
      else {
        this.log.debug({ remoteAddress: socket.remoteAddress }, `TLS: dropping connection: ${hello.reason}`);
        socket.destroy();
      }
    };
    socket.on('data', onData);
  }

  /**
   * TLS-ALPN-01 (RFC 8737): a validator offering `acme-tls/1` for a name with a pending challenge gets the challenge
   * certificate, then the connection closes (no application data is exchanged). False when no challenge is pending.
   */
  private answerChallenge(socket: Socket, hello: Buffer, servername: string | undefined): boolean {
    const pair = this.deps.store.challengeFor(servername);
    if (!pair) return false;
    const server = tls.createServer({ cert: pair.cert, key: pair.key, ALPNProtocols: [ACME_TLS_ALPN], handshakeTimeout: this.handshakeTimeout });
    server.on('secureConnection', (secured: TLSSocket) => secured.end());
    server.on('tlsClientError', (err: Error) => this.log.debug({ servername }, `TLS-ALPN-01 handshake failed: ${err.message}`));
    socket.unshift(hello);
    server.emit('connection', socket);
    this.log.debug({ servername }, `TLS-ALPN-01 challenge certificate served for ${servername}`);
    return true;
  }

  /**
   * A plain connection on a mixed entrypoint: HTTP/2 with prior knowledge (h2c, what gRPC clients send without TLS)
   * when it opens with the HTTP/2 preface, else HTTP/1.1 — back to the state http.Server expects, bytes put back.
   */
  private servePlain(socket: Socket, bytes: Buffer, allowHalfOpen: boolean, onError: () => void): void {
    socket.unshift(bytes);
    if (bytes.subarray(0, H2_PREFACE_START.length).equals(H2_PREFACE_START)) {
      this.handingOver = socket;
      this.h2.emit('connection', socket);
      this.handingOver = undefined;
      return;
    }
    socket.allowHalfOpen = allowHalfOpen;
    socket.off('error', onError);
    this.http1.call(this.server, socket);
    socket.resume();
  }

  private handshake(socket: Socket, hello: Buffer, servername: string | undefined): void {
    const store = this.deps.store.current;
    if (store === undefined) {
      // The first ClientHello on a mixed entrypoint: the store (default certificate) is made now, once.
      this.deps.store.ready().then(
        () => socket.destroyed || this.handshake(socket, hello, servername),
        (err: Error) => {
          this.log.error({ err }, `TLS: cannot make the default certificate: ${err.message}`);
          socket.destroy();
        },
      );
      return;
    }
    const snapshot = store.snapshot;
    const name = optionsFor(this.deps.hostOptions(), servername);
    const options = snapshot.options.get(name);
    if (!options || options instanceof Error) {
      this.log.debug({ servername, tlsOptions: name }, `TLS: refusing handshake for ${servername ?? '(no SNI)'}: TLS options '${name}' are ${options ? 'invalid' : 'not defined'}`);
      return alert(socket, ALERT_INTERNAL_ERROR);
    }
    if (options.sniStrict && !snapshot.index.match(servername)) {
      this.log.debug({ servername, tlsOptions: name }, `TLS: refusing handshake for ${servername ?? '(no SNI)'}: sniStrict and no certificate for that name`);
      return alert(socket, ALERT_UNRECOGNIZED_NAME);
    }
    socket.unshift(hello);
    this.tlsServer(snapshot, options, snapshot.certificateFor(servername)).emit('connection', socket);
  }

  /**
   * One tls.Server per options and certificate: Node applies versions, ciphers and client-certificate policy per
   * server, and the certificate is chosen here from the ClientHello already read. Node's SNICallback cannot be used
   * for it: a context it returns whose key type differs from the server's own certificate is ignored (TLS 1.3 serves
   * the server's certificate, nodejs/node#54235), so an RSA certificate behind an EC default was never served.
   */
  private tlsServer(snapshot: TLSSnapshot, options: CompiledOptions, cert: LoadedCertificate): tls.Server {
    if (this.servers?.snapshot !== snapshot) this.servers = { snapshot, byOptions: new Map() };
    let byCertificate = this.servers.byOptions.get(options);
    if (!byCertificate) this.servers.byOptions.set(options, (byCertificate = new Map()));
    let server = byCertificate.get(cert);
    if (!server) {
      server = this.createTLSServer(options, cert);
      byCertificate.set(cert, server);
    }
    return server;
  }

  private createTLSServer(options: CompiledOptions, cert: LoadedCertificate): tls.Server {
    const type = options.clientAuthType;
    const server = tls.createServer({
      ...options.context,
      cert: cert.cert,
      key: cert.key,
      requestCert: requestsCertificate(type),
      // Node fails the handshake without a certificate only together with verification; RequireAny is checked below.
      rejectUnauthorized: type === 'RequireAndVerifyClientCert',
      ALPNProtocols: [...options.alpnProtocols],
      handshakeTimeout: this.handshakeTimeout,
    });
    server.on('secureConnection', (socket: TLSSocket) => this.secured(socket, type));
    server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      this.log.debug({ remoteAddress: socket.remoteAddress, servername: socket.servername }, `TLS handshake failed: ${err.message}`);
    });
    return server;
  }

  /** After the handshake: enforce the client-certificate policy, then pick HTTP/2 or HTTP/1.1 by ALPN. */
  private secured(socket: TLSSocket, type: CompiledOptions['clientAuthType']): void {
    // Go's TLS server never renegotiates; Node's lets a client renegotiate (a CPU cost it chooses, and a client
    // certificate that could change under requests already authorised by the first).
    socket.disableRenegotiation();
    const refusal = clientCertificateRefusal(socket, type);
    if (refusal) {
      this.log.debug({ remoteAddress: socket.remoteAddress, servername: socket.servername }, `TLS: client certificate refused: ${refusal}`);
      socket.destroy();
      return;
    }
    if (socket.alpnProtocol !== 'h2') return this.serveHttp1(socket);
    this.handingOver = socket;
    this.h2.emit('connection', socket);
    this.handingOver = undefined;
  }

  private serveHttp1(socket: TLSSocket): void {
    this.http1Sockets.add(socket);
    socket.once('close', () => this.http1Sockets.delete(socket));
    this.http1.call(this.server, socket);
  }
}

/** Sends a fatal TLS alert and closes: the client gets a reason instead of a reset. */
function alert(socket: Socket, description: number): void {
  socket.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, description]));
}
