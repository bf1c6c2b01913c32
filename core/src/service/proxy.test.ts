// Tests for the streaming proxy step over real sockets: headers, framing, errors, aborts, memory, upgrades.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import net from 'node:net';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { once } from 'node:events';
import WebSocket, { WebSocketServer } from 'ws';
import { closedPort, startServer, type Listening } from '@wharf/test-helpers';
import type { Middleware, WharfState } from '../context.js';
import { onResponseHeaders, replaceRequestBody } from '../context.js';
import {
  MiB,
  generated,
  peakRssGrowth,
  request,
  silentTcpServer,
  startGateway,
  type Gateway,
} from './harness.test.helper.js';
import { createPool, type ServersTransport } from './pool.js';
import { createProxyStep, createProxyTarget, type ProxyLogger } from './proxy.js';

interface Warning {
  obj: Record<string, unknown>;
  msg: string;
}

function recordingLogger(): ProxyLogger & { warnings: Warning[] } {
  const warnings: Warning[] = [];
  return { warnings, warn: (obj, msg) => warnings.push({ obj: obj as Record<string, unknown>, msg }) };
}

interface ProxyOptions {
  passHostHeader?: boolean;
  transport?: ServersTransport;
  log?: ProxyLogger;
  state?: Partial<WharfState>;
  before?: Middleware;
}

/** Gateway whose only service is the proxy step to `url`. */
async function proxyTo(url: string, options: ProxyOptions = {}): Promise<Gateway> {
  const pool = createPool(url, options.transport);
  const target = createProxyTarget(url, pool);
  const step = createProxyStep({ passHostHeader: options.passHostHeader, log: options.log });
  const handler: Middleware = async (ctx, next) => {
    if (options.before) await options.before(ctx, async () => undefined);
    await step.forward(ctx, target);
    void next;
  };
  const gateway = await startGateway(handler, options.state);
  const close = gateway.close;
  return {
    ...gateway,
    close: async () => {
      await close();
      await pool.destroy();
    },
  };
}

/** Backend answering with the request headers it received, as JSON. */
function echoHeadersBackend(): Promise<Listening> {
  return startServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.headers));
  });
}

describe('proxy: request headers', () => {
  let backend: Listening;
  before(async () => {
    backend = await echoHeadersBackend();
  });
  after(() => backend.close());

  it('replaces X-Forwarded-* and X-Real-Ip from an untrusted peer', async () => {
    const gateway = await proxyTo(backend.url);
    try {
      const reply = await request(gateway.url, {
        headers: {
          host: 'shop.example:8443',
          'x-forwarded-for': '1.1.1.1',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'evil.example',
          'x-forwarded-port': '1',
          'x-forwarded-server': 'spoofed',
          'x-real-ip': '9.9.9.9',
        },
      });
      const seen = JSON.parse(reply.body.toString());
      assert.equal(seen['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen['x-forwarded-proto'], 'http');
      assert.equal(seen['x-forwarded-host'], 'shop.example:8443');
      assert.equal(seen['x-forwarded-port'], '8443');
      assert.equal(seen['x-forwarded-server'], hostname());
      assert.equal(seen['x-real-ip'], '127.0.0.1');
    } finally {
      await gateway.close();
    }
  });

  it('keeps a trusted peer\'s forwarded headers and appends it to X-Forwarded-For', async () => {
    const gateway = await proxyTo(backend.url, { state: { trustForwarded: true } });
    try {
      const reply = await request(gateway.url, {
        headers: {
          host: 'shop.example',
          'x-forwarded-for': '1.1.1.1, 2.2.2.2',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'front.example',
          'x-real-ip': '1.1.1.1',
        },
      });
      const seen = JSON.parse(reply.body.toString());
      assert.equal(seen['x-forwarded-for'], '1.1.1.1, 2.2.2.2, 127.0.0.1');
      assert.equal(seen['x-forwarded-proto'], 'https');
      assert.equal(seen['x-forwarded-host'], 'front.example');
      assert.equal(seen['x-forwarded-port'], '443', 'no port in Host: the forwarded scheme decides');
      assert.equal(seen['x-real-ip'], '1.1.1.1');
    } finally {
      await gateway.close();
    }
  });

  it('removes hop-by-hop headers and those named in Connection, but not the forwarded ones', async () => {
    for (const trustForwarded of [false, true]) {
      const gateway = await proxyTo(backend.url, { state: { trustForwarded } });
      try {
        const reply = await request(gateway.url, {
          headers: {
            connection: 'keep-alive, X-Foo, X-Forwarded-For, X-Real-Ip, Host',
            'keep-alive': 'timeout=5',
            'x-foo': 'drop me',
            'x-bar': 'keep me',
            'proxy-authorization': 'Basic Zm9vOmJhcg==',
            'proxy-connection': 'keep-alive',
            te: 'gzip',
            'x-forwarded-for': '6.6.6.6',
            host: 'shop.example',
          },
        });
        const seen = JSON.parse(reply.body.toString());
        for (const name of ['x-foo', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te']) {
          assert.equal(seen[name], undefined, `${name} must not reach the backend`);
        }
        assert.equal(seen['x-bar'], 'keep me');
        assert.equal(seen.host, 'shop.example', 'Host survives being named in Connection');
        assert.equal(seen['x-forwarded-for'], trustForwarded ? '6.6.6.6, 127.0.0.1' : '127.0.0.1');
        assert.equal(seen['x-real-ip'], '127.0.0.1');
      } finally {
        await gateway.close();
      }
    }
  });

  it('forwards the client Host with passHostHeader, the server\'s without', async () => {
    const passing = await proxyTo(backend.url);
    const rewriting = await proxyTo(backend.url, { passHostHeader: false });
    try {
      const passed = JSON.parse((await request(passing.url, { headers: { host: 'shop.example' } })).body.toString());
      assert.equal(passed.host, 'shop.example');
      const rewritten = JSON.parse((await request(rewriting.url, { headers: { host: 'shop.example' } })).body.toString());
      assert.equal(rewritten.host, `127.0.0.1:${backend.port}`);
      assert.equal(rewritten['x-forwarded-host'], 'shop.example');
    } finally {
      await passing.close();
      await rewriting.close();
    }
  });

  it('sends the request path and query as the plugins left them', async () => {
    const target = await startServer((req, res) => res.end(req.url));
    const gateway = await proxyTo(target.url, {
      before: async (ctx) => {
        ctx.path = ctx.path.replace(/^\/api/, '') || '/';
      },
    });
    try {
      const reply = await request(gateway.url, { path: '/api/items/7?sort=asc&q=%20x' });
      assert.equal(reply.body.toString(), '/items/7?sort=asc&q=%20x');
    } finally {
      await gateway.close();
      await target.close();
    }
  });
});

describe('proxy: responses', () => {
  it('strips hop-by-hop response headers, runs header hooks, records the upstream', async () => {
    const backend = await startServer((_req, res) => {
      res.setHeader('connection', 'keep-alive, X-Resp');
      res.setHeader('x-resp', 'hop only');
      res.setHeader('proxy-authenticate', 'Basic');
      res.setHeader('x-internal', 'secret');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.statusCode = 201;
      res.end('created');
    });
    const seenStatus: number[] = [];
    const gateway = await proxyTo(backend.url, {
      before: async (ctx) => {
        onResponseHeaders(ctx, (status, headers) => {
          seenStatus.push(status);
          delete headers['x-internal'];
          headers['x-added'] = 'by hook';
        });
      },
    });
    try {
      const reply = await request(gateway.url);
      assert.equal(reply.status, 201);
      assert.equal(reply.body.toString(), 'created');
      assert.equal(reply.headers['x-resp'], undefined);
      assert.equal(reply.headers['proxy-authenticate'], undefined);
      assert.equal(reply.headers['x-internal'], undefined);
      assert.equal(reply.headers['x-added'], 'by hook');
      assert.deepEqual(reply.headers['set-cookie'], ['a=1', 'b=2']);
      assert.equal(reply.headers['content-length'], '7', 'upstream Content-Length preserved');
      assert.deepEqual(seenStatus, [201]);
      await Promise.all(gateway.finished);
      const upstream = gateway.states[0]!.upstream!;
      assert.equal(upstream.url, backend.url);
      assert.equal(upstream.status, 201);
      assert.equal(upstream.bytes, 7);
      assert.ok(upstream.durationNs! > 0n);
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('streams a chunked upload and a chunked download', async () => {
    const backend = await startServer(async (req, res) => {
      const hash = createHash('sha256');
      for await (const chunk of req) hash.update(chunk as Buffer);
      res.write(`te=${req.headers['transfer-encoding']};`);
      res.end(hash.digest('hex'));
    });
    const gateway = await proxyTo(backend.url);
    try {
      const reply = await request(gateway.url, { method: 'POST', body: generated(300_000, 1000) });
      const expected = createHash('sha256').update(Buffer.alloc(300_000, 0x61)).digest('hex');
      assert.equal(reply.body.toString(), `te=chunked;${expected}`);
      assert.equal(reply.headers['transfer-encoding'], 'chunked');
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('relays trailers only to clients that sent TE: trailers', async () => {
    const backend = await startServer((req, res) => {
      res.setHeader('trailer', 'x-checksum');
      res.setHeader('x-te-seen', String(req.headers.te));
      res.write('part 1;');
      res.write('part 2');
      res.addTrailers({ 'x-checksum': 'abc123' });
      res.end();
    });
    const gateway = await proxyTo(backend.url);
    try {
      const wanted = await request(gateway.url, { headers: { te: 'trailers' } });
      assert.equal(wanted.body.toString(), 'part 1;part 2');
      assert.equal(wanted.headers['x-te-seen'], 'trailers', 'the trailers wish reaches the backend');
      assert.equal(wanted.headers.trailer, 'x-checksum');
      assert.deepEqual(wanted.trailers, { 'x-checksum': 'abc123' });

      const plain = await request(gateway.url);
      assert.equal(plain.body.toString(), 'part 1;part 2');
      assert.equal(plain.headers.trailer, undefined);
      assert.deepEqual(plain.trailers, {});
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('answers HEAD without a body, keeping Content-Length', async () => {
    const backend = await startServer((req, res) => {
      res.setHeader('content-length', '1234');
      res.setHeader('x-method', req.method!);
      res.end();
    });
    const gateway = await proxyTo(backend.url);
    try {
      const reply = await request(gateway.url, { method: 'HEAD' });
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['x-method'], 'HEAD');
      assert.equal(reply.headers['content-length'], '1234');
      assert.equal(reply.body.length, 0);
      // The connection stays usable: a second request on the gateway still works.
      assert.equal((await request(gateway.url, { method: 'HEAD' })).status, 200);
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('lets an Expect: 100-continue client send its body', async () => {
    const backend = await startServer(async (req, res) => {
      let size = 0;
      for await (const chunk of req) size += (chunk as Buffer).length;
      res.end(`expect=${req.headers.expect};size=${size}`);
    });
    const gateway = await proxyTo(backend.url);
    try {
      const body = Buffer.alloc(10_000, 0x62);
      const reply = await new Promise<{ continued: boolean; text: string }>((resolve, reject) => {
        let continued = false;
        const req = http.request(`${gateway.url}/upload`, {
          method: 'PUT',
          agent: false,
          headers: { expect: '100-continue', 'content-length': body.length },
        });
        req.on('continue', () => {
          continued = true;
          req.end(body);
        });
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ continued, text }));
        });
        req.on('error', reject);
      });
      assert.equal(reply.continued, true);
      assert.equal(reply.text, 'expect=undefined;size=10000');
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('relays 103 Early Hints before the final response', async () => {
    const backend = await startServer((_req, res) => {
      res.writeEarlyHints({ link: '</app.css>; rel=preload; as=style' });
      setTimeout(() => res.end('page'), 20);
    });
    const gateway = await proxyTo(backend.url);
    try {
      const informational: { status: number; link: unknown }[] = [];
      const text = await new Promise<string>((resolve, reject) => {
        const req = http.get(gateway.url, { agent: false }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve(body));
        });
        req.on('information', (info) => informational.push({ status: info.statusCode, link: info.headers.link }));
        req.on('error', reject);
      });
      assert.equal(text, 'page');
      assert.deepEqual(informational, [{ status: 103, link: '</app.css>; rel=preload; as=style' }]);
    } finally {
      await gateway.close();
      await backend.close();
    }
  });
});

describe('proxy: upstream failures', () => {
  it('answers 502 Bad Gateway on a refused connection and logs it once', async () => {
    const log = recordingLogger();
    const url = `http://127.0.0.1:${await closedPort()}`;
    const gateway = await proxyTo(url, { log });
    try {
      const reply = await request(gateway.url);
      assert.equal(reply.status, 502);
      assert.equal(reply.body.toString(), 'Bad Gateway');
      assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
      await Promise.all(gateway.finished);
      assert.equal(log.warnings.length, 1);
      const [warning] = log.warnings;
      assert.equal(warning!.obj.router, 'r@test');
      assert.equal(warning!.obj.service, 's@test');
      assert.equal(warning!.obj.server, url);
      assert.equal((warning!.obj.err as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    } finally {
      await gateway.close();
    }
  });

  it('answers 504 Gateway Timeout when response headers do not come in time', async () => {
    const silent = await startServer(() => {
      // Never answers.
    });
    const log = recordingLogger();
    const gateway = await proxyTo(silent.url, { transport: { responseHeaderTimeoutMs: 150 }, log });
    try {
      const started = Date.now();
      const reply = await request(gateway.url);
      assert.equal(reply.status, 504);
      assert.equal(reply.body.toString(), 'Gateway Timeout');
      assert.ok(Date.now() - started >= 140);
      await Promise.all(gateway.finished);
      assert.equal(log.warnings.length, 1);
    } finally {
      await gateway.close();
      await silent.close();
    }
  });

  it('answers 504 Gateway Timeout when connecting takes longer than dialTimeout', async () => {
    // TCP connects but the TLS handshake never completes: undici's connect timeout covers both.
    const silent = await silentTcpServer();
    const log = recordingLogger();
    const gateway = await proxyTo(`https://127.0.0.1:${silent.port}`, { transport: { dialTimeoutMs: 150 }, log });
    try {
      const reply = await request(gateway.url);
      assert.equal(reply.status, 504);
      assert.equal(reply.body.toString(), 'Gateway Timeout');
      await Promise.all(gateway.finished);
      assert.equal((log.warnings[0]!.obj.err as NodeJS.ErrnoException).code, 'UND_ERR_CONNECT_TIMEOUT');
    } finally {
      await gateway.close();
      await silent.close();
    }
  });

  it('cuts the client connection when the upstream fails mid-body', async () => {
    const backend = await startServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only part of it');
      setTimeout(() => res.socket!.destroy(), 20);
    });
    const gateway = await proxyTo(backend.url, { log: recordingLogger() });
    try {
      await assert.rejects(request(gateway.url), (err: NodeJS.ErrnoException) => {
        return err.code === 'ECONNRESET' || err.message === 'aborted';
      });
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('aborts the upstream request when the client goes away', async () => {
    let upstreamClosed!: () => void;
    const upstreamAborted = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const backend = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk');
      const timer = setInterval(() => res.write('.'), 50);
      res.on('close', () => {
        clearInterval(timer);
        if (!res.writableFinished) upstreamClosed();
      });
    });
    const log = recordingLogger();
    const gateway = await proxyTo(backend.url, { log });
    try {
      await new Promise<void>((resolve, reject) => {
        const req = http.get(gateway.url, { agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => undefined);
        setTimeout(() => reject(new Error('no data')), 2000);
      });
      await upstreamAborted;
      await Promise.all(gateway.finished);
      assert.equal(log.warnings.length, 0, 'a client abort is not an upstream failure');
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('aborts the upstream request when the client abandons its upload', async () => {
    let upstreamClosed!: () => void;
    const upstreamAborted = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const backend = await startServer((req, res) => {
      req.on('data', () => undefined);
      req.on('error', () => undefined);
      res.on('close', () => {
        if (!res.writableFinished) upstreamClosed();
      });
    });
    const gateway = await proxyTo(backend.url, { log: recordingLogger() });
    try {
      const req = http.request(gateway.url, {
        method: 'POST',
        agent: false,
        headers: { 'content-length': 1_000_000 },
      });
      req.on('error', () => undefined);
      req.write(Buffer.alloc(10_000));
      setTimeout(() => req.destroy(), 50);
      await upstreamAborted;
      await Promise.all(gateway.finished);
    } finally {
      await gateway.close();
      await backend.close();
    }
  });
});

describe('proxy: large bodies stream with flat memory', () => {
  const size = 200 * MiB;

  it(`uploads ${size / MiB} MiB`, async () => {
    const backend = await startServer(async (req, res) => {
      let received = 0;
      for await (const chunk of req) received += (chunk as Buffer).length;
      res.end(String(received));
    });
    const gateway = await proxyTo(backend.url);
    try {
      let reply = '';
      const growth = await peakRssGrowth(async () => {
        reply = (
          await request(gateway.url, {
            method: 'PUT',
            headers: { 'content-length': size },
            body: generated(size),
          })
        ).body.toString();
      });
      assert.equal(reply, String(size));
      assert.ok(growth < 80 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it(`downloads ${size / MiB} MiB`, async () => {
    const backend = await startServer((_req, res) => {
      res.setHeader('content-length', size);
      generated(size).pipe(res);
    });
    const gateway = await proxyTo(backend.url);
    try {
      let received = 0;
      const growth = await peakRssGrowth(
        () =>
          new Promise<void>((resolve, reject) => {
            http
              .get(gateway.url, { agent: false }, (res) => {
                assert.equal(res.headers['content-length'], String(size));
                // A slower reader than the backend: without backpressure the gateway would buffer the difference.
                let sincePause = 0;
                res.on('data', (chunk: Buffer) => {
                  received += chunk.length;
                  sincePause += chunk.length;
                  if (sincePause < 2 * MiB) return;
                  sincePause = 0;
                  res.pause();
                  setTimeout(() => res.resume(), 15);
                });
                res.on('end', resolve);
                res.on('error', reject);
              })
              .on('error', reject);
          }),
      );
      assert.equal(received, size);
      assert.ok(growth < 80 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
      await Promise.all(gateway.finished);
      assert.equal(gateway.states[0]!.upstream!.bytes, size);
    } finally {
      await gateway.close();
      await backend.close();
    }
  });
});

describe('proxy: upgrades', () => {
  it('tunnels a WebSocket echo', async () => {
    const backend = await startServer((_req, res) => res.end('not a websocket'));
    const wss = new WebSocketServer({ server: backend.server });
    let forwardedProto: string | undefined;
    wss.on('connection', (socket, req: IncomingMessage) => {
      forwardedProto = req.headers['x-forwarded-proto'] as string;
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    });
    const gateway = await proxyTo(backend.url);
    try {
      const client = new WebSocket(`ws://127.0.0.1:${gateway.port}/chat`);
      await once(client, 'open');
      const replies: string[] = [];
      const done = new Promise<void>((resolve) =>
        client.on('message', (data: Buffer) => {
          replies.push(data.toString());
          if (replies.length === 2) resolve();
        }),
      );
      client.send('hello');
      client.send('x'.repeat(200_000));
      await done;
      assert.equal(replies[0], 'hello');
      assert.equal(replies[1]!.length, 200_000);
      assert.equal(forwardedProto, 'ws');
      client.close();
      await once(client, 'close');
      await Promise.all(gateway.finished);
      const upstream = gateway.states[0]!.upstream!;
      assert.equal(upstream.status, 101);
      assert.ok(upstream.bytes > 200_000);
    } finally {
      wss.close();
      await gateway.close();
      await backend.close();
    }
  });

  it('relays a refused upgrade as a normal response and closes the socket', async () => {
    const backend = await startServer((_req, res) => res.end());
    const wss = new WebSocketServer({
      server: backend.server,
      verifyClient: (_info, callback) => callback(false, 401, 'Unauthorized'),
    });
    const gateway = await proxyTo(backend.url);
    try {
      const client = new WebSocket(`ws://127.0.0.1:${gateway.port}/`);
      const [, res] = (await once(client, 'unexpected-response')) as [unknown, IncomingMessage];
      assert.equal(res.statusCode, 401);
      res.resume();
      await once(res.socket, 'close');
    } finally {
      wss.close();
      await gateway.close();
      await backend.close();
    }
  });

  it('sends the bytes that arrived with the upgrade request first', async () => {
    const backend = await startServer((_req, res) => res.end());
    backend.server.on('upgrade', (req: IncomingMessage, socket: net.Socket, head: Buffer) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers.upgrade}\r\n\r\n`);
      if (head.length > 0) socket.write(head);
      socket.pipe(socket);
    });
    const gateway = await proxyTo(backend.url);
    try {
      const socket = net.connect(gateway.port, '127.0.0.1');
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nEARLY');
      let received = '';
      socket.setEncoding('latin1');
      await new Promise<void>((resolve) =>
        socket.on('data', (chunk: string) => {
          received += chunk;
          if (received.includes('EARLY') && received.includes('LATE')) resolve();
          else if (received.includes('EARLY')) socket.write('LATE');
        }),
      );
      assert.match(received, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.match(received, /\r\nupgrade: echo\r\n/i);
      assert.ok(received.endsWith('\r\n\r\nEARLYLATE'));
      socket.destroy();
    } finally {
      await gateway.close();
      await backend.close();
    }
  });
});

describe('proxy: a request body a middleware read whole (replaceRequestBody)', () => {
  it('sends the bytes handed back instead of the consumed stream, whatever the framing', async () => {
    const backend = await startServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.end(JSON.stringify({ body: Buffer.concat(chunks).toString(), length: req.headers['content-length'] ?? null })));
    });
    const readWhole: Middleware = async (ctx) => {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
      replaceRequestBody(ctx, Buffer.concat(chunks));
    };
    const gateway = await proxyTo(backend.url, { before: readWhole });
    try {
      const sized = await request(gateway.url, { method: 'POST', body: 'hello' });
      assert.deepEqual(JSON.parse(sized.body.toString()), { body: 'hello', length: '5' });
      const chunked = await request(gateway.url, { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: 'chunked body' });
      assert.deepEqual(JSON.parse(chunked.body.toString()), { body: 'chunked body', length: '12' });
    } finally {
      await gateway.close();
      await backend.close();
    }
  });
});

describe('proxy: a request the server closed its reused keep-alive connection on (Go transport resend)', () => {
  /**
   * A backend that closes a keep-alive connection right as its next request arrives, as a server does whose idle
   * timeout fires then or that drains on SIGTERM: every request after the first on a connection gets its socket
   * destroyed instead of an answer (no timing involved). Counts what it received.
   */
  async function closingBackend(): Promise<Listening & { received: string[] }> {
    const received: string[] = [];
    const served = new WeakMap<object, number>();
    const backend = await startServer((req, res) => {
      const count = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, count);
      received.push(`${req.method} ${count}`);
      if (count > 1) {
        req.socket.destroy();
        return;
      }
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    return Object.assign(backend, { received });
  }

  async function primed(options: ProxyOptions = {}): Promise<{ backend: Listening & { received: string[] }; gateway: Gateway }> {
    const backend = await closingBackend();
    const gateway = await proxyTo(backend.url, options);
    // The first request leaves the one connection idle in the pool: the next request goes out on it, reused.
    assert.equal((await request(gateway.url)).status, 200);
    return { backend, gateway };
  }

  const cases = [
    { desc: 'GET', method: 'GET', headers: {}, resent: true },
    { desc: 'HEAD', method: 'HEAD', headers: {}, resent: true },
    { desc: 'POST with Idempotency-Key', method: 'POST', headers: { 'idempotency-key': 'k1' }, resent: true },
    { desc: 'DELETE with X-Idempotency-Key', method: 'DELETE', headers: { 'x-idempotency-key': 'k2' }, resent: true },
    { desc: 'POST without a key', method: 'POST', headers: {}, resent: false },
    { desc: 'PUT without a key (Go resends only GET, HEAD, OPTIONS, TRACE)', method: 'PUT', headers: {}, resent: false },
  ];
  for (const c of cases) {
    it(`${c.resent ? 'sends' : 'does not send'} a ${c.desc} once more on a fresh connection`, async () => {
      const { backend, gateway } = await primed();
      try {
        const reply = await request(gateway.url, { method: c.method, headers: c.headers });
        assert.equal(reply.status, c.resent ? 200 : 502);
        assert.equal(gateway.states[1]!.retryAttempts, c.resent ? 1 : 0);
        // The reused connection's request, then (when resent) the same request as the first on a new connection.
        assert.deepEqual(backend.received.slice(1), c.resent ? [`${c.method} 2`, `${c.method} 1`] : [`${c.method} 2`]);
      } finally {
        await gateway.close();
        await backend.close();
      }
    });
  }

  it('sends again a body a middleware holds whole, but not a streamed body it already sent', async () => {
    const readWhole: Middleware = async (ctx) => {
      if (ctx.req.headers['x-hold'] === undefined) return;
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
      replaceRequestBody(ctx, Buffer.concat(chunks));
    };
    const { backend, gateway } = await primed({ before: readWhole });
    try {
      const held = await request(gateway.url, { method: 'POST', headers: { 'idempotency-key': 'a', 'x-hold': '1' }, body: 'payload' });
      assert.equal(held.status, 200);
      // The resent request left its connection idle, first in the pool's order again: prime it once more.
      assert.equal((await request(gateway.url)).status, 200);
      const streamed = await request(gateway.url, { method: 'POST', headers: { 'idempotency-key': 'b' }, body: 'payload' });
      assert.equal(streamed.status, 502);
      assert.deepEqual(gateway.states.map((s) => s.retryAttempts), [0, 1, 0, 0]);
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  it('does not send again a request whose fresh connection broke (the server may be down, not closing an idle one)', async () => {
    const backend = await startServer((req) => req.socket.destroy());
    const gateway = await proxyTo(backend.url);
    try {
      assert.equal((await request(gateway.url)).status, 502);
      assert.equal(gateway.states[0]!.retryAttempts, 0);
    } finally {
      await gateway.close();
      await backend.close();
    }
  });
});
