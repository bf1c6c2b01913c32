// One entrypoint: a listening HTTP server whose requests run the entrypoint middlewares, then routing.
import http, { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import Koa from 'koa';
import compose from 'koa-compose';
import type { Middleware, WharfContext } from '../context.js';
import type { EntryPointConfig } from '../config/static.js';
import { WharfError, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { ipMatcher } from '../ip.js';
import { parseAddress } from './address.js';
import { unwrapMappedIPv4, splitTarget } from '../router/request-facts.js';
import { encodedCharacterCheck, framingProblem, type EncodedCharacters, type Rejection } from './hygiene.js';
import { contextClass, RequestState, respond } from './request-context.js';
import { withWriteTimeout } from './write-timeout.js';
import { acceptProxyProtocol, proxiedPeer } from './proxy-protocol.js';
import { connectionHeaderRemoval } from './connection-headers.js';
import { keepAliveAgeLimit, recordConnectionAge } from './keep-alive.js';
import { dispatchTCP, TCPConnections, type TCPDispatchOptions } from '../tcp/dispatch.js';

export interface EntrypointOptions {
  name: string;
  config: EntryPointConfig;
  /** Middlewares from plugins that run before routing (ping, access log, metrics), in order. */
  middlewares: Middleware[];
  /** Routing: picks the router of the current configuration and runs its chain. */
  dispatch: Middleware;
  log: Logger;
  /** Creates the server for this entrypoint (the TLS plugin provides an https/h2 one). */
  createServer?: (options: http.ServerOptions, handler: http.RequestListener) => Server;
  /** TCP routing of the live generation; connections go to HTTP untouched while the entrypoint has no TCP router. */
  tcp?: Pick<TCPDispatchOptions, 'routes' | 'terminator'>;
}

// How often Node checks header/request timeouts; its 30 s default lets slow-header clients linger far past readTimeout.
const TIMEOUT_CHECK_INTERVAL_MS = 500;

export class Entrypoint {
  readonly name: string;
  readonly server: Server;
  private draining = false;
  private readonly log: Logger;
  /** Connections relayed by TCP routers: closed when the grace period of a stop is over. */
  private readonly tcpConnections = new TCPConnections();

  constructor(private readonly options: EntrypointOptions) {
    this.name = options.name;
    this.log = options.log.child({ entryPoint: options.name });
    const handler = this.buildHandler();
    const serverOptions = serverOptionsFor(options.config);
    // Upgrades keep the bare handler: a tunnel is not bounded by writeTimeout (see withWriteTimeout).
    const respond = withWriteTimeout(handler, options.config.transport.respondingTimeouts.writeTimeout);
    this.server = (options.createServer ?? http.createServer)(serverOptions, respond);
    this.server.keepAliveTimeout = options.config.transport.respondingTimeouts.idleTimeout;
    if (options.config.transport.maxConnections > 0) this.server.maxConnections = options.config.transport.maxConnections;
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head, handler));
    const limit = options.config.http.maxHeaderBytes;
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => onClientError(err, socket, limit));
    recordConnectionAge(this.server, options.config.transport.keepAliveMaxTime);
    if (options.config.reusePort) warnReusePort(this.log, this.name);
    const readTimeoutMs = options.config.transport.respondingTimeouts.readTimeout;
    // Installed before the PROXY reader, which then runs first: TCP routers see the client it announced.
    if (options.tcp) dispatchTCP(this.server, { ...options.tcp, entrypoint: this.name, readTimeoutMs, log: this.log }, this.tcpConnections);
    const proxyProtocol = options.config.proxyProtocol;
    if (proxyProtocol !== undefined) {
      const field = `entryPoints.${this.name}.proxyProtocol.trustedIPs`;
      acceptProxyProtocol(this.server, proxyProtocol, field, options.config.transport.respondingTimeouts.readTimeout, this.log);
    }
  }

  /** Binds the address; rejects with an error naming the entrypoint when it cannot. */
  async listen(): Promise<AddressInfo> {
    const { host, port } = parseAddress(this.options.config.address, this.name);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(new WharfError('WHARF_ERR_LISTEN', `entrypoint ${this.name}: cannot listen on ${this.options.config.address}: ${err.message}`, { cause: err }));
      this.server.once('error', onError);
      this.server.listen({ host, port, ipv6Only: false }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /** Stops accepting, lets in-flight requests finish within graceMs, then closes what is left. */
  async close(graceMs: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const idleSweep = setInterval(() => this.server.closeIdleConnections(), 100);
    const force = setTimeout(() => {
      this.server.closeAllConnections();
      this.tcpConnections.destroyAll();
    }, graceMs);
    try {
      await closed;
    } finally {
      clearInterval(idleSweep);
      clearTimeout(force);
    }
  }

  private buildHandler(): http.RequestListener {
    // Koa's application is kept for what plugins reach through the context (ctx.app, the 'error' event, the
    // context/request/response prototypes); its per-request machinery is replaced by the steps below.
    const app = new Koa();
    app.silent = true;
    app.on('error', (err: Error & { status?: number; expose?: boolean }) => {
      if (!err.status || err.status >= 500) this.log.error({ err }, `request failed: ${messageOf(err)}`);
    });
    const Context = contextClass(app);
    const peers = peerCache(trustChecker(this.options.config.forwardedHeaders, `entryPoints.${this.name}.forwardedHeaders.trustedIPs`));
    const encodedProblem = encodedProblemCheck(this.options.config.http.encodedCharacters as unknown as EncodedCharacters);
    const steps = [...this.options.middlewares, this.options.dispatch];
    const chain = steps.length === 1 ? steps[0]! : (compose(steps) as unknown as Middleware);
    const name = this.name;
    const isDraining = () => this.draining;
    const removeConnectionNamed = connectionHeaderRemoval(this.options.config.forwardedHeaders.connection ?? []);
    const closeIfOld = keepAliveAgeLimit(this.options.config.transport.keepAliveMaxTime);
    return function handleRequest(req: IncomingMessage, res: ServerResponse): void {
      const peer = peers(req.socket);
      const target = splitTarget(req.url ?? '/');
      const wharf = new RequestState(name, process.hrtime.bigint(), peer.clientIP, peer.trusted);
      wharf.target = target;
      const head = (req as IncomingMessage & { wharfUpgradeHead?: Buffer }).wharfUpgradeHead;
      if (head) wharf.upgradeHead = head;
      const ctx = new Context(req, res, wharf);
      // Koa's default: a chain that answers nothing answers 404.
      res.statusCode = 404;
      if (target.authority !== undefined) req.headers.host = target.authority;
      if (!peer.trusted) dropForwardedHeaders(req.headers);
      removeConnectionNamed(req.headers);
      if (isDraining()) res.setHeader('Connection', 'close');
      else closeIfOld?.(req, res);
      const problem = framingProblem(req) ?? encodedProblem(target.rawPath);
      if (problem) {
        refuse(ctx, problem.status, problem.reason);
        finish(ctx);
        return;
      }
      run(chain, ctx);
    };
  }

  /** Upgrade requests run the same chain with a response bound to the raw socket, so plugins can still refuse them. */
  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, handler: http.RequestListener): void {
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.on('finish', () => {
      // A refused upgrade (plugin answered, no tunnel) must not leave the socket half-open.
      if (!(res as ServerResponse & { wharfTunnel?: boolean }).wharfTunnel) socket.end();
    });
    socket.on('error', () => socket.destroy());
    (req as IncomingMessage & { wharfUpgradeHead?: Buffer }).wharfUpgradeHead = head;
    handler(req, res);
  }
}

/** reusePort: Node 20's net has no SO_REUSEPORT option (22.12/23.1 add one); say what Wharf does instead. */
function warnReusePort(log: Logger, name: string): void {
  log.warn(
    { entryPoint: name },
    `entryPoints.${name}.reusePort is accepted but has no effect: Node ${process.versions.node} cannot set SO_REUSEPORT, so another process cannot listen on the same port (EADDRINUSE); use --workers to spread connections over several processes`,
  );
}

const RESOLVED = Promise.resolve();
const endOfChain = (): Promise<void> => RESOLVED;

/** Runs the chain, then writes what it answered (unless the proxy step did); an error is answered by Koa's ctx.onerror. */
function run(chain: Middleware, ctx: WharfContext): void {
  let running: Promise<void>;
  try {
    running = chain(ctx, endOfChain);
  } catch (err) {
    fail(ctx, err);
    return;
  }
  running.then(
    () => finish(ctx),
    (err: unknown) => fail(ctx, err),
  );
}

function finish(ctx: WharfContext): void {
  if (ctx.respond === false) return;
  try {
    respond(ctx);
  } catch (err) {
    fail(ctx, err);
  }
}

function fail(ctx: WharfContext, err: unknown): void {
  try {
    ctx.onerror(err as Error);
  } catch {
    // onerror itself failed (a hostile error object): the connection is all that is left to close.
    ctx.res.destroy();
  }
}

/** Answers a request refused before routing, and closes the connection: its framing cannot be trusted. */
function refuse(ctx: WharfContext, status: number, reason: string): void {
  ctx.status = status;
  ctx.set('Connection', 'close');
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = `${status === 400 ? 'Bad Request' : 'Refused'}: ${reason}\n`;
}

function serverOptionsFor(config: EntryPointConfig): http.ServerOptions {
  const read = config.transport.respondingTimeouts.readTimeout;
  return {
    maxHeaderSize: config.http.maxHeaderBytes,
    requestTimeout: read,
    headersTimeout: read,
    keepAliveTimeout: config.transport.respondingTimeouts.idleTimeout,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    insecureHTTPParser: false,
    requireHostHeader: true,
    ...(config.transport.keepAliveMaxRequests > 0 ? { maxRequestsPerSocket: config.transport.keepAliveMaxRequests } : {}),
  } as http.ServerOptions;
}

/** Answers malformed requests like a strict server: 431 for oversized heads, 400 otherwise, then closes. */
function onClientError(err: NodeJS.ErrnoException, socket: Duplex, headerLimit: number): void {
  if (!socket.writable || (err as { bytesParsed?: number }).bytesParsed === undefined && err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const status = clientErrorStatus(err, headerLimit);
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

// Forwarded headers that plugins set (stripPrefix sets X-Forwarded-Prefix): from an untrusted peer they are
// dropped before any plugin runs, so a client cannot pose as an earlier proxy.
const FORWARDED_FROM_PLUGINS = ['x-forwarded-prefix', 'x-forwarded-uri', 'x-forwarded-method', 'x-forwarded-tls-client-cert', 'x-forwarded-tls-client-cert-info'];

function dropForwardedHeaders(headers: IncomingMessage['headers']): void {
  for (const name of FORWARDED_FROM_PLUGINS) if (headers[name] !== undefined) delete headers[name];
}

function clientErrorStatus(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, headerLimit: number): string {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  if (err.code !== 'HPE_HEADER_OVERFLOW') return '400 Bad Request';
  // The request line alone already exceeds the limit: the target is what is too long.
  const lineEnd = err.rawPacket?.indexOf('\n') ?? -1;
  return lineEnd === -1 || lineEnd >= headerLimit ? '414 URI Too Long' : '431 Request Header Fields Too Large';
}

/** What Wharf decides once per connection about its peer. */
interface Peer {
  /** The TCP peer, IPv4-mapped IPv6 unwrapped. */
  readonly clientIP: string;
  /** Whether its forwarded headers are trusted. */
  readonly trusted: boolean;
}

const PEER = Symbol('wharf.peer');
type PeerSocket = Socket & { [PEER]?: Peer };

/** The peer facts of a connection, computed on its first request and kept on the socket for the next ones. */
function peerCache(trust: (ip: string) => boolean): (socket: Socket) => Peer {
  return (socket) => {
    const known = (socket as PeerSocket)[PEER];
    if (known !== undefined) return known;
    // Behind a PROXY-protocol load balancer the client is the address its header announced (Traefik's RemoteAddr).
    const clientIP = unwrapMappedIPv4(proxiedPeer(socket)?.address ?? socket.remoteAddress ?? '');
    const peer: Peer = { clientIP, trusted: trust(clientIP) };
    (socket as PeerSocket)[PEER] = peer;
    return peer;
  };
}

/** The entrypoint's encodedCharacters switches as one check of the raw path (RFC 3986 path, query excluded). */
function encodedProblemCheck(config: EncodedCharacters): (rawPath: string) => Rejection | undefined {
  const check = encodedCharacterCheck(config);
  return (rawPath) => {
    const what = check(rawPath);
    return what ? { status: 400, reason: `the path contains ${what}, which this entrypoint does not allow` } : undefined;
  };
}

/** forwardedHeaders.trustedIPs / insecure → a check against the TCP peer. */
function trustChecker(config: EntryPointConfig['forwardedHeaders'], field: string): (ip: string) => boolean {
  if (config.insecure) return () => true;
  if (config.trustedIPs.length === 0) return () => false;
  return ipMatcher(config.trustedIPs, field);
}
