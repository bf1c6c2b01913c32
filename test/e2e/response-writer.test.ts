// The response-writer seam (wrapResponse) through a real gateway: what a wrapper sees and what reaches the client
// for a proxied response, a Koa-style answer and Wharf's own 502, in onion order, with backpressure and mid-body
// failures. compress, errors and buffering are built on it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { definePlugin, Type, wrapResponse, type ResponseWriter } from '@wharf/core';
import { startTestGateway, type TestGateway } from './gateway.js';
import { startBackend, closedPort, get, request, type Backend } from '@wharf/test-helpers';

const BIG = 4 * 1024 * 1024;
const aborted: string[] = [];

/** Passes everything on, upper-casing body bytes and marking the head with its name. */
function upper(name: string, inner: ResponseWriter): ResponseWriter {
  return {
    get headersSent() {
      return inner.headersSent;
    },
    writeHead(status, headers) {
      const seen = headers['x-writers'];
      headers['x-writers'] = seen === undefined ? name : `${String(seen)},${name}`;
      inner.writeHead(status, headers);
    },
    write: (chunk) => inner.write(Buffer.from(chunk.toString('latin1').toUpperCase(), 'latin1')),
    end: (trailers) => inner.end(trailers),
    abort(error) {
      aborted.push(name);
      inner.abort(error);
    },
    onceDrain: (callback) => inner.onceDrain(callback),
  };
}

/** Holds back 5xx answers and writes its own page instead, once the rest of the chain is over. */
function replacing(inner: ResponseWriter, held: { status?: number }): ResponseWriter {
  let passing = false;
  return {
    get headersSent() {
      return passing ? inner.headersSent : held.status !== undefined;
    },
    writeHead(status, headers) {
      if (status >= 500) held.status = status;
      else {
        passing = true;
        inner.writeHead(status, headers);
      }
    },
    write: (chunk) => (passing ? inner.write(chunk) : true),
    end: (trailers) => (passing ? inner.end(trailers) : undefined),
    abort: (error) => (passing ? inner.abort(error) : undefined),
    onceDrain: (callback) => (passing ? inner.onceDrain(callback) : callback()),
  };
}

/** Says "not now" to every write and lets the writer drain a turn later: the proxy must pause and resume. */
function reluctant(inner: ResponseWriter): ResponseWriter {
  return {
    get headersSent() {
      return inner.headersSent;
    },
    writeHead: (status, headers) => inner.writeHead(status, headers),
    write(chunk) {
      inner.write(chunk);
      return false;
    },
    end: (trailers) => inner.end(trailers),
    abort: (error) => inner.abort(error),
    onceDrain: (callback) => setImmediate(callback),
  };
}

const wrapper = definePlugin({
  name: 'wrapper',
  description: 'test middleware wrapping the response writer',
  schema: Type.Object({ mode: Type.String() }),
  create({ mode }, { name }) {
    return async function wrapping(ctx, next) {
      if (mode === 'answer') {
        ctx.body = 'answered in the chain';
        return;
      }
      if (mode === 'upper') wrapResponse(ctx, (inner) => upper(name, inner));
      if (mode === 'reluctant') wrapResponse(ctx, reluctant);
      if (mode !== 'replace') return next();
      const held: { status?: number } = {};
      const unwrap = wrapResponse(ctx, (inner) => replacing(inner, held));
      await next();
      unwrap();
      if (held.status === undefined) return;
      ctx.respond = true;
      ctx.status = held.status;
      ctx.body = `replaced ${held.status}`;
    };
  },
});

describe('wrapResponse', () => {
  let backend: Backend;
  let gw: TestGateway;

  before(async () => {
    backend = await startBackend('writer', (req, res) => {
      if (req.url === '/big') {
        res.writeHead(200, { 'content-length': BIG });
        res.end(Buffer.alloc(BIG, 'a'));
      } else if (req.url === '/cut') {
        res.writeHead(200, { 'content-length': 100 });
        res.write('only part of it', () => res.destroy());
      } else if (req.url === '/fail') {
        res.writeHead(500).end('upstream says no');
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('hello from upstream');
      }
    });
    const down = `http://127.0.0.1:${await closedPort()}`;
    const mw = (mode: string): Record<string, unknown> => ({ wrapper: { mode } });
    const route = (prefix: string, middlewares: string[], service = 'up'): Record<string, unknown> => ({ rule: `PathPrefix(\`${prefix}\`)`, middlewares, service });
    gw = await startTestGateway({
      http: {
        middlewares: { outer: mw('upper'), inner: mw('upper'), answer: mw('answer'), replace: mw('replace'), reluctant: mw('reluctant') },
        routers: {
          proxied: route('/', ['outer', 'inner']),
          koa: route('/koa', ['outer', 'answer']),
          gone: route('/gone', ['replace'], 'down'),
          replaced: route('/fail', ['replace']),
          passed: route('/pass', ['replace']),
          slow: route('/big', ['reluctant']),
        },
        services: { up: { loadBalancer: { servers: [{ url: backend.url }] } }, down: { loadBalancer: { servers: [{ url: down }] } } },
      },
    }, { plugins: [wrapper] });
  });

  after(async () => {
    await gw?.stop();
    await backend?.close();
  });

  test('a proxied response goes through every wrapper, the innermost first', async () => {
    const reply = await get(gw.port, '/hello');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'HELLO FROM UPSTREAM');
    assert.equal(reply.headers['x-writers'], 'inner@inline,outer@inline');
  });

  test('an answer made with ctx.body goes through the wrappers of the middlewares before it', async () => {
    const reply = await get(gw.port, '/koa');
    assert.equal(reply.body, 'ANSWERED IN THE CHAIN');
    assert.equal(reply.headers['x-writers'], 'outer@inline');
    assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
  });

  test("Wharf's own 502 and an upstream 500 can be held back and replaced; a 200 passes untouched", async () => {
    const gone = await get(gw.port, '/gone');
    assert.deepEqual([gone.status, gone.body], [502, 'replaced 502']);
    const failed = await get(gw.port, '/fail');
    assert.deepEqual([failed.status, failed.body], [500, 'replaced 500']);
    const passed = await get(gw.port, '/pass');
    assert.deepEqual([passed.status, passed.body], [200, 'hello from upstream']);
  });

  test('a writer that asks to wait pauses the upstream and still gets every byte', async () => {
    const reply = await get(gw.port, '/big');
    assert.equal(reply.status, 200);
    assert.equal(reply.body.length, BIG);
  });

  test('an upstream that breaks mid-body aborts the writers and cuts the client', async () => {
    const cut = new Promise<string>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: gw.port, path: '/cut' }, (res) => {
        res.on('data', () => undefined);
        res.on('error', (err) => resolve(err.message));
        res.on('end', () => resolve('complete'));
      });
      req.on('error', (err) => resolve(err.message));
    });
    assert.equal(await cut, 'aborted');
    assert.deepEqual(aborted, ['inner@inline', 'outer@inline']);
    const next = await request(gw.port, { path: '/hello' });
    assert.equal(next.status, 200);
  });
});
