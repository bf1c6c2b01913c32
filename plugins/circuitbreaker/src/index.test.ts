// circuitBreaker: options from labels and from a file (named errors), and through a real gateway in front of a real
// backend that fails on demand: opening on 5xx answers, on connections the backend closes (Wharf's 502) and on
// latency; the fallback answer; one breaker per router; and the whole cycle back to closed with traffic flowing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { definePlugin, startGateway, Type, wrapResponse, type EmbeddedGateway, type ResponseWriter } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import { eventually, get, startBackend, type Backend } from '@wharf/test-helpers';
import circuitBreaker, { schema } from './index.js';

const DEFAULTS = { checkPeriod: 100, fallbackDuration: 10_000, recoveryDuration: 10_000, responseCode: 503 };

describe('circuitBreaker options', () => {
  const cases: Array<{ desc: string; labels?: Record<string, string>; file?: Record<string, unknown>; expected?: unknown; issues?: string[] }> = [
    { desc: 'labels: expression alone, Traefik defaults', labels: { expression: 'NetworkErrorRatio() > 0.5' }, expected: { expression: 'NetworkErrorRatio() > 0.5', ...DEFAULTS } },
    {
      desc: 'labels: commas inside the expression are not a list',
      labels: { expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.30 || NetworkErrorRatio() > 0.10' },
      expected: { expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.30 || NetworkErrorRatio() > 0.10', ...DEFAULTS },
    },
    {
      desc: 'labels: every option, keys case-insensitive, durations as Go writes them',
      labels: { EXPRESSION: 'LatencyAtQuantileMS(50.0) > 100', checkperiod: '50ms', fallbackDuration: '1m30s', recoveryduration: '2', responseCode: '418' },
      expected: { expression: 'LatencyAtQuantileMS(50.0) > 100', checkPeriod: 50, fallbackDuration: 90_000, recoveryDuration: 2000, responseCode: 418 },
    },
    {
      desc: 'file: the same options as a YAML file holds them',
      file: { expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.25', checkPeriod: '250ms', fallbackDuration: '5s', responseCode: 500 },
      expected: { expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.25', checkPeriod: 250, fallbackDuration: 5000, recoveryDuration: 10_000, responseCode: 500 },
    },
    { desc: 'expression is required', labels: { checkPeriod: '1s' }, issues: ['expression: is required'] },
    { desc: 'a duration that is not one', labels: { expression: 'NetworkErrorRatio() > 0.5', fallbackDuration: 'soon' }, issues: ['fallbackDuration: expected a duration such as 10s, 500ms, 1m30s or a number of seconds (got "soon")'] },
    { desc: 'responseCode out of range', file: { expression: 'NetworkErrorRatio() > 0.5', responseCode: 42 }, issues: ['responseCode: must be >= 100'] },
    { desc: 'unknown option named', labels: { expression: 'NetworkErrorRatio() > 0.5', fallbackDurration: '1s' }, issues: ["fallbackDurration: unknown field 'fallbackDurration' (did you mean 'fallbackDuration'?)"] },
  ];
  for (const { desc, labels, file, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, labels ? flatToTree(Object.entries(labels)) : file);
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected) assert.deepEqual(result.value, expected);
    });
  }

  test('validate names the field and the column of the expression', () => {
    assert.throws(() => circuitBreaker.validate!({ ...DEFAULTS, expression: 'NetworkErrorRatio() > 0.5 && Latency() > 1' }), {
      message: /^expression: unknown function 'Latency'; known: .* at column 30 of "NetworkErrorRatio\(\) > 0\.5 && Latency\(\) > 1"$/,
    });
  });
});

/** A middleware that answers 500 itself, to place before or after the breaker. */
const answer500 = definePlugin({
  name: 'answer500',
  schema: Type.Object({}),
  create: () =>
    async function answer500(ctx) {
      ctx.status = 500;
      ctx.body = 'refused here';
    },
});

/** Holds the whole response back and sends it once the rest of the chain is done, as `errors` or `buffering` before the breaker would. */
const holdBack = definePlugin({
  name: 'holdBack',
  schema: Type.Object({}),
  create: () =>
    async function holdBack(ctx, next) {
      let head: [number, OutgoingHttpHeaders] | undefined;
      const body: Buffer[] = [];
      let ended: { trailers?: OutgoingHttpHeaders } | undefined;
      let inner: ResponseWriter | undefined;
      const unwrap = wrapResponse(ctx, (writer): ResponseWriter => {
        inner = writer;
        return {
          get headersSent() {
            return head !== undefined;
          },
          writeHead: (status, headers) => void (head = [status, headers]),
          write: (chunk) => body.push(chunk) > 0,
          end: (trailers) => void (ended = { trailers }),
          abort: (error) => writer.abort(error),
          onceDrain: (callback) => writer.onceDrain(callback),
        };
      });
      await next();
      // A Koa-style answer (ctx.body) is written after the chain: let it through unheld.
      if (!head || !ended || !inner) return unwrap();
      inner.writeHead(...head);
      for (const chunk of body) inner.write(chunk);
      inner.end(ended.trailers);
    },
});

describe('circuitBreaker through a gateway', () => {
  let backend: Backend;
  let gateway: EmbeddedGateway;
  let port: number;
  const logs: Array<{ msg: string; router?: string }> = [];
  /** What the backend does, per path prefix. */
  const mode: Record<string, 'ok' | 'fail' | 'close' | 'slow' | 'hang'> = { codes: 'ok', net: 'ok', slow: 'slow', held: 'close', timeout: 'hang' };
  /** Responses of the `hang` mode, answered only when the suite ends. */
  const hung: ServerResponse[] = [];

  const FAST = { checkPeriod: '20ms', fallbackDuration: '300ms', recoveryDuration: '300ms' };

  before(async () => {
    backend = await startBackend('b', (req, res) => {
      const what = mode[req.url?.split('/')[1] ?? ''] ?? 'ok';
      if (what === 'fail') return void res.writeHead(500).end('broken');
      if (what === 'close') return void res.socket?.destroy();
      if (what === 'slow') return void setTimeout(() => res.end('late'), 150);
      if (what === 'hang') return void hung.push(res);
      res.end('ok');
    });
    const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as { msg: string; router?: string }) });
    const route = (path: string, middleware: string) => ({ rule: `PathPrefix(\`/${path}\`)`, middlewares: [middleware], service: 'b' });
    gateway = await startGateway({
      plugins: [circuitBreaker, answer500, holdBack],
      log,
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: {
        http: {
          routers: {
            codes: route('codes', 'on-5xx'),
            net: route('net', 'on-network'),
            slow: route('slow', 'on-latency'),
            once1: route('once1', 'once'),
            once2: route('once2', 'once'),
            broken: route('broken', 'bad'),
            before: { rule: 'PathPrefix(`/before`)', middlewares: ['answer', 'on-5xx-before'], service: 'b' },
            after: { rule: 'PathPrefix(`/after`)', middlewares: ['on-5xx-after', 'answer'], service: 'b' },
            held: { rule: 'PathPrefix(`/held`)', middlewares: ['hold', 'on-network-held'], service: 'b' },
            timeout: { rule: 'PathPrefix(`/timeout`)', middlewares: ['on-network-timeout'], service: 'short' },
          },
          middlewares: {
            'on-5xx': { circuitBreaker: { expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.5', ...FAST } },
            'on-network': { circuitBreaker: { expression: 'NetworkErrorRatio() > 0.5', ...FAST } },
            'on-latency': { circuitBreaker: { expression: 'LatencyAtQuantileMS(50.0) > 100', fallbackDuration: '1m' } },
            once: { circuitBreaker: { expression: 'RequestThreshold() >= 1', fallbackDuration: '1m', responseCode: 429 } },
            bad: { circuitBreaker: { expression: 'NetworkErrorRatio() > 50%' } },
            answer: { answer500: {} },
            hold: { holdBack: {} },
            'on-network-held': { circuitBreaker: { expression: 'NetworkErrorRatio() > 0.5', checkPeriod: '1ms', fallbackDuration: '1m' } },
            'on-network-timeout': { circuitBreaker: { expression: 'NetworkErrorRatio() > 0.5', checkPeriod: '1ms', fallbackDuration: '1m' } },
            'on-5xx-before': { circuitBreaker: { expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.5', checkPeriod: '1ms', fallbackDuration: '1m' } },
            'on-5xx-after': { circuitBreaker: { expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.5', checkPeriod: '1ms', fallbackDuration: '1m' } },
          },
          services: {
            b: { loadBalancer: { servers: [{ url: backend.url }] } },
            short: { loadBalancer: { servers: [{ url: backend.url }], serversTransport: 'short' } },
          },
          serversTransports: { short: { forwardingTimeouts: { responseHeaderTimeout: '100ms' } } },
        },
      },
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    for (const res of hung.splice(0)) res.end();
    await gateway.stop();
    await backend.close();
  });

  /** Polls until `count` requests in a row answer `status`. */
  async function streak(path: string, status: number, count: number, what: string): Promise<void> {
    let run = 0;
    await eventually(async () => {
      run = (await get(port, path)).status === status ? run + 1 : 0;
      return run >= count;
    }, what, 30_000, 5);
  }

  test('a bad expression disables the middleware and its router, naming the column', () => {
    const info = gateway.info.middlewares['bad@inline'];
    assert.equal(info?.status, 'disabled');
    assert.match(String(info?.errors), /expression: unexpected '%' \(operators: && \|\| == != < <= > >=\) at column 25/);
    assert.equal(gateway.info.routers['broken@inline']?.status, 'disabled');
  });

  test('closed: requests pass and answers are untouched', async () => {
    const reply = await get(port, '/codes/a');
    assert.deepEqual([reply.status, reply.body], [200, 'ok']);
  });

  test('opens under a backend answering 500, answers 503 without reaching it, closes once it recovers', async () => {
    mode.codes = 'fail';
    const open = await eventually(async () => {
      const before = backend.requests.length;
      const reply = await get(port, '/codes/a');
      return reply.status === 503 && { reply, reached: backend.requests.length - before };
    }, 'the circuit open');
    assert.deepEqual([open.reply.body, open.reply.headers['content-type']], ['Service Unavailable', undefined]);
    assert.equal(open.reached, 0, 'an open circuit does not reach the service');
    mode.codes = 'ok';
    await streak('/codes/a', 200, 20, 'the circuit closed, every request served');
    await eventually(() => logs.some((l) => l.router === 'codes@inline' && l.msg.startsWith('circuit breaker closed')), 'the closed transition logged');
    const transitions = logs.filter((l) => l.router === 'codes@inline').map((l) => l.msg.split(':')[0]);
    assert.deepEqual(transitions, ['circuit breaker open', 'circuit breaker recovering', 'circuit breaker closed'], 'each transition logged once');
  });

  test('connections the backend closes are network errors (Wharf answers 502): opens, then closes with traffic', async () => {
    mode.net = 'close';
    const first = await get(port, '/net/a');
    assert.equal(first.status, 502);
    await eventually(async () => (await get(port, '/net/a')).status === 503, 'the circuit open on network errors');
    mode.net = 'ok';
    await streak('/net/a', 200, 20, 'the circuit closed again');
  });

  test('LatencyAtQuantileMS: a slow backend opens the circuit', async () => {
    assert.equal((await get(port, '/slow/a')).status, 200);
    await eventually(async () => (await get(port, '/slow/a')).status === 503, 'the circuit open on latency');
  });

  test('responseCode and its reason phrase; each router has its own breaker, as in Traefik', async () => {
    assert.equal((await get(port, '/once1/a')).status, 200, 'the first request is served, then the condition holds');
    const refused = await get(port, '/once1/a');
    assert.deepEqual([refused.status, refused.body], [429, 'Too Many Requests']);
    assert.equal((await get(port, '/once2/a')).status, 200, 'the other router using the same middleware is still closed');
    assert.equal((await get(port, '/once2/a')).status, 429);
  });

  test('only what happens after the breaker counts, as in Traefik', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await get(port, '/after/x')).body, i === 0 ? 'refused here' : 'Service Unavailable', `answer ${i}`);
    for (let i = 0; i < 5; i++) assert.equal((await get(port, '/before/x')).body, 'refused here', 'an answer made before the breaker never reaches it');
  });

  test("Wharf's own 502 counts even when a middleware before the breaker holds the response back", async () => {
    assert.equal((await get(port, '/held/x')).status, 502);
    const refused = await get(port, '/held/x');
    assert.deepEqual([refused.status, refused.body], [503, 'Service Unavailable']);
  });

  test("a backend that does not answer in time is a network error too (Wharf's 504)", async () => {
    assert.equal((await get(port, '/timeout/x')).status, 504);
    assert.equal((await get(port, '/timeout/x')).status, 503);
  });
});
