// Traefik 3.7's retry options through a real gateway in front of real backends: held-back statuses, bodies
// sent again, methods, network errors off, the time budget, and which server each try goes to.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { closedPort, request, startServer, type Listening } from '@wharf/test-helpers';
import retry, { parseStatusRanges } from './index.js';

describe('parseStatusRanges', () => {
  const cases: Array<{ desc: string; input: string[]; expected?: number[]; error?: string }> = [
    { desc: 'single codes become one-code ranges', input: ['503', '502'], expected: [503, 503, 502, 502] },
    { desc: 'ranges', input: ['500-599'], expected: [500, 599] },
    { desc: 'spaces around the parts', input: [' 500 - 504 '], expected: [500, 504] },
    { desc: 'not a number', input: ['5xx'], error: 'got "5xx"' },
    { desc: 'out of the status space', input: ['600'], error: 'got "600"' },
    { desc: 'three parts', input: ['500-503-504'], error: 'got "500-503-504"' },
  ];
  for (const { desc, input, expected, error } of cases) {
    test(desc, () => {
      if (error === undefined) assert.deepEqual(parseStatusRanges(input), expected);
      else assert.throws(() => parseStatusRanges(input), (err: Error) => err.message.startsWith('retry.status: ') && err.message.endsWith(error));
    });
  }
});

/** A backend that answers `status` and records each request's body, in arrival order across backends. */
interface Recorder {
  server: Listening;
  name: string;
}

describe('retry through the gateway', () => {
  const log: Array<{ server: string; method: string; body: string }> = [];
  const backends: Recorder[] = [];
  let unavailable: Recorder;
  let unavailable2: Recorder;
  let ok: Recorder;
  let slow503: Recorder;
  let refusedUrl: string;

  async function backend(name: string, answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<Recorder> {
    const server = await startServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        log.push({ server: name, method: req.method ?? '', body: Buffer.concat(chunks).toString() });
        answer(req, res);
      });
    });
    const recorder = { server, name };
    backends.push(recorder);
    return recorder;
  }
  const answer = (status: number, name: string) => (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'x-from': name, 'content-type': 'text/plain' });
    res.end(`${name} says ${status}`);
  };

  before(async () => {
    unavailable = await backend('unavailable', answer(503, 'unavailable'));
    unavailable2 = await backend('unavailable2', answer(503, 'unavailable2'));
    ok = await backend('ok', answer(200, 'ok'));
    // The time budget is spent by the time this answers: the server waits longer than the retry timeout.
    slow503 = await backend('slow503', (req, res) => setTimeout(() => answer(503, 'slow503')(req, res), 60));
    refusedUrl = `http://127.0.0.1:${await closedPort()}`;
  });
  after(async () => {
    for (const b of backends) await b.server.close();
  });

  const gateways: EmbeddedGateway[] = [];
  after(async () => {
    for (const g of gateways) await g.stop();
  });

  async function gatewayWith(servers: string[], options: Record<string, unknown>): Promise<number> {
    const gateway = await startGateway({ plugins: [retry], args: ['--entrypoints.web.address=127.0.0.1:0'] });
    gateways.push(gateway);
    gateway.configure({
      http: {
        routers: { r: { rule: 'PathPrefix(`/`)', service: 's', middlewares: ['retry'] } },
        // `url#weight` sets a weight.
        services: { s: { loadBalancer: { servers: servers.map((entry) => ({ url: entry.split('#')[0]!, weight: Number(entry.split('#')[1] ?? 1) })) } } },
        middlewares: { retry: { retry: options } },
      },
    });
    return gateway.address('web').port;
  }

  const cases: Array<{
    desc: string;
    servers: () => string[];
    options: Record<string, unknown>;
    method?: string;
    body?: string;
    chunked?: boolean;
    status: number;
    from?: string;
    tries: string[];
  }> = [
    {
      desc: 'a 503 is held back and the next server answers',
      servers: () => [unavailable.server.url, ok.server.url],
      options: { attempts: 3, status: ['503'] },
      status: 200,
      from: 'ok',
      tries: ['unavailable', 'ok'],
    },
    {
      desc: 'a status outside the list is the answer',
      servers: () => [unavailable.server.url, ok.server.url],
      options: { attempts: 3, status: ['500-502'] },
      status: 503,
      from: 'unavailable',
      tries: ['unavailable'],
    },
    {
      desc: 'the last try is the answer, even a listed status',
      servers: () => [unavailable.server.url, unavailable2.server.url],
      options: { attempts: 2, status: ['503'] },
      status: 503,
      from: 'unavailable2',
      tries: ['unavailable', 'unavailable2'],
    },
    {
      // The weights make the round-robin itself pick the heavy server twice in a row; retries must not.
      desc: 'never the same server twice in a row while another is in rotation',
      servers: () => [`${unavailable.server.url}#5`, unavailable2.server.url],
      options: { attempts: 5, status: ['503'] },
      status: 503,
      tries: ['unavailable', 'unavailable2', 'unavailable', 'unavailable2', 'unavailable'],
    },
    {
      desc: 'the only server is tried again',
      servers: () => [unavailable.server.url],
      options: { attempts: 3, status: ['503'] },
      status: 503,
      tries: ['unavailable', 'unavailable', 'unavailable'],
    },
    {
      desc: 'a PUT body is sent again, the same bytes',
      servers: () => [unavailable.server.url, ok.server.url],
      options: { attempts: 2, status: ['503'] },
      method: 'PUT',
      body: 'the same bytes',
      status: 200,
      tries: ['unavailable', 'ok'],
    },
    {
      desc: 'a POST is not sent again on a status',
      servers: () => [unavailable.server.url, ok.server.url],
      options: { attempts: 2, status: ['503'] },
      method: 'POST',
      body: 'order 66',
      status: 503,
      tries: ['unavailable'],
    },
    {
      desc: 'a POST is sent again with retryNonIdempotentMethod',
      servers: () => [unavailable.server.url, ok.server.url],
      options: { attempts: 2, status: ['503'], retryNonIdempotentMethod: true },
      method: 'POST',
      body: 'order 66',
      status: 200,
      tries: ['unavailable', 'ok'],
    },
    {
      desc: 'a body larger than maxRequestBodyBytes is not retried on a status',
      servers: () => [unavailable.server.url, ok.server.url],
      options: { attempts: 2, status: ['503'], maxRequestBodyBytes: 8 },
      method: 'PUT',
      body: 'more than eight bytes',
      status: 503,
      tries: ['unavailable'],
    },
    {
      desc: 'a chunked body found larger than maxRequestBodyBytes still reaches the server whole',
      servers: () => [unavailable.server.url, ok.server.url],
      options: { attempts: 2, status: ['503'], maxRequestBodyBytes: 8 },
      method: 'PUT',
      body: 'more than eight bytes, '.repeat(2000),
      chunked: true,
      status: 503,
      tries: ['unavailable'],
    },
    {
      desc: 'a chunked body within maxRequestBodyBytes is sent again',
      servers: () => [unavailable.server.url, ok.server.url],
      options: { attempts: 2, status: ['503'] },
      method: 'PUT',
      body: 'chunked and small',
      chunked: true,
      status: 200,
      tries: ['unavailable', 'ok'],
    },
    {
      desc: 'a refused connection is retried even for a POST (nothing was sent)',
      servers: () => [refusedUrl, ok.server.url],
      options: { attempts: 2 },
      method: 'POST',
      body: 'order 66',
      status: 200,
      tries: ['ok'],
    },
    {
      desc: 'disableRetryOnNetworkError: a refused connection is the answer',
      servers: () => [refusedUrl, ok.server.url],
      options: { attempts: 2, status: ['503'], disableRetryOnNetworkError: true },
      status: 502,
      tries: [],
    },
    {
      desc: 'disableRetryOnNetworkError with 502 listed: the failed try counts as a 502',
      servers: () => [refusedUrl, ok.server.url],
      options: { attempts: 2, status: ['502'], disableRetryOnNetworkError: true },
      status: 200,
      tries: ['ok'],
    },
    {
      desc: 'timeout: once spent, the answer goes to the client',
      servers: () => [slow503.server.url, ok.server.url],
      options: { attempts: 3, status: ['503'], timeout: '20ms' },
      status: 503,
      from: 'slow503',
      tries: ['slow503'],
    },
  ];

  for (const c of cases) {
    test(c.desc, async () => {
      const port = await gatewayWith(c.servers(), c.options);
      log.length = 0;
      const reply = await request(port, { method: c.method ?? 'GET', body: c.body, headers: c.chunked ? { 'transfer-encoding': 'chunked' } : {} });
      assert.equal(reply.status, c.status, reply.body);
      if (c.from !== undefined) {
        assert.equal(reply.headers['x-from'], c.from);
        assert.equal(reply.body, `${c.from} says ${c.status}`);
      }
      assert.deepEqual(
        log.map((l) => l.server),
        c.tries,
      );
      // Every try got the whole body, as the client sent it.
      for (const l of log) assert.equal(l.body, c.body ?? '');
    });
  }
});
