// buffering through a real gateway in front of real backends: 413 by Content-Length and by a chunked body, bodies
// spilled to disk and removed however the request ends, memory bounded under concurrent uploads, the response cap,
// and retries (a retry middleware or retryExpression) sending the same held bytes to the next server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { readdir } from 'node:fs/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import retry from '@wharf/plugin-retry';
import { closedPort, eventually, rawExchange, request, startServer, type Listening } from '@wharf/test-helpers';
import buffering, { held, spillDirectory } from './index.js';

/** What a backend received: method, headers and the whole body. */
interface Received {
  server: string;
  method: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const received: Received[] = [];
const servers: Listening[] = [];
const gateways: EmbeddedGateway[] = [];

async function backend(name: string, answer: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<string> {
  const server = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ server: name, method: req.method ?? '', headers: req.headers, body });
      answer(req, res, body);
    });
  });
  servers.push(server);
  return server.url;
}

async function gateway(options: { servers: string[]; buffering: Record<string, unknown>; retry?: Record<string, unknown>; retryFirst?: boolean }): Promise<number> {
  const g = await startGateway({ plugins: [buffering, retry], args: ['--entrypoints.web.address=127.0.0.1:0'] });
  gateways.push(g);
  const middlewares: Record<string, unknown> = { buf: { buffering: options.buffering } };
  if (options.retry) middlewares.retry = { retry: options.retry };
  g.configure({
    http: {
      routers: { r: { rule: 'PathPrefix(`/`)', service: 's', middlewares: !options.retry ? ['buf'] : options.retryFirst ? ['retry', 'buf'] : ['buf', 'retry'] } },
      services: { s: { loadBalancer: { servers: options.servers.map((url) => ({ url })) } } },
      middlewares,
    },
  });
  return g.address('web').port;
}

async function spilledFiles(): Promise<string[]> {
  return readdir(await spillDirectory());
}

/** Opens a chunked upload and returns the request, to write to and end, and its answer. */
function upload(port: number, method = 'POST'): { req: http.ClientRequest; answer: Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> } {
  const req = http.request({ host: '127.0.0.1', port, method, path: '/', agent: false, headers: { 'transfer-encoding': 'chunked' } });
  const answer = new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  return { req, answer };
}

/** Full collections, so that memory figures count live buffers only (V8's gc, exposed at run time). */
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
async function collectGarbage(): Promise<void> {
  // Twice, a turn apart: buffers' memory is given back by a sweeper that may finish after the first.
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

const bytes = (n: number, seed = 7): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251));

let echoUrl: string;
let bigUrl: string;

before(async () => {
  echoUrl = await backend('echo', (_req, res, body) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(body);
  });
  // 200 KiB written in pieces, so that the answer comes chunked.
  bigUrl = await backend('big', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const body = bytes(200 * 1024, 3);
    for (let i = 0; i < body.length; i += 16 * 1024) res.write(body.subarray(i, i + 16 * 1024));
    res.end();
  });
});
after(async () => {
  for (const g of gateways) await g.stop();
  for (const s of servers) await s.close();
});

describe('request limits', () => {
  test('a Content-Length over maxRequestBodyBytes is answered 413 before any body byte, and the connection closed', async () => {
    const port = await gateway({ servers: [echoUrl], buffering: { maxRequestBodyBytes: 100 } });
    received.length = 0;
    // The body is never sent: the answer must not wait for it.
    const raw = await rawExchange(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 413 Request Entity Too Large\r\n/);
    assert.match(raw, /\r\nConnection: close\r\n/i);
    assert.ok(raw.endsWith('\r\n\r\nRequest Entity Too Large'), raw);
    assert.equal(received.length, 0);
  });

  test('a chunked body over maxRequestBodyBytes is answered 413 (oxy: mem 4, max 8, 14 bytes)', async () => {
    const port = await gateway({ servers: [echoUrl], buffering: { memRequestBodyBytes: 4, maxRequestBodyBytes: 8 } });
    received.length = 0;
    const { req, answer } = upload(port);
    req.write('test');
    req.write('test1');
    req.end('test2');
    const reply = await answer;
    assert.equal(reply.status, 413);
    assert.equal(reply.body.toString(), 'Request Entity Too Large');
    assert.equal(received.length, 0);
    await eventually(() => held.files === 0 && held.memoryBytes === 0, 'nothing held any more');
  });

  test('a chunked body within the limits reaches the service whole, with a Content-Length (oxy: testtest1test2)', async () => {
    const port = await gateway({ servers: [echoUrl], buffering: { maxRequestBodyBytes: 100 } });
    received.length = 0;
    const { req, answer } = upload(port);
    req.write('test');
    req.write('test1');
    req.end('test2');
    const reply = await answer;
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), 'testtest1test2');
    assert.equal(received[0]?.headers['content-length'], '14');
    assert.equal(received[0]?.headers['transfer-encoding'], undefined);
  });

  test('an empty chunked body goes out as Content-Length: 0', async () => {
    const port = await gateway({ servers: [echoUrl], buffering: {} });
    received.length = 0;
    const { req, answer } = upload(port, 'PUT');
    req.end();
    assert.equal((await answer).status, 200);
    assert.equal(received[0]?.headers['content-length'], '0');
    assert.equal(received[0]?.headers['transfer-encoding'], undefined);
  });

  test('a GET without a body is passed on without one', async () => {
    const port = await gateway({ servers: [echoUrl], buffering: { maxRequestBodyBytes: 1 } });
    received.length = 0;
    assert.equal((await request(port)).status, 200);
    assert.equal(received[0]?.headers['content-length'], undefined);
  });
});

describe('spill to disk', () => {
  test('past memRequestBodyBytes the body is in a temporary file while the request lasts, gone after', async () => {
    const port = await gateway({ servers: [echoUrl], buffering: { memRequestBodyBytes: 1024 } });
    received.length = 0;
    const body = bytes(256 * 1024);
    const { req, answer } = upload(port);
    req.write(body.subarray(0, 64 * 1024));
    await eventually(async () => (await spilledFiles()).length === 1, 'the body spilled to a file');
    req.end(body.subarray(64 * 1024));
    const reply = await answer;
    assert.equal(reply.status, 200);
    assert.ok(reply.body.equals(body));
    assert.ok(received[0]?.body.equals(body));
    assert.equal(received[0]?.headers['content-length'], String(body.length));
    await eventually(async () => (await spilledFiles()).length === 0 && held.files === 0, 'the temporary file removed');
  });

  test('a client that leaves mid-upload leaves no file behind', async () => {
    const port = await gateway({ servers: [echoUrl], buffering: { memRequestBodyBytes: 1024 } });
    received.length = 0;
    const { req, answer } = upload(port);
    answer.catch(() => undefined);
    req.write(bytes(64 * 1024));
    await eventually(async () => (await spilledFiles()).length === 1, 'the body spilled to a file');
    req.destroy();
    await eventually(async () => (await spilledFiles()).length === 0 && held.files === 0 && held.memoryBytes === 0, 'the temporary file removed');
    assert.equal(received.length, 0);
  });

  test('many concurrent uploads larger than memRequestBodyBytes hold at most memRequestBodyBytes each in memory', async () => {
    const uploads = 8;
    const size = 2 * 1024 * 1024;
    const mem = 16 * 1024;
    const port = await gateway({ servers: [echoUrl], buffering: { memRequestBodyBytes: mem } });
    received.length = 0;
    const body = bytes(size);
    await collectGarbage();
    const buffersBefore = process.memoryUsage().arrayBuffers;
    const started = Array.from({ length: uploads }, () => upload(port));
    for (const { req } of started) req.write(body.subarray(0, size / 2));
    // Every upload is half-way, past the threshold: all of them are on disk, none in memory.
    await eventually(() => held.files === uploads, 'every upload spilled to a file');
    assert.ok(held.memoryBytes <= uploads * mem, `${held.memoryBytes} bytes held in memory`);
    // The process as a whole: holding the halves in memory would add uploads × size / 2; streams' own buffers stay well below.
    await collectGarbage();
    const grown = process.memoryUsage().arrayBuffers - buffersBefore;
    assert.ok(grown < (uploads * size) / 4, `buffers grew by ${grown} bytes while ${uploads} uploads were half-way`);
    for (const { req } of started) req.end(body.subarray(size / 2));
    const replies = await Promise.all(started.map((s) => s.answer));
    for (const reply of replies) assert.equal(reply.status, 200);
    assert.equal(received.length, uploads);
    for (const r of received) assert.ok(r.body.equals(body));
    await eventually(async () => held.files === 0 && held.memoryBytes === 0 && (await spilledFiles()).length === 0, 'every temporary file removed');
  });
});

describe('responses', () => {
  test('an answer over maxResponseBodyBytes becomes 500 Internal Server Error (Traefik)', async () => {
    const port = await gateway({ servers: [bigUrl], buffering: { maxResponseBodyBytes: 1000 } });
    const reply = await request(port);
    assert.equal(reply.status, 500);
    assert.equal(reply.body, 'Internal Server Error');
  });

  test('an answer within the limits goes out whole with a Content-Length, through a file past memResponseBodyBytes', async () => {
    const port = await gateway({ servers: [bigUrl], buffering: { maxResponseBodyBytes: 1024 * 1024, memResponseBodyBytes: 1024 } });
    const reply = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        })
        .on('error', reject);
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-length'], String(200 * 1024));
    assert.equal(reply.headers['transfer-encoding'], undefined);
    assert.ok(reply.body.equals(bytes(200 * 1024, 3)));
    await eventually(async () => held.files === 0 && (await spilledFiles()).length === 0, 'every temporary file removed');
  });

  test('a client that leaves while the answer is held leaves no file behind', async () => {
    // Sends part of its answer, then waits for the client to give up.
    let upstreamClosed = false;
    const slowUrl = await backend('slow', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(bytes(64 * 1024));
      res.on('close', () => (upstreamClosed = true));
    });
    const port = await gateway({ servers: [slowUrl], buffering: { memResponseBodyBytes: 1024 } });
    const client = http.get({ host: '127.0.0.1', port, path: '/', agent: false });
    client.on('error', () => undefined);
    await eventually(async () => (await spilledFiles()).length === 1, 'the answer spilled to a file');
    client.destroy();
    await eventually(async () => (await spilledFiles()).length === 0 && held.files === 0 && upstreamClosed, 'the file removed and the upstream released');
  });

  test('HEAD is answered as the service answers it', async () => {
    const port = await gateway({ servers: [bigUrl], buffering: { maxResponseBodyBytes: 10 } });
    const reply = await request(port, { method: 'HEAD' });
    assert.equal(reply.status, 200);
  });
});

describe('replaying a held body', () => {
  let resetUrl: string;
  let refusedUrl: string;
  let unavailableUrl: string;
  before(async () => {
    // Reads the whole body, then drops the connection without answering.
    resetUrl = await backend('reset', (req) => req.socket.resetAndDestroy());
    unavailableUrl = await backend('unavailable', (_req, res) => {
      res.writeHead(503);
      res.end('unavailable');
    });
    refusedUrl = `http://127.0.0.1:${await closedPort()}`;
  });

  const cases: Array<{
    desc: string;
    servers: () => string[];
    buffering?: Record<string, unknown>;
    retry?: Record<string, unknown>;
    retryFirst?: boolean;
    method: string;
    status: number;
    tries: string[];
  }> = [
    {
      desc: 'buffering + retry: the server reset the connection after reading the body, the next one gets the same bytes',
      servers: () => [resetUrl, echoUrl],
      retry: { attempts: 2 },
      method: 'PUT',
      status: 200,
      tries: ['reset', 'echo'],
    },
    {
      desc: 'buffering + retry: a POST is not sent again once received',
      servers: () => [resetUrl, echoUrl],
      retry: { attempts: 2 },
      method: 'POST',
      status: 502,
      tries: ['reset'],
    },
    {
      desc: 'buffering + retry with retryNonIdempotentMethod: the POST is sent again',
      servers: () => [resetUrl, echoUrl],
      retry: { attempts: 2, retryNonIdempotentMethod: true },
      method: 'POST',
      status: 200,
      tries: ['reset', 'echo'],
    },
    {
      desc: 'buffering + retry on status 503: the held body goes to the next server',
      servers: () => [unavailableUrl, echoUrl],
      retry: { attempts: 2, status: ['503'], maxRequestBodyBytes: 10 },
      method: 'PUT',
      status: 200,
      tries: ['unavailable', 'echo'],
    },
    {
      desc: 'retry before buffering: retry holds the body, buffering still enforces its limit and holds the answer',
      servers: () => [unavailableUrl, echoUrl],
      retry: { attempts: 2, status: ['503'] },
      retryFirst: true,
      method: 'PUT',
      status: 200,
      tries: ['unavailable', 'echo'],
    },
    {
      desc: 'retry before buffering: a body retry held that is over maxRequestBodyBytes is refused',
      servers: () => [unavailableUrl, echoUrl],
      buffering: { maxRequestBodyBytes: 1000 },
      retry: { attempts: 2, status: ['503'] },
      retryFirst: true,
      method: 'PUT',
      status: 413,
      tries: [],
    },
    {
      desc: 'retryExpression IsNetworkError(): a reset POST goes to the next server',
      servers: () => [resetUrl, echoUrl],
      buffering: { retryExpression: 'IsNetworkError() && Attempts() < 2' },
      method: 'POST',
      status: 200,
      tries: ['reset', 'echo'],
    },
    {
      desc: 'retryExpression IsNetworkError(): a refused connection goes to the next server',
      servers: () => [refusedUrl, echoUrl],
      buffering: { retryExpression: 'IsNetworkError()' },
      method: 'POST',
      status: 200,
      tries: ['echo'],
    },
    {
      desc: 'retryExpression on ResponseCode(): a 503 is held back and retried',
      servers: () => [unavailableUrl, echoUrl],
      buffering: { retryExpression: 'ResponseCode() == 503 && Attempts() < 3' },
      method: 'POST',
      status: 200,
      tries: ['unavailable', 'echo'],
    },
    {
      desc: 'retryExpression that says no: the 503 is the answer',
      servers: () => [unavailableUrl, echoUrl],
      buffering: { retryExpression: 'IsNetworkError()' },
      method: 'POST',
      status: 503,
      tries: ['unavailable'],
    },
  ];
  for (const c of cases) {
    test(c.desc, async () => {
      const port = await gateway({ servers: c.servers(), buffering: { memRequestBodyBytes: 1024, ...c.buffering }, retry: c.retry, retryFirst: c.retryFirst });
      received.length = 0;
      const body = bytes(32 * 1024);
      const { req, answer } = upload(port, c.method);
      req.end(body);
      const reply = await answer;
      assert.equal(reply.status, c.status);
      assert.deepEqual(
        received.map((r) => r.server),
        c.tries,
      );
      for (const r of received) {
        assert.ok(r.body.equals(body), `${r.server} got the whole body`);
        assert.equal(r.headers['content-length'], String(body.length));
      }
      if (c.status === 200) assert.ok(reply.body.equals(body));
      await eventually(async () => held.files === 0 && (await spilledFiles()).length === 0, 'every temporary file removed');
    });
  }
});
