// The Koa context contract plugins rely on, through the gateway's own lean request path: answers made with
// ctx.body/ctx.status, errors, ctx.state, ctx.cookies, the Koa request API, code after `await next()`, headers
// set before the proxy step, HEAD/204/304, WebSocket upgrades through a chain, and failing entrypoint hooks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { definePlugin, Type, type Next, type WharfContext } from '@wharf/core';
import { startTestGateway, type TestGateway } from './gateway.js';
import { startBackend, closeServer, type Backend, type EchoBody, json, request, get, eventually } from '@wharf/test-helpers';

/** What `after` middlewares saw once the rest of the chain (the proxy step included) was over. */
const afterNext: Array<{ path: string; status: number; upstreamStatus: number | undefined; headersSent: boolean }> = [];

type Step = (ctx: WharfContext, next: Next) => Promise<void> | void;

const MODES: Record<string, Step> = {
  string: (ctx) => {
    ctx.body = 'plain answer';
  },
  buffer: (ctx) => {
    ctx.body = Buffer.from([1, 2, 3, 4]);
  },
  stream: (ctx) => {
    ctx.type = 'text/plain';
    ctx.body = Readable.from(['str', 'eamed']);
  },
  json: (ctx) => {
    ctx.body = { answer: 42, list: ['a'] };
  },
  nothing: () => undefined,
  noContent: (ctx) => {
    ctx.status = 204;
  },
  notModified: (ctx) => {
    ctx.set('ETag', '"v1"');
    ctx.status = 304;
  },
  exposed: (ctx) => {
    ctx.throw(418, 'no coffee here', { headers: { 'X-Reason': 'teapot' } });
  },
  crash: () => {
    throw new Error('internal detail that must not leak');
  },
  rejects: async () => {
    await Promise.resolve();
    throw Object.assign(new Error('bad input'), { status: 422, expose: true });
  },
  asserts: (ctx) => {
    const check: (value: unknown, status: number, message: string) => void = ctx.assert;
    check(ctx.get('x-needed'), 401, 'x-needed header required');
    ctx.body = 'had it';
  },
  requestApi: (ctx) => {
    ctx.body = { path: ctx.path, query: ctx.query, host: ctx.host, method: ctx.method, originalUrl: ctx.originalUrl, ip: ctx.ip, accept: ctx.accepts('json', 'html') };
  },
  stateSet: (ctx, next) => {
    ctx.state.user = 'alice';
    return next();
  },
  stateRead: (ctx, next) => {
    ctx.req.headers['x-user'] = String(ctx.state.user);
    return next();
  },
  setHeader: (ctx, next) => {
    ctx.set('X-Before-Proxy', 'yes');
    ctx.append('X-Multi', 'one');
    ctx.append('X-Multi', 'two');
    return next();
  },
  cookies: (ctx, next) => {
    ctx.req.headers['x-cookie-seen'] = ctx.cookies.get('session') ?? 'none';
    ctx.cookies.set('visited', 'yes', { httpOnly: true });
    return next();
  },
  after: async (ctx, next) => {
    await next();
    afterNext.push({ path: ctx.path, status: ctx.status, upstreamStatus: ctx.wharf.upstream?.status, headersSent: ctx.res.headersSent });
  },
  replaceAfterError: async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      ctx.status = 503;
      ctx.body = `caught: ${(err as Error).message}`;
    }
  },
};

const probe = definePlugin({
  name: 'probe',
  description: 'test middleware exercising one part of the Koa context API',
  schema: Type.Object({ mode: Type.String() }),
  create({ mode }) {
    const step = MODES[mode];
    if (!step) throw new Error(`unknown mode ${mode}`);
    return async (ctx, next) => {
      await step(ctx, next);
    };
  },
});

/** Entrypoint hooks (as ping, access log and metrics are) that fail on some paths. */
const hooks = definePlugin({
  name: 'failingHooks',
  description: 'entrypoint hooks that throw, reject or answer on chosen paths',
  schema: Type.Object({}),
  setup(_config, host) {
    host.entrypoints.use(function throwing(ctx: WharfContext, next: Next) {
      if (ctx.path === '/hook/throw') throw new Error('hook exploded');
      if (ctx.path === '/hook/expose') ctx.throw(403, 'hook says no');
      return next();
    });
    host.entrypoints.use(async function rejecting(ctx: WharfContext, next: Next) {
      if (ctx.path === '/hook/reject') throw Object.assign(new Error('later failure'), { status: 409, expose: true });
      if (ctx.path === '/hook/answer') {
        ctx.body = 'answered by a hook';
        return;
      }
      await next();
      if (ctx.path === '/hook/after') ctx.res.setHeader('X-Too-Late', 'ignored');
    }, { order: 10 });
  },
});

/** A router on PathPrefix(/<mode>) with the given middlewares in order. */
function router(path: string, middlewares: string[]): Record<string, unknown> {
  return { rule: `PathPrefix(\`/${path}\`)`, service: 'backend', middlewares };
}

describe('the context contract on the lean request path', () => {
  let backend: Backend;
  let ws: { url: string; close(): Promise<void> };
  let gw: TestGateway;

  before(async () => {
    backend = await startBackend('contract');
    ws = await startEchoServer();
    const middlewares: Record<string, unknown> = {};
    for (const mode of Object.keys(MODES)) middlewares[mode] = { probe: { mode } };
    const routers: Record<string, unknown> = {};
    for (const mode of ['string', 'buffer', 'stream', 'json', 'nothing', 'noContent', 'notModified', 'exposed', 'crash', 'rejects', 'asserts', 'requestApi', 'setHeader', 'cookies']) {
      routers[mode] = router(mode, [mode]);
    }
    routers.state = router('state', ['stateSet', 'stateRead']);
    routers.afterProxy = router('afterProxy', ['after']);
    routers.afterAnswer = router('afterAnswer', ['after', 'string']);
    routers.caught = router('caught', ['replaceAfterError', 'crash']);
    routers.plain = { rule: 'PathPrefix(`/plain`) || PathPrefix(`/hook`)', service: 'backend' };
    routers.ws = { rule: 'PathPrefix(`/ws`)', service: 'ws', middlewares: ['setHeader', 'stateSet', 'stateRead', 'after'] };
    gw = await startTestGateway({
      http: {
        routers,
        middlewares,
        services: { backend: { loadBalancer: { servers: [{ url: backend.url }] } }, ws: { loadBalancer: { servers: [{ url: ws.url }] } } },
      },
    }, { plugins: [probe, hooks] });
  });

  after(async () => {
    await gw?.stop();
    await backend?.close();
    await ws?.close();
  });

  test('ctx.body as a string, Buffer, stream or object is written with its type and length', async () => {
    const text = await get(gw.port, '/string');
    assert.equal(text.status, 200);
    assert.equal(text.body, 'plain answer');
    assert.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(text.headers['content-length'], '12');

    const bin = await get(gw.port, '/buffer');
    assert.equal(bin.headers['content-type'], 'application/octet-stream');
    assert.equal(bin.headers['content-length'], '4');

    const streamed = await get(gw.port, '/stream');
    assert.equal(streamed.body, 'streamed');
    assert.equal(streamed.headers['content-length'], undefined);

    const object = await get(gw.port, '/json');
    assert.equal(object.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(json(object), { answer: 42, list: ['a'] });
  });

  test('a chain that answers nothing answers 404, as Koa does', async () => {
    const reply = await get(gw.port, '/nothing');
    assert.equal(reply.status, 404);
    assert.equal(reply.body, 'Not Found');
  });

  test('204 and 304 go out without a body; HEAD gets the length without the body', async () => {
    const none = await get(gw.port, '/noContent');
    assert.equal(none.status, 204);
    assert.equal(none.body, '');
    const notModified = await get(gw.port, '/notModified');
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.etag, '"v1"');
    assert.equal(notModified.body, '');
    const head = await request(gw.port, { method: 'HEAD', path: '/string', headers: { host: 'localhost' } });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '12');
    assert.equal(head.body, '');
    const proxiedHead = await request(gw.port, { method: 'HEAD', path: '/plain/head', headers: { host: 'localhost' } });
    assert.equal(proxiedHead.status, 200);
    assert.equal(proxiedHead.body, '');
  });

  test('thrown errors: exposed ones keep their status, message and headers; others are a bare 500', async () => {
    const exposed = await get(gw.port, '/exposed');
    assert.equal(exposed.status, 418);
    assert.equal(exposed.body, 'no coffee here');
    assert.equal(exposed.headers['x-reason'], 'teapot');
    const crash = await get(gw.port, '/crash');
    assert.equal(crash.status, 500);
    assert.equal(crash.body, 'Internal Server Error');
    const rejected = await get(gw.port, '/rejects');
    assert.equal(rejected.status, 422);
    assert.equal(rejected.body, 'bad input');
    assert.equal((await get(gw.port, '/asserts')).status, 401);
    assert.equal((await get(gw.port, '/asserts', 'localhost', { 'x-needed': '1' })).body, 'had it');
    const caught = await get(gw.port, '/caught');
    assert.equal(caught.status, 503);
    assert.equal(caught.body, 'caught: internal detail that must not leak');
  });

  test("the Koa request API (path, query, host, ip, accepts, originalUrl) answers from the request", async () => {
    const reply = await get(gw.port, '/requestApi/x?a=1&b=two', 'api.test:8080', { accept: 'application/json' });
    assert.deepEqual(json(reply), { path: '/requestApi/x', query: { a: '1', b: 'two' }, host: 'api.test:8080', method: 'GET', originalUrl: '/requestApi/x?a=1&b=two', ip: '127.0.0.1', accept: 'json' });
  });

  test('ctx.state is shared along the chain; headers set before the proxy step reach the client', async () => {
    const state = json<EchoBody>(await get(gw.port, '/state'));
    assert.equal(state.headers['x-user'], 'alice');
    const headers = await get(gw.port, '/setHeader');
    assert.equal(headers.status, 200);
    assert.equal(headers.headers['x-before-proxy'], 'yes');
    assert.equal(headers.headers['x-multi'], 'one, two');
  });

  test('ctx.cookies reads the request cookie and its Set-Cookie goes out with the proxied answer', async () => {
    const reply = await get(gw.port, '/cookies', 'localhost', { cookie: 'session=abc; other=1' });
    assert.equal(json<EchoBody>(reply).headers['x-cookie-seen'], 'abc');
    assert.deepEqual(reply.headers['set-cookie'], ['visited=yes; path=/; httponly']);
  });

  test('code after `await next()` runs once the proxy step (or the answer) is done', async () => {
    afterNext.length = 0;
    assert.equal((await get(gw.port, '/afterProxy')).status, 200);
    assert.equal((await get(gw.port, '/afterAnswer')).body, 'plain answer');
    await eventually(() => afterNext.length === 2, 'both after-next records');
    const proxied = afterNext.find((r) => r.path === '/afterProxy');
    assert.deepEqual(proxied, { path: '/afterProxy', status: 200, upstreamStatus: 200, headersSent: true });
    // The answer is written after the whole chain returned, so the outer middleware still sees it unsent.
    const answered = afterNext.find((r) => r.path === '/afterAnswer');
    assert.deepEqual(answered, { path: '/afterAnswer', status: 200, upstreamStatus: undefined, headersSent: false });
  });

  test('failing entrypoint hooks are answered like plugin errors; a hook may answer itself', async () => {
    const thrown = await get(gw.port, '/hook/throw');
    assert.equal(thrown.status, 500);
    assert.equal(thrown.body, 'Internal Server Error');
    assert.equal((await get(gw.port, '/hook/expose')).status, 403);
    const rejected = await get(gw.port, '/hook/reject');
    assert.equal(rejected.status, 409);
    assert.equal(rejected.body, 'later failure');
    assert.equal((await get(gw.port, '/hook/answer')).body, 'answered by a hook');
    // A hook's code after next() runs once the proxied answer is out: its failing setHeader is logged, nothing more.
    const proxied = await get(gw.port, '/hook/after');
    assert.equal(proxied.status, 200);
    assert.equal(proxied.headers['x-too-late'], undefined);
    // The gateway is still serving.
    assert.equal((await get(gw.port, '/plain/ok')).status, 200);
  });

  test('a WebSocket upgrade runs the chain (state, headers, after-next) and tunnels', async () => {
    afterNext.length = 0;
    const client = new WebSocket(`ws://127.0.0.1:${gw.port}/ws`);
    await new Promise<void>((resolve, reject) => {
      client.once('open', () => resolve());
      client.once('error', reject);
    });
    const echoed = new Promise<string>((resolve) => client.once('message', (data) => resolve(String(data))));
    client.send('ping');
    assert.equal(await echoed, 'echo:ping');
    client.close();
    await eventually(() => afterNext.find((r) => r.path === '/ws'), 'the after-next record of the tunnel');
    assert.equal(afterNext.find((r) => r.path === '/ws')!.upstreamStatus, 101);
  });
});

/** A WebSocket backend echoing messages with an `echo:` prefix. */
async function startEchoServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.end('not a websocket'));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => {
    socket.on('message', (data) => socket.send(`echo:${String(data)}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await closeServer(server);
    },
  };
}
