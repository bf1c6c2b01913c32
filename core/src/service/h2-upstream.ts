// HTTP/2 connections to one upstream server: h2c (prior knowledge) or TLS offering h2 by ALPN, as Traefik's Go
// transport does. Requests are multiplexed on one connection until the server's stream limit, then a new one opens.
import http2, { type ClientHttp2Session } from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { errors } from 'undici';

export interface H2UpstreamOptions {
  /** 'h2c': HTTP/2 on plain TCP; 'tls': TLS offering h2 then http/1.1, the server's pick deciding. */
  mode: 'h2c' | 'tls';
  host: string;
  port: number;
  dialTimeoutMs: number;
  /** Time allowed for the response headers (forwardingTimeouts.responseHeaderTimeout); 0 = no limit. */
  responseHeaderTimeoutMs: number;
  /** Close a connection without streams after this long idle; 0 = keep it until the server closes it. */
  idleConnTimeoutMs: number;
  /** Ping the server after this long without a frame (Traefik's forwardingTimeouts.readIdleTimeout); 0 = no pings. */
  readIdleTimeoutMs: number;
  /** Close the connection when a ping is not answered within this time (forwardingTimeouts.pingTimeout). */
  pingTimeoutMs: number;
  /** TLS options (servername, verification, secure context) for mode 'tls'. */
  tls?: tls.ConnectionOptions;
}

/** One connection and the streams it carries now. */
interface Connection {
  readonly session: ClientHttp2Session;
  streams: number;
  /** Streams opened so far: client stream ids are odd numbers below 2^31, so a connection carries at most 2^30. */
  opened: number;
  /** Closes the connection once it has had no stream for idleConnTimeout; restarted when its last stream ends. */
  idle: NodeJS.Timeout | undefined;
}

// A connection this far into its stream ids takes no new streams; it closes once its streams are done.
const MAX_STREAMS_PER_CONNECTION = 2 ** 30 - 1024;

/** What `connection()` hands back: a session to open a stream on, or `http1` when the server chose HTTP/1.1. */
export type H2Pick = ClientHttp2Session | 'http1';

function ignoreError(): void {
  // The owner of the socket learns of the failure when it uses it (closed, destroyed).
}

const H2_ONLY = ['h2'];
const H2_OR_HTTP1 = ['h2', 'http/1.1'];

/**
 * The HTTP/2 side of one upstream server. `speaksH2` is false once the server answered TLS ALPN with http/1.1
 * (requests then take the HTTP/1.1 pool); until a first connection it is undefined for TLS and true for h2c.
 */
export class H2Upstream {
  speaksH2: boolean | undefined;
  /** `:scheme` of forwarded requests. */
  readonly scheme: 'http' | 'https';
  readonly responseHeaderTimeoutMs: number;
  readonly #options: H2UpstreamOptions;
  readonly #connections: Connection[] = [];
  #opening: Promise<H2Pick> | undefined = undefined;
  /** The connection on which the server chose HTTP/1.1, until the HTTP/1.1 pool takes it. */
  #http1Socket: tls.TLSSocket | undefined = undefined;
  #closed = false;

  constructor(options: H2UpstreamOptions) {
    this.#options = options;
    this.scheme = options.mode === 'h2c' ? 'http' : 'https';
    this.responseHeaderTimeoutMs = options.responseHeaderTimeoutMs;
    this.speaksH2 = options.mode === 'h2c' ? true : undefined;
  }

  /** A connection with room for one more stream, or undefined when a new one must be opened (`open`). */
  ready(): ClientHttp2Session | undefined {
    for (const c of this.#connections) {
      const session = c.session;
      if (session.closed || session.destroyed) continue;
      if (c.opened >= MAX_STREAMS_PER_CONNECTION) {
        session.close();
        continue;
      }
      const limit = session.remoteSettings.maxConcurrentStreams ?? 100;
      if (c.streams < limit) return session;
    }
    return undefined;
  }

  /** Opens a connection (or waits for the one being opened). Rejects with the connect error. */
  open(): Promise<H2Pick> {
    if (this.#closed) return Promise.reject(new errors.ClientDestroyedError());
    this.#opening ??= this.#connect().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  /** Counts a stream on its connection until it closes (the stream limit, and idle closing only without streams). */
  track(session: ClientHttp2Session, stream: http2.ClientHttp2Stream): void {
    const connection = this.#connections.find((c) => c.session === session);
    if (connection === undefined) return;
    connection.streams++;
    connection.opened++;
    stream.once('close', () => {
      if (--connection.streams === 0) connection.idle?.refresh();
    });
  }

  /** The TLS connection left by a server that chose HTTP/1.1, once, while it is still open. */
  takeHttp1Socket(): tls.TLSSocket | undefined {
    const socket = this.#http1Socket;
    this.#http1Socket = undefined;
    return socket !== undefined && !socket.destroyed && socket.readyState === 'open' ? socket : undefined;
  }

  /** Graceful close: streams in flight finish, no new ones start. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#http1Socket?.destroy();
    await Promise.all(
      this.#connections.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.session.closed || c.session.destroyed) resolve();
            else c.session.close(resolve);
          }),
      ),
    );
  }

  async #connect(): Promise<H2Pick> {
    const socket = await this.#dial();
    if (this.#options.mode === 'tls' && (socket as tls.TLSSocket).alpnProtocol !== 'h2') {
      // The server speaks HTTP/1.1 only: remember it, the HTTP/1.1 pool takes this server's requests (and this
      // connection) from now on.
      this.#http1Socket?.destroy();
      // Parked without a reader: an error (a reset) must not go unhandled; whoever takes it listens from then on.
      socket.on('error', ignoreError);
      this.#http1Socket = socket as tls.TLSSocket;
      this.speaksH2 = false;
      return 'http1';
    }
    this.speaksH2 = true;
    const authority = `${this.scheme}://${this.#options.host.includes(':') ? `[${this.#options.host}]` : this.#options.host}:${this.#options.port}`;
    const session = http2.connect(authority, { createConnection: () => socket });
    this.#adopt(session);
    return session;
  }

  /** TCP (and TLS) connection within the dial timeout. */
  #dial(): Promise<net.Socket> {
    const o = this.#options;
    return new Promise((resolve, reject) => {
      const socket =
        o.mode === 'tls'
          ? tls.connect({ ...o.tls, host: o.host, port: o.port, ALPNProtocols: this.speaksH2 === true ? H2_ONLY : H2_OR_HTTP1 })
          : net.connect({ host: o.host, port: o.port });
      socket.setNoDelay(true);
      const timer =
        o.dialTimeoutMs > 0
          ? setTimeout(() => socket.destroy(new errors.ConnectTimeoutError(`Connect Timeout Error (${o.host}:${o.port}, timeout: ${o.dialTimeoutMs}ms)`)), o.dialTimeoutMs)
          : undefined;
      const settle = (err?: Error): void => {
        clearTimeout(timer);
        socket.off('error', settle);
        if (err) reject(err);
        else resolve(socket);
      };
      socket.once('error', settle);
      socket.once(o.mode === 'tls' ? 'secureConnect' : 'connect', () => settle());
    });
  }

  #adopt(session: ClientHttp2Session): void {
    const connection: Connection = { session, streams: 0, opened: 0, idle: undefined };
    this.#connections.push(connection);
    const forget = (): void => {
      const i = this.#connections.indexOf(connection);
      if (i !== -1) this.#connections.splice(i, 1);
    };
    session.on('close', forget);
    // A session error reaches its streams too; here it only takes the connection out of rotation.
    session.on('error', forget);
    session.on('goaway', forget);
    const o = this.#options;
    if (o.idleConnTimeoutMs > 0) {
      // One timer per connection, refreshed rather than re-created: a stream in flight when it fires keeps the
      // connection, and the end of its last stream starts the count again.
      const idle = setTimeout(() => {
        if (connection.streams === 0) session.close();
      }, o.idleConnTimeoutMs);
      idle.unref();
      connection.idle = idle;
      session.once('close', () => clearTimeout(idle));
    }
    if (o.readIdleTimeoutMs > 0) {
      // Node's session timeout counts time without a frame read or written, as Go's ReadIdleTimeout counts time
      // without one read: then a ping checks the server is still there.
      session.setTimeout(o.readIdleTimeoutMs, () => this.#ping(session, o.pingTimeoutMs));
    }
    // An idle pooled connection must not keep the process alive.
    session.unref();
  }

  /** Health ping: a connection whose server does not answer within pingTimeout is closed, failing its streams fast. */
  #ping(session: ClientHttp2Session, timeoutMs: number): void {
    if (session.closed || session.destroyed) return;
    const deadline = timeoutMs > 0 ? setTimeout(() => session.destroy(new Error(`HTTP/2 ping not answered within ${timeoutMs} ms`)), timeoutMs) : undefined;
    deadline?.unref();
    session.ping((err) => {
      clearTimeout(deadline);
      if (err && !session.destroyed) session.destroy(err);
    });
  }
}
