// contentType: options from labels and file (named errors), and Traefik's TestAutoDetection cases and Go's sniffing
// rules through a real gateway in front of a real backend: a missing Content-Type is detected from the first chunk,
// a present one kept, no body means no type, a stream keeps streaming, and without the middleware nothing is guessed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { pino } from 'pino';
import { definePlugin, startGateway, Type, type EmbeddedGateway } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import { eventually, request, startBackend, type Backend } from '@wharf/test-helpers';
import contentType, { schema, SniffingWriter } from './index.js';

describe('contentType options', () => {
  const cases: Array<{ desc: string; labels?: Record<string, string>; file?: unknown; expected?: unknown; issues?: string[] }> = [
    { desc: 'labels: contenttype=true, no options', labels: {}, expected: {} },
    { desc: 'labels: the deprecated autoDetect, case-insensitive', labels: { autodetect: 'false' }, expected: { autoDetect: false } },
    { desc: 'file: autoDetect true', file: { autoDetect: true }, expected: { autoDetect: true } },
    { desc: 'not a boolean', labels: { autoDetect: 'maybe' }, issues: ['autoDetect: expected true or false (got "maybe")'] },
    { desc: 'unknown option named', file: { autodetection: true }, issues: ["autodetection: unknown field 'autodetection' (did you mean 'autoDetect'?)"] },
  ];
  for (const { desc, labels, file, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, labels ? flatToTree(Object.entries(labels)) : file);
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected) assert.deepEqual(result.value, expected);
    });
  }
});

/** Answers in the chain without a Content-Type, as Traefik's circuitBreaker fallback does. */
const bareAnswer = definePlugin({
  name: 'bareAnswer',
  schema: Type.Object({}),
  create: () =>
    async function bareAnswer(ctx) {
      ctx.status = 503;
      ctx.body = 'Service Unavailable';
      ctx.remove('Content-Type');
    },
});

describe('contentType through a gateway', () => {
  let backend: Backend;
  let gateway: EmbeddedGateway;
  let port: number;
  const warnings: string[] = [];
  /** Streamed responses the backend holds until the test lets them go. */
  const held: ServerResponse[] = [];

  /** What the backend answers per path (after the router's prefix). */
  const ANSWERS: Record<string, (res: ServerResponse) => void> = {
    '/test': (res) => res.end('Test'),
    '/json': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"a":1}'),
    '/html': (res) => res.end('  <!DOCTYPE html><html><body>hi</body></html>'),
    '/png': (res) => res.end(Buffer.from('\x89PNG\x0D\x0A\x1A\x0A\x00\x00\x00\x0DIHDR', 'latin1')),
    '/binary': (res) => res.end(Buffer.from([0, 1, 2, 3])),
    '/empty': (res) => res.end(),
    '/nocontent': (res) => res.writeHead(204).end(),
    '/emptytype': (res) => res.writeHead(200, { 'content-type': '' }).end('<html>'),
    '/stream': (res) => {
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      res.write('<html><p>first part');
      held.push(res);
    },
  };

  before(async () => {
    backend = await startBackend('b', (req: IncomingMessage, res: ServerResponse) => {
      const path = `/${(req.url ?? '').split('/').slice(2).join('/')}`;
      (ANSWERS[path] ?? ((r: ServerResponse) => r.writeHead(404).end()))(res);
    });
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
    const route = (name: string, middlewares: string[]) => ({ rule: `PathPrefix(\`/${name}/\`)`, middlewares, service: 'b' });
    gateway = await startGateway({
      plugins: [contentType, bareAnswer],
      log,
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: {
        http: {
          routers: { sniff: route('sniff', ['sniff']), plain: route('plain', []), off: route('off', ['off']), on: route('on', ['on']), bare: route('bare', ['sniff', 'bare']), barePlain: route('bareplain', ['bare']) },
          middlewares: { sniff: { contentType: {} }, off: { contentType: { autoDetect: false } }, on: { contentType: { autoDetect: true } }, bare: { bareAnswer: {} } },
          services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } },
        },
      },
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    for (const res of held.splice(0)) res.end();
    await gateway.stop();
    await backend.close();
  });

  const typeOf = async (path: string, method = 'GET') => (await request(port, { path, method, headers: { host: 'localhost' } })).headers['content-type'];

  // Traefik's TestAutoDetection, then Go's rules.
  const CASES: Array<{ desc: string; path: string; method?: string; expected: string | undefined }> = [
    { desc: "keep the Content-Type returned by the server (no middleware)", path: '/plain/json', expected: 'application/json' },
    { desc: "don't auto-detect by default when the server sets none", path: '/plain/test', expected: undefined },
    { desc: 'keep the Content-Type returned by the server with the middleware', path: '/sniff/json', expected: 'application/json' },
    { desc: 'auto-detect when the server sets none, with the middleware', path: '/sniff/test', expected: 'text/plain; charset=utf-8' },
    { desc: 'HTML after leading whitespace', path: '/sniff/html', expected: 'text/html; charset=utf-8' },
    { desc: 'a PNG image', path: '/sniff/png', expected: 'image/png' },
    { desc: 'binary bytes', path: '/sniff/binary', expected: 'application/octet-stream' },
    { desc: 'an empty body gets no type', path: '/sniff/empty', expected: undefined },
    { desc: 'a 204 gets no type', path: '/sniff/nocontent', expected: undefined },
    { desc: 'HEAD: no body, no type', path: '/sniff/html', method: 'HEAD', expected: undefined },
    { desc: 'an empty Content-Type is kept as it is', path: '/sniff/emptytype', expected: '' },
    { desc: 'autoDetect: false does nothing', path: '/off/test', expected: undefined },
    { desc: 'autoDetect: true detects', path: '/on/test', expected: 'text/plain; charset=utf-8' },
    { desc: 'an answer made after it without a type (a circuit-breaker fallback) is detected', path: '/bare/x', expected: 'text/plain; charset=utf-8' },
    { desc: 'the same answer without the middleware has no type', path: '/bareplain/x', expected: undefined },
  ];
  for (const { desc, path, method, expected } of CASES) {
    test(desc, async () => assert.equal(await typeOf(path, method), expected));
  }

  test('the deprecated autoDetect is warned about, as in Traefik', () => {
    assert.equal(warnings.filter((w) => w.startsWith('autoDetect: deprecated')).length, 2);
  });

  test('a streamed response gets its type from the first chunk and keeps streaming', async () => {
    const count = held.length;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/sniff/stream', agent: false, headers: { host: 'localhost' } }, resolve).on('error', reject);
    });
    assert.equal(response.headers['content-type'], 'text/html; charset=utf-8');
    const chunks: string[] = [];
    response.setEncoding('utf8').on('data', (c: string) => chunks.push(c));
    await eventually(() => chunks.join('') === '<html><p>first part', 'the first chunk before the body ends');
    assert.equal(held.length, count + 1);
    const done = new Promise((resolve) => response.on('end', resolve));
    held.pop()!.end(' and the rest');
    await done;
    assert.equal(chunks.join(''), '<html><p>first part and the rest');
  });
});

describe('SniffingWriter', () => {
  /** Records what reaches the writer it wraps. */
  function recorder() {
    const calls: string[] = [];
    const inner = {
      headersSent: false,
      writeHead: (status: number, headers: Record<string, unknown>) => void calls.push(`head ${status} ${String(headers['content-type'])}`),
      write: (chunk: Buffer) => calls.push(`write ${chunk.toString('latin1')}`) > 0,
      end: () => void calls.push('end'),
      abort: (error: Error) => void calls.push(`abort ${error.message}`),
      onceDrain: () => {},
    };
    return { calls, inner };
  }

  test('an empty chunk does not decide the type; the first bytes do', () => {
    const { calls, inner } = recorder();
    const writer = new SniffingWriter(inner);
    writer.writeHead(200, {});
    assert.equal(writer.headersSent, true);
    writer.write(Buffer.alloc(0));
    writer.write(Buffer.from('GIF89a'));
    writer.end();
    assert.deepEqual(calls, ['head 200 image/gif', 'write GIF89a', 'end']);
  });

  test('a response that ends without a body is sent without a type; an abort drops the held head', () => {
    const ended = recorder();
    const a = new SniffingWriter(ended.inner);
    a.writeHead(200, { 'x-a': '1' });
    a.end();
    assert.deepEqual(ended.calls, ['head 200 undefined', 'end']);
    const aborted = recorder();
    const b = new SniffingWriter(aborted.inner);
    b.writeHead(200, {});
    b.abort(new Error('upstream broke'));
    assert.deepEqual(aborted.calls, ['abort upstream broke']);
  });

  test('a present type, in any case, and a 304 pass straight through', () => {
    const { calls, inner } = recorder();
    new SniffingWriter(inner).writeHead(200, { 'Content-Type': 'text/css' });
    new SniffingWriter(inner).writeHead(304, {});
    assert.deepEqual(calls, ['head 200 undefined', 'head 304 undefined']);
  });
});
