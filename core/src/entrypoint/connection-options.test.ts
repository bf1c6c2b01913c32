// Entrypoint options about the client connection: forwardedHeaders.connection, transport.keepAliveMaxTime, reusePort.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { Type } from '../config/schema.js';
import { eventually, json, request, startBackend, type Backend, type EchoBody } from '@wharf/test-helpers';
import { definePlugin } from '../plugin/contract.js';
import { startGateway, type EmbeddedGateway } from '../embed.js';
import type { Logger } from '../log.js';

/** Tells the upstream which of X-Foo and X-Bar the middlewares saw. */
const peek = definePlugin({
  name: 'peek',
  schema: Type.Object({}, { additionalProperties: false }),
  create: () =>
    async function peek(ctx, next) {
      ctx.req.headers['x-seen'] = `${ctx.req.headers['x-foo'] ?? '-'} ${ctx.req.headers['x-bar'] ?? '-'}`;
      await next();
    },
});

let gateway: EmbeddedGateway | undefined;
let backend: Backend;
before(async () => {
  backend = await startBackend('b');
});
after(async () => {
  await backend.close();
});
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

async function start(args: string[], log?: Logger): Promise<number> {
  gateway = await startGateway({
    plugins: [peek],
    args: ['--entrypoints.web.address=127.0.0.1:0', ...args],
    log,
    dynamic: {
      http: {
        routers: { r: { rule: 'PathPrefix(`/`)', service: 's', middlewares: ['p'] } },
        middlewares: { p: { peek: {} } },
        services: { s: { loadBalancer: { servers: [{ url: backend.url }] } } },
      },
    },
  });
  return gateway.address('web').port;
}

describe('forwardedHeaders.connection', () => {
  it('keeps the listed Connection-named headers for the middlewares; the upstream gets none of them', async () => {
    const port = await start(['--entrypoints.web.forwardedHeaders.connection=X-Foo']);
    const reply = await request(port, { headers: { connection: 'keep-alive, X-Foo, x-bar', 'x-foo': 'foo', 'x-bar': 'bar' } });
    const seen = json<EchoBody>(reply).headers;
    assert.equal(seen['x-seen'], 'foo -');
    assert.equal(seen['x-foo'], undefined);
    assert.equal(seen['x-bar'], undefined);
  });

  it('without it, middlewares see no Connection-named header (Traefik removes them first)', async () => {
    const port = await start([]);
    const reply = await request(port, { headers: { connection: 'X-Foo', 'x-foo': 'foo', 'x-bar': 'bar' } });
    assert.equal(json<EchoBody>(reply).headers['x-seen'], '- bar');
  });

  it('never removes forwarded headers the gateway manages, nor Host', async () => {
    const port = await start([]);
    const reply = await request(port, { headers: { connection: 'X-Forwarded-For, X-Real-Ip, Host', host: 'example.test' } });
    const seen = json<EchoBody>(reply).headers;
    assert.equal(seen.host, 'example.test');
    assert.equal(seen['x-real-ip'], '127.0.0.1');
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
  });
});

/** Sends GETs on one connection; resolves each response head, and `closed` once the server ended it. */
function keepAliveClient(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let buffer = '';
  const heads: string[] = [];
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    // Each echo answer has a Content-Length: cut complete responses off the buffer.
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buffer.slice(0, end);
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
      heads.push(head);
      buffer = buffer.slice(end + 4 + length);
    }
  });
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  return {
    heads,
    isClosed: () => closed,
    async get(): Promise<string> {
      const count = heads.length;
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      return eventually(() => heads[count], 'a response on the kept-alive connection');
    },
    close: () => socket.destroy(),
  };
}

describe('transport.keepAliveMaxTime', () => {
  it('closes a connection older than the limit after its response', async () => {
    const port = await start(['--entrypoints.web.transport.keepAliveMaxTime=50ms']);
    const client = keepAliveClient(port);
    try {
      await eventually(async () => /connection: close/i.test(await client.get()), 'an answer announcing the close');
      await eventually(() => client.isClosed(), 'the connection closed by the gateway');
    } finally {
      client.close();
    }
  });

  it('ends an older HTTP/2 (h2c) session with a GOAWAY after its stream', async () => {
    const port = await start(['--entrypoints.web.transport.keepAliveMaxTime=50ms']);
    const session = http2.connect(`http://127.0.0.1:${port}`);
    let closed = false;
    session.on('close', () => (closed = true));
    session.on('error', () => undefined);
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':path': '/' });
        let status = 0;
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.on('error', reject);
        stream.resume();
        stream.on('end', () => resolve(status));
      });
    try {
      await eventually(async () => closed || (await get()) === 0, 'the session closed by the gateway');
      assert.equal(closed, true);
    } finally {
      session.destroy();
    }
  });

  it('leaves a younger connection open', async () => {
    const port = await start(['--entrypoints.web.transport.keepAliveMaxTime=1h']);
    const client = keepAliveClient(port);
    try {
      for (let i = 0; i < 3; i++) assert.match(await client.get(), /connection: keep-alive/i);
      assert.equal(client.isClosed(), false);
    } finally {
      client.close();
    }
  });
});

describe('reusePort', () => {
  it('is accepted with a start-up warning saying what Node 20 cannot do', async () => {
    const warnings: string[] = [];
    const log = recordingLog(warnings);
    await start(['--entrypoints.web.reusePort=true'], log);
    assert.ok(warnings.some((w) => /reusePort is accepted but has no effect: Node .* cannot set SO_REUSEPORT/.test(w)), warnings.join('\n'));
  });
});

function recordingLog(warnings: string[]): Logger {
  const log: Record<string, unknown> = {};
  for (const level of ['trace', 'debug', 'info', 'error', 'fatal']) log[level] = () => undefined;
  log.warn = (_obj: unknown, msg: string) => warnings.push(msg);
  log.child = () => log;
  return log as unknown as Logger;
}
