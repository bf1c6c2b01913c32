// HTTP/2 upstreams over real sockets: h2c:// and https:// (h2 by ALPN, HTTP/1.1 when the server picks it),
// disableHTTP2, multiplexing, trailers, failures (refused, timeouts), upgrades kept on HTTP/1.1, client aborts.
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { closedPort, eventually, makeCA, makeCert, type Pem } from '@wharf/test-helpers';
import { onResponseHeaders, type Middleware } from '../context.js';
import { createLoadBalancerHandler, type ServiceHandler } from './handler.js';
import { silentTcpServer, startGateway, request, type Gateway } from './harness.test.helper.js';
import { PoolRegistry, type ServersTransport } from './pool.js';

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;
type Handler = (req: AnyRequest, res: AnyResponse) => void;

interface Upstream {
  port: number;
  /** What each request looked like upstream. */
  seen: Array<{ version: string; method: string; url: string; authority: string | undefined; forwardedFor: string | undefined; body: string }>;
  /** TCP connections accepted. */
  connections: number;
  /** HTTP/2 connections accepted, and closed. */
  sessions: number;
  sessionsClosed: number;
  server: http.Server | http2.Http2Server | http2.Http2SecureServer | https.Server;
  close(): Promise<void>;
}

/** Records each request (body read whole), then hands it to `answer`. */
async function startUpstream(kind: 'h2c' | 'http1' | 'h2tls' | 'https1', answer: Handler = echo, tls?: Pem): Promise<Upstream> {
  const upstream: Upstream = { port: 0, seen: [], connections: 0, sessions: 0, sessionsClosed: 0, server: undefined!, close: undefined! };
  const handler = (req: AnyRequest, res: AnyResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const authority = (req.headers[':authority'] as string | undefined) ?? req.headers.host;
      upstream.seen.push({ version: req.httpVersion, method: req.method!, url: req.url!, authority, forwardedFor: req.headers['x-forwarded-for'] as string | undefined, body: Buffer.concat(chunks).toString() });
      answer(req, res);
    });
  };
  const h = handler as unknown as http.RequestListener;
  const server =
    kind === 'h2c'
      ? http2.createServer(handler)
      : kind === 'h2tls'
        ? http2.createSecureServer({ ...tls!, allowHTTP1: true }, handler)
        : kind === 'https1'
          ? https.createServer(tls!, h)
          : http.createServer(h);
  server.on('connection', () => upstream.connections++);
  (server as http2.Http2Server).on('session', (session: http2.ServerHttp2Session) => {
    upstream.sessions++;
    session.on('close', () => upstream.sessionsClosed++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.port = (server.address() as AddressInfo).port;
  upstream.server = server;
  upstream.close = () =>
    new Promise((resolve) => {
      (server as http.Server).closeAllConnections?.();
      server.close(() => resolve());
    });
  return upstream;
}

function echo(req: AnyRequest, res: AnyResponse): void {
  (res as ServerResponse).writeHead(200, { 'content-type': 'text/plain' });
  res.end(`${req.method} ${req.url}`);
}

const pools = new PoolRegistry();
const handlers: ServiceHandler[] = [];
const closers: Array<() => Promise<void>> = [];

async function gatewayTo(urls: string[], transport?: ServersTransport, before?: Middleware): Promise<Gateway> {
  const handler = createLoadBalancerHandler({ service: 'grpc@test', pools, servers: urls.map((url) => ({ url })), ...(transport ? { transport } : {}) });
  handlers.push(handler);
  const service = handler.middleware;
  const gateway = await startGateway(before ? (ctx, next) => before(ctx, () => service(ctx, next)) : service);
  closers.push(() => gateway.close());
  return gateway;
}

async function upstream(kind: Parameters<typeof startUpstream>[0], answer?: Handler, tls?: Pem): Promise<Upstream> {
  const u = await startUpstream(kind, answer, tls);
  closers.push(() => u.close());
  return u;
}

let ca: Pem;
let cert: Pem;
before(async () => {
  ca = await makeCA();
  cert = await makeCert(['upstream.test'], { ca });
});

after(async () => {
  for (const h of handlers) h.release();
  await pools.closeAll();
  for (const close of closers.reverse()) await close();
});

const tlsTransport = (): ServersTransport => ({ rootCAs: [ca.cert], serverName: 'upstream.test' });

describe('h2c:// servers', () => {
  it('get HTTP/2: method, path and query, the client Host as :authority, forwarded headers, a streamed body', async () => {
    const u = await upstream('h2c');
    const gw = await gatewayTo([`h2c://127.0.0.1:${u.port}`]);
    const reply = await request(gw.url, { method: 'POST', path: '/svc/Call?x=1', headers: { host: 'client.example', 'transfer-encoding': 'chunked' }, body: 'payload' });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), 'POST /svc/Call?x=1');
    assert.deepEqual(u.seen, [{ version: '2.0', method: 'POST', url: '/svc/Call?x=1', authority: 'client.example', forwardedFor: '127.0.0.1', body: 'payload' }]);
  });

  it('relay response trailers to an HTTP/1.1 client that asked for them (TE: trailers)', async () => {
    const u = await upstream('h2c', (_req, res) => {
      const r = res as Http2ServerResponse;
      r.writeHead(200, { 'content-type': 'application/grpc' });
      r.write('data');
      r.addTrailers({ 'grpc-status': '0', 'x-sum': 'abc' });
      r.end();
    });
    const gw = await gatewayTo([`h2c://127.0.0.1:${u.port}`]);
    const reply = await request(gw.url, { headers: { te: 'trailers' } });
    assert.equal(reply.body.toString(), 'data');
    assert.deepEqual({ ...reply.trailers }, { 'grpc-status': '0', 'x-sum': 'abc' });
  });

  it('share one connection between concurrent requests (multiplexed streams)', async () => {
    const waiting: AnyResponse[] = [];
    const u = await upstream('h2c', (_req, res) => {
      waiting.push(res);
      // Every request is held until all five are in: they are open at the same time.
      if (waiting.length === 5) for (const r of waiting) r.end('ok');
    });
    const gw = await gatewayTo([`h2c://127.0.0.1:${u.port}`]);
    const replies = await Promise.all(Array.from({ length: 5 }, (_, i) => request(gw.url, { path: `/${i}` })));
    assert.deepEqual(replies.map((r) => r.status), [200, 200, 200, 200, 200]);
    assert.equal(u.sessions, 1);
  });

  it('idleConnTimeout closes a connection left without streams; the next request opens another', async () => {
    const u = await upstream('h2c');
    const gw = await gatewayTo([`h2c://127.0.0.1:${u.port}`], { idleConnTimeoutMs: 100 });
    assert.equal((await request(gw.url, { path: '/first' })).status, 200);
    await eventually(() => u.sessionsClosed === 1, 'the idle connection closed');
    assert.equal((await request(gw.url, { path: '/second' })).status, 200);
    assert.equal(u.sessions, 2);
  });

  it('with disableHTTP2 get HTTP/1.1', async () => {
    const u = await upstream('http1');
    const gw = await gatewayTo([`h2c://127.0.0.1:${u.port}`], { disableHTTP2: true });
    assert.equal((await request(gw.url, { path: '/plain' })).status, 200);
    assert.equal(u.seen[0]?.version, '1.1');
  });

  it('a refused connection is answered 502, and a GET is retried on the next server', async () => {
    const closed = await closedPort();
    const alone = await gatewayTo([`h2c://127.0.0.1:${closed}`]);
    assert.equal((await request(alone.url)).status, 502);
    const u = await upstream('h2c');
    const two = await gatewayTo([`h2c://127.0.0.1:${closed}`, `h2c://127.0.0.1:${u.port}`]);
    for (let i = 0; i < 2; i++) assert.equal((await request(two.url, { path: `/try${i}` })).status, 200);
    assert.equal(u.seen.length, 2);
  });

  it('a response hook that throws is a 502, not a crash', async () => {
    const u = await upstream('h2c');
    const throwing: Middleware = async (ctx, next) => {
      onResponseHeaders(ctx, () => {
        throw new Error('hook failed');
      });
      await next();
    };
    const gw = await gatewayTo([`h2c://127.0.0.1:${u.port}`], undefined, throwing);
    assert.equal((await request(gw.url)).status, 502);
    assert.equal(u.seen.length, 1);
  });

  it('responseHeaderTimeout answers 504 when the head is late', async () => {
    const u = await upstream('h2c', () => undefined);
    const gw = await gatewayTo([`h2c://127.0.0.1:${u.port}`], { responseHeaderTimeoutMs: 100 });
    assert.equal((await request(gw.url)).status, 504);
  });

  it('readIdleTimeout pings the connection; one whose pings go unanswered (pingTimeout) is closed, failing its requests', async () => {
    // A server that accepts the connection and then says nothing: no answer, no ping acknowledgement.
    const silent = await silentTcpServer();
    closers.push(() => silent.close());
    const gw = await gatewayTo([`h2c://127.0.0.1:${silent.port}`], { readIdleTimeoutMs: 50, pingTimeoutMs: 100 });
    assert.equal((await request(gw.url, { path: '/stuck' })).status, 502);
  });

  it('a client that leaves resets the upstream stream (CANCEL)', async () => {
    const resets: number[] = [];
    const u = await upstream('h2c', (req, res) => {
      const r = res as Http2ServerResponse;
      r.writeHead(200);
      r.write('first');
      (req as Http2ServerRequest).stream.on('close', () => resets.push((req as Http2ServerRequest).stream.rstCode));
    });
    const gw = await gatewayTo([`h2c://127.0.0.1:${u.port}`]);
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${gw.url}/stream`, { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    });
    await eventually(() => resets.length === 1, 'the upstream stream closed');
    assert.deepEqual(resets, [http2.constants.NGHTTP2_CANCEL]);
  });

  it('upgrades (WebSocket) still go over HTTP/1.1 to the same address', async () => {
    const u = await upstream('http1');
    (u.server as http.Server).on('upgrade', (_req, socket) => {
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\nhello');
    });
    const gw = await gatewayTo([`h2c://127.0.0.1:${u.port}`]);
    const greeting = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${gw.url}/ws`, { headers: { connection: 'Upgrade', upgrade: 'test' }, agent: false });
      req.on('upgrade', (res, socket, head) => {
        assert.equal(res.statusCode, 101);
        const chunks: Buffer[] = [head];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(greeting, 'hello');
  });
});

describe('https:// servers', () => {
  it('get h2 when they offer it by ALPN', async () => {
    const u = await upstream('h2tls', echo, cert);
    const gw = await gatewayTo([`https://127.0.0.1:${u.port}`], tlsTransport());
    assert.equal((await request(gw.url, { path: '/a' })).status, 200);
    assert.equal(u.seen[0]?.version, '2.0');
  });

  it('with disableHTTP2 get HTTP/1.1 even when they offer h2', async () => {
    const u = await upstream('h2tls', echo, cert);
    const gw = await gatewayTo([`https://127.0.0.1:${u.port}`], { ...tlsTransport(), disableHTTP2: true });
    assert.equal((await request(gw.url, { path: '/b' })).status, 200);
    assert.equal(u.seen[0]?.version, '1.1');
  });

  it('that speak HTTP/1.1 only get HTTP/1.1 (the ALPN answer decides), on the connection that asked', async () => {
    const u = await upstream('https1', echo, cert);
    const gw = await gatewayTo([`https://127.0.0.1:${u.port}`], tlsTransport());
    for (const path of ['/c', '/d']) assert.equal((await request(gw.url, { path })).body.toString(), `GET ${path}`);
    assert.deepEqual(u.seen.map((s) => s.version), ['1.1', '1.1']);
    assert.equal(u.connections, 1, 'the connection whose ALPN said http/1.1 carries the requests');
  });

  it('an unverifiable certificate is a 502, as over HTTP/1.1', async () => {
    const u = await upstream('h2tls', echo, cert);
    const gw = await gatewayTo([`https://127.0.0.1:${u.port}`], { serverName: 'upstream.test' });
    assert.equal((await request(gw.url)).status, 502);
    assert.equal(u.seen.length, 0);
  });
});
