// compress through a real gateway in front of a real backend: round trips decompressed and compared byte for byte,
// what is left alone (small, excluded, already encoded, HEAD, 204, 304, ranges, upgrades), server-sent events
// arriving as they are sent, and a large body to a client that does not read staying bounded in the gateway.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { definePlugin, startGateway, Type, type EmbeddedGateway } from '@wharf/core';
import { eventually, startServer, type Listening } from '@wharf/test-helpers';
import compress, { ZSTD_AVAILABLE } from './index.js';

/** A JSON document of about `bytes` bytes, compressible like real API answers. */
function jsonOf(bytes: number): Buffer {
  const items: unknown[] = [];
  let text = '[]';
  for (let i = 0; text.length < bytes; i++) {
    items.push({ id: i, name: `user-${i}`, email: `user${i}@example.com`, active: i % 3 === 0, tags: ['a', `t${i % 17}`] });
    if (i % 50 === 0) text = JSON.stringify(items);
  }
  return Buffer.from(JSON.stringify(items));
}

const JSON_BODY = jsonOf(300 * 1024);
const SMALL = Buffer.from('{"ok":true}');
const ALREADY = zlib.gzipSync(JSON_BODY);
/** A PNG signature and zeros: sniffed as image/png, and very compressible. */
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(4096)]);
/** Random bytes do not compress: what the slow client is sent, so nothing shrinks into socket buffers. */
const NOISE = randomBytes(1024 * 1024);
const NOISE_TOTAL = 64 * 1024 * 1024;

/** The large stream's progress, seen from the backend. */
const stream = { produced: 0, waitingForDrain: false, finished: false };
/** Server-sent events: the backend sends one, then waits for the test to say end. */
let endEvents: (() => void) | undefined;

/** Whether `chunk` is NOISE repeated, starting at byte `offset` of the stream. */
function matchesNoise(chunk: Buffer, offset: number): boolean {
  for (let i = 0; i < chunk.length; ) {
    const at = (offset + i) % NOISE.length;
    const n = Math.min(chunk.length - i, NOISE.length - at);
    if (!chunk.subarray(i, i + n).equals(NOISE.subarray(at, at + n))) return false;
    i += n;
  }
  return true;
}

function sendJson(res: ServerResponse, body: Buffer, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, ...headers });
  res.end(body);
}

/** Writes `body` in chunks of 16 KiB without Content-Length (chunked), across several turns. */
function sendChunked(res: ServerResponse, body: Buffer, headers: http.OutgoingHttpHeaders): void {
  res.writeHead(200, headers);
  let offset = 0;
  const next = () => {
    while (offset < body.length) {
      const chunk = body.subarray(offset, offset + 16 * 1024);
      offset += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', next);
    }
    res.end();
  };
  setImmediate(next);
}

function sendNoise(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  const next = () => {
    stream.waitingForDrain = false;
    while (stream.produced < NOISE_TOTAL) {
      stream.produced += NOISE.length;
      if (!res.write(NOISE)) {
        stream.waitingForDrain = true;
        return void res.once('drain', next);
      }
    }
    stream.finished = true;
    res.end();
  };
  next();
}

function backendHandler(req: IncomingMessage, res: ServerResponse): void {
  const name = (req.url ?? '/').split('/').pop();
  switch (name) {
    case 'json':
      return sendJson(res, JSON_BODY, { 'accept-ranges': 'bytes', vary: 'Origin' });
    case 'chunked':
      return sendChunked(res, JSON_BODY, { 'content-type': 'application/json' });
    case 'untyped':
      return sendChunked(res, JSON_BODY, {});
    case 'small':
      return sendJson(res, SMALL);
    case 'small-chunked':
      // No length: the gateway holds the bytes until the body ends (or the service pauses) to decide.
      return void res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }).end(SMALL);
    case 'png':
      // Content-Length, no Content-Type: the type is sniffed from the first chunk.
      res.setHeader('content-length', PNG.length);
      res.removeHeader('content-type');
      return void res.end(PNG);
    case 'csv':
      return void res.writeHead(200, { 'content-type': 'text/csv' }).end(JSON_BODY);
    case 'encoded':
      return sendJson(res, ALREADY, { 'content-encoding': 'gzip' });
    case 'range':
      return void res.writeHead(206, { 'content-type': 'application/json', 'content-range': `bytes 0-2047/${JSON_BODY.length}` }).end(JSON_BODY.subarray(0, 2048));
    case 'empty':
      return void res.writeHead(204, { 'content-type': 'application/json' }).end();
    case 'unchanged':
      return void res.writeHead(304, { etag: '"v1"', 'content-type': 'application/json' }).end();
    case 'events':
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: first\n\n');
      endEvents = () => res.end('data: last\n\n');
      return;
    case 'noise':
      return sendNoise(res);
    case 'broken':
      // Promises the whole document, sends a third of it, then the connection breaks.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': JSON_BODY.length });
      res.write(JSON_BODY.subarray(0, JSON_BODY.length / 3), () => res.destroy());
      return;
    default:
      res.writeHead(404).end();
  }
}

/** A middleware that answers itself through Koa (ctx.body), after compress in the chain. */
const answer = definePlugin({
  name: 'answer',
  schema: Type.Object({}, { additionalProperties: false }),
  create: () =>
    async function answerJson(ctx) {
      ctx.type = 'application/json';
      ctx.body = JSON_BODY;
    },
});

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function fetchRaw(port: number, path: string, headers: http.OutgoingHttpHeaders = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function decode(reply: Reply): Buffer {
  switch (reply.headers['content-encoding']) {
    case 'gzip':
      return zlib.gunzipSync(reply.body);
    case 'br':
      return zlib.brotliDecompressSync(reply.body);
    default:
      return reply.body;
  }
}

describe('compress through a gateway', () => {
  let backend: Listening;
  let gateway: EmbeddedGateway;
  let port: number;

  before(async () => {
    backend = await startServer(backendHandler);
    backend.server.on('upgrade', (_req: IncomingMessage, socket: net.Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
      socket.pipe(socket);
    });
    gateway = await startGateway({
      plugins: [compress, answer],
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: {
        http: {
          routers: {
            all: { rule: 'PathPrefix(`/`)', middlewares: ['squeeze'], service: 'b' },
            excluded: { rule: 'PathPrefix(`/excluded`)', middlewares: ['no-csv'], service: 'b' },
            byDefault: { rule: 'PathPrefix(`/default`)', middlewares: ['br-default'], service: 'b' },
            nothing: { rule: 'PathPrefix(`/nothing`)', middlewares: ['squeeze'], service: 'empty' },
            koa: { rule: 'PathPrefix(`/koa`)', middlewares: ['squeeze', 'answer'], service: 'b' },
            zstd: { rule: 'PathPrefix(`/zstd`)', middlewares: ['zstd-first'], service: 'b' },
          },
          middlewares: {
            squeeze: { compress: {} },
            'no-csv': { compress: { excludedContentTypes: ['text/csv', 'image/png'] } },
            'br-default': { compress: { encodings: ['gzip', 'br'], defaultEncoding: 'br' } },
            answer: { answer: {} },
            'zstd-first': { compress: { encodings: ['zstd', 'gzip'] } },
          },
          services: { b: { loadBalancer: { servers: [{ url: backend.url }] } }, empty: { loadBalancer: { servers: [] } } },
        },
      },
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    endEvents?.();
    await gateway.stop();
    await backend.close();
  });

  test('gzip and br round trips: the decompressed body is the original, the head says how', async () => {
    const cases = [
      { desc: 'gzip, Content-Length', path: '/json', accept: 'gzip', encoding: 'gzip' },
      { desc: 'br preferred by q-value', path: '/json', accept: 'gzip;q=0.5, br', encoding: 'br' },
      { desc: 'gzip, chunked', path: '/chunked', accept: 'gzip, deflate', encoding: 'gzip' },
      { desc: 'br, chunked', path: '/chunked', accept: 'br', encoding: 'br' },
      { desc: '* means the first of encodings', path: '/json', accept: '*', encoding: 'gzip' },
      { desc: 'no Accept-Encoding with defaultEncoding', path: '/default/json', accept: undefined, encoding: 'br' },
      { desc: 'an answer made in the chain (ctx.body)', path: '/koa', accept: 'br', encoding: 'br' },
    ];
    for (const { desc, path, accept, encoding } of cases) {
      const reply = await fetchRaw(port, path, accept === undefined ? {} : { 'accept-encoding': accept });
      assert.equal(reply.headers['content-encoding'], encoding, desc);
      assert.equal(reply.headers['content-length'], undefined, desc);
      assert.ok(reply.body.length < JSON_BODY.length / 4, `${desc}: compressed`);
      assert.ok(decode(reply).equals(JSON_BODY), `${desc}: same bytes`);
      assert.match(String(reply.headers.vary), /Accept-Encoding/, desc);
    }
  });

  test('zstd listed first: used where node:zlib has it, else the next encoding or none', async () => {
    const both = await fetchRaw(port, '/zstd/json', { 'accept-encoding': 'gzip, zstd' });
    const only = await fetchRaw(port, '/zstd/json', { 'accept-encoding': 'zstd' });
    if (ZSTD_AVAILABLE) {
      const unzstd = (zlib as unknown as { zstdDecompressSync: (b: Buffer) => Buffer }).zstdDecompressSync;
      assert.deepEqual([both.headers['content-encoding'], only.headers['content-encoding']], ['zstd', 'zstd']);
      assert.ok(unzstd(only.body).equals(JSON_BODY));
    } else {
      assert.equal(both.headers['content-encoding'], 'gzip');
      assert.ok(decode(both).equals(JSON_BODY));
      assert.deepEqual([only.headers['content-encoding'], only.headers.vary], [undefined, 'Origin'], 'nothing acceptable: sent as it is');
      assert.ok(only.body.equals(JSON_BODY));
    }
  });

  test('when compressing: Accept-Ranges goes, Vary keeps what the service listed', async () => {
    const reply = await fetchRaw(port, '/json', { 'accept-encoding': 'gzip' });
    assert.equal(reply.headers['accept-ranges'], undefined);
    assert.equal(reply.headers.vary, 'Origin, Accept-Encoding');
  });

  test('a response without Content-Type gets the sniffed one, then is compressed', async () => {
    const reply = await fetchRaw(port, '/untyped', { 'accept-encoding': 'gzip' });
    assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(reply.headers['content-encoding'], 'gzip');
    assert.ok(decode(reply).equals(JSON_BODY));
  });

  test('a sniffed type goes through the filters too, with Content-Length known', async () => {
    const excluded = await fetchRaw(port, '/excluded/png', { 'accept-encoding': 'gzip' });
    assert.deepEqual([excluded.headers['content-type'], excluded.headers['content-encoding'], excluded.headers['content-length']], ['image/png', undefined, String(PNG.length)]);
    assert.ok(excluded.body.equals(PNG));
    const compressed = await fetchRaw(port, '/png', { 'accept-encoding': 'gzip' });
    assert.deepEqual([compressed.headers['content-type'], compressed.headers['content-encoding']], ['image/png', 'gzip']);
    assert.ok(decode(compressed).equals(PNG));
  });

  test('left as it is', async () => {
    const cases = [
      { desc: 'a body under minResponseBodyBytes', path: '/small', body: SMALL, vary: 'Accept-Encoding' },
      { desc: 'a chunked body that ends under minResponseBodyBytes', path: '/small-chunked', body: SMALL, vary: 'Accept-Encoding' },
      { desc: 'an excluded type', path: '/excluded/csv', body: JSON_BODY, vary: 'Accept-Encoding' },
      { desc: 'already encoded (no double compression)', path: '/encoded', body: ALREADY, vary: 'Accept-Encoding', encoding: 'gzip' },
      { desc: 'a partial range (206)', path: '/range', body: JSON_BODY.subarray(0, 2048), vary: 'Accept-Encoding' },
      { desc: 'identity asked for', path: '/json', accept: 'identity', body: JSON_BODY, vary: 'Origin' },
      { desc: 'nothing acceptable', path: '/json', accept: 'compress, gzip;q=0', body: JSON_BODY, vary: 'Origin' },
      { desc: 'no Accept-Encoding and no defaultEncoding', path: '/json', accept: null, body: JSON_BODY, vary: 'Origin' },
      { desc: "Wharf's own 503 (a small answer through the writer)", path: '/nothing/x', body: Buffer.from('Service Unavailable: no available server'), vary: 'Accept-Encoding' },
    ];
    for (const { desc, path, accept = 'gzip, br', body, vary, encoding } of cases) {
      const reply = await fetchRaw(port, path, accept === null ? {} : { 'accept-encoding': accept });
      assert.equal(reply.headers['content-encoding'], encoding, desc);
      assert.ok(reply.body.equals(body), `${desc}: same bytes (got ${reply.body.length} bytes)`);
      assert.equal(reply.headers.vary, vary, desc);
    }
  });

  test('HEAD, 204 and 304 keep their heads and have no body', async () => {
    const head = await fetchRaw(port, '/json', { 'accept-encoding': 'gzip' }, 'HEAD');
    assert.deepEqual([head.status, head.headers['content-encoding'], head.headers['content-length'], head.headers.vary], [200, undefined, String(JSON_BODY.length), 'Origin']);
    const empty = await fetchRaw(port, '/empty', { 'accept-encoding': 'gzip' });
    assert.deepEqual([empty.status, empty.headers['content-encoding'], empty.body.length], [204, undefined, 0]);
    const unchanged = await fetchRaw(port, '/unchanged', { 'accept-encoding': 'gzip', 'if-none-match': '"v1"' });
    assert.deepEqual([unchanged.status, unchanged.headers['content-encoding'], unchanged.headers.etag, unchanged.body.length], [304, undefined, '"v1"', 0]);
  });

  test('server-sent events: the first event arrives, compressed, before the service ends the response', async () => {
    const received: string[] = [];
    const done = new Promise<{ headers: IncomingHttpHeaders }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/events', headers: { 'accept-encoding': 'gzip' }, agent: false }, (res) => {
        const gunzip = zlib.createGunzip();
        res.pipe(gunzip);
        gunzip.on('data', (chunk: Buffer) => received.push(chunk.toString()));
        gunzip.on('end', () => resolve({ headers: res.headers }));
        gunzip.on('error', reject);
      });
      req.on('error', reject);
    });
    await eventually(() => received.join('').includes('data: first\n\n'), 'the first event, decompressed');
    assert.ok(endEvents, 'the backend still holds the response open');
    endEvents();
    const { headers } = await done;
    assert.equal(headers['content-encoding'], 'gzip');
    assert.equal(received.join(''), 'data: first\n\ndata: last\n\n');
  });

  test('a client that does not read: the service is held back, nothing piles up in the gateway', async () => {
    let response: IncomingMessage | undefined;
    const req = http.get({ host: '127.0.0.1', port, path: '/noise', headers: { 'accept-encoding': 'gzip' }, agent: false }, (res) => {
      response = res;
      res.pause(); // read nothing for now
    });
    req.on('error', () => {});
    await eventually(() => response !== undefined && stream.waitingForDrain, 'the backend blocked on a full socket');
    // Held: another request's full round trip later, the backend is still waiting and has sent a bounded amount.
    const produced = stream.produced;
    assert.equal((await fetchRaw(port, '/small', { 'accept-encoding': 'gzip' })).status, 200);
    assert.deepEqual([stream.waitingForDrain, stream.produced, stream.finished], [true, produced, false]);
    assert.ok(produced <= 16 * 1024 * 1024, `at most 16 MiB sent by the service out of 64 MiB (sent ${produced / 1024 / 1024} MiB)`);
    // Reading again: the whole body arrives, decompressed to what was sent.
    const gunzip = zlib.createGunzip();
    let total = 0;
    let same = true;
    gunzip.on('data', (chunk: Buffer) => {
      same &&= matchesNoise(chunk, total);
      total += chunk.length;
    });
    const ended = new Promise((resolve) => gunzip.on('end', resolve));
    assert.equal(response!.headers['content-encoding'], 'gzip');
    response!.pipe(gunzip);
    await ended;
    assert.equal(total, NOISE_TOTAL);
    assert.ok(same, 'the decompressed bytes are the ones sent');
  });

  test('a service that breaks mid-body: the client sees a cut connection, not a complete body', async () => {
    const outcome = await new Promise<{ encoding: string | undefined; how: string; bytes: number }>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/broken', headers: { 'accept-encoding': 'gzip' }, agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ encoding: res.headers['content-encoding'], how: res.complete ? 'complete' : 'cut', bytes }));
        res.on('error', () => resolve({ encoding: res.headers['content-encoding'], how: 'cut', bytes }));
      });
      req.on('error', () => resolve({ encoding: undefined, how: 'no answer', bytes: 0 }));
    });
    assert.deepEqual([outcome.encoding, outcome.how], ['gzip', 'cut']);
    // The gateway is fine afterwards.
    assert.ok(decode(await fetchRaw(port, '/json', { 'accept-encoding': 'gzip' })).equals(JSON_BODY));
  });

  test('a WebSocket-style upgrade passes untouched', async () => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\nAccept-Encoding: gzip\r\n\r\n');
    await eventually(() => Buffer.concat(chunks).includes('\r\n\r\n'), 'the 101 answer');
    const head = Buffer.concat(chunks).toString('latin1');
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.doesNotMatch(head, /content-encoding/i);
    chunks.length = 0;
    socket.write('hello through the tunnel');
    await eventually(() => Buffer.concat(chunks).toString() === 'hello through the tunnel', 'the echo');
    socket.destroy();
  });
});
