// /api/events (server-sent events): a message on every configuration change, health transition and traffic sample.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { type EmbeddedGateway } from '@wharf/core';
import { startGateway } from 'wharf';
import { request, startBackend, type Backend } from '@wharf/test-helpers';

// Event payloads are read field by field in the assertions; their shapes are the API's, checked there.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface ServerSentEvent {
  event: string;
  data: Json;
}

/** A subscription to /api/events that queues parsed events and hands them out by name. */
interface EventStream {
  headers: http.IncomingHttpHeaders;
  /** The next event of this name (earlier events of other names are skipped). */
  next(event: string, accept?: (data: Json) => boolean): Promise<Json>;
  close(): void;
}

function subscribe(port: number): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/events', agent: false }, (res) => {
      const queue: ServerSentEvent[] = [];
      const waiters: Array<() => void> = [];
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) queue.push({ event, data: JSON.parse(data.join('\n')) });
        }
        for (const w of waiters.splice(0)) w();
      });
      resolve({
        headers: res.headers,
        async next(event, accept = () => true) {
          for (;;) {
            const i = queue.findIndex((e) => e.event === event && accept(e.data));
            if (i !== -1) {
              const found = queue[i]!;
              queue.splice(0, i + 1);
              return found.data;
            }
            if (res.destroyed || res.readableEnded) throw new Error(`the event stream ended before a '${event}' event`);
            await new Promise<void>((r) => {
              waiters.push(r);
              res.once('close', r);
            });
          }
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

describe('api: /api/events', () => {
  let backend: Backend;
  let gateway: EmbeddedGateway;
  let api: number;
  let web: number;
  const config = (routers: Record<string, unknown>) => ({
    http: { routers, services: { app: { loadBalancer: { servers: [{ url: backend.url }] } } } },
  });

  before(async () => {
    backend = await startBackend('app');
    gateway = await startGateway({
      args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.traefik.address=127.0.0.1:0', '--api.insecure'],
      dynamic: config({ app: { rule: 'Host(`app.test`)', entryPoints: ['web'], service: 'app' } }),
    });
    api = gateway.address('traefik').port;
    web = gateway.address('web').port;
  });

  after(async () => {
    await gateway.stop();
    await backend.close();
  });

  test('is a text/event-stream that announces itself first', async () => {
    const stream = await subscribe(api);
    try {
      assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
      assert.equal(stream.headers['cache-control'], 'no-store');
      assert.deepEqual(await stream.next('hello'), {});
    } finally {
      stream.close();
    }
  });

  test('a configuration change pushes `reload` with the new generation; the API already shows it', async () => {
    const stream = await subscribe(api);
    try {
      await stream.next('hello');
      const before = gateway.info.generation;
      gateway.configure(config({
        app: { rule: 'Host(`app.test`)', entryPoints: ['web'], service: 'app' },
        typo: { rule: 'Host(`typo.test`)', entryPoints: ['web'], service: 'app', middlewares: ['nope'] },
      }));
      const reload = await stream.next('reload');
      assert.equal(reload.generation, before + 1);
      const typo = await request(api, { path: '/api/http/routers/typo@inline' });
      const body = JSON.parse(typo.body);
      assert.equal(body.status, 'disabled');
      assert.deepEqual(body.error, ["middleware 'nope@inline' does not exist"]);
    } finally {
      stream.close();
    }
  });

  test('a health transition pushes `health`, and serverStatus follows', async () => {
    const stream = await subscribe(api);
    try {
      await stream.next('hello');
      gateway.health.set('app@inline', backend.url, false, 'connection refused');
      assert.deepEqual(await stream.next('health'), { service: 'app@inline', url: backend.url, up: false, reason: 'connection refused' });
      const down = JSON.parse((await request(api, { path: '/api/http/services/app@inline' })).body);
      assert.deepEqual(down.serverStatus, { [backend.url]: 'DOWN' });
      gateway.health.set('app@inline', backend.url, true);
      assert.deepEqual(await stream.next('health'), { service: 'app@inline', url: backend.url, up: true });
      const up = JSON.parse((await request(api, { path: '/api/http/services/app@inline' })).body);
      assert.deepEqual(up.serverStatus, { [backend.url]: 'UP' });
    } finally {
      stream.close();
    }
  });

  test('`traffic` samples every second carry per-router rates and totals by status class; /api/wharf/traffic has the history', async () => {
    const stream = await subscribe(api);
    try {
      await stream.next('hello');
      for (let i = 0; i < 3; i++) assert.equal((await request(web, { path: '/', headers: { host: 'app.test' } })).status, 200);
      assert.equal((await request(web, { path: '/', headers: { host: 'typo.test' } })).status, 404, 'a disabled router is not routed');
      const sample = await stream.next('traffic', (d) => d.totals?.['app@inline']?.requests === 3);
      assert.deepEqual(sample.totals['app@inline'], { requests: 3, '1xx': 0, '2xx': 3, '3xx': 0, '4xx': 0, '5xx': 0 });
      assert.equal(typeof sample.time, 'number');
      assert.ok(sample.routers['app@inline'].requests >= 0);
      const report = JSON.parse((await request(api, { path: '/api/wharf/traffic' })).body);
      assert.equal(report.intervalSeconds, 1);
      assert.ok(report.times.length >= 1 && report.times.length <= 60);
      const app = report.routers['app@inline'];
      assert.deepEqual(app.total, { requests: 3, '1xx': 0, '2xx': 3, '3xx': 0, '4xx': 0, '5xx': 0 });
      assert.equal(app.rate.requests.length, report.times.length);
      const sum = app.rate.requests.reduce((a: number, b: number) => a + b, 0);
      assert.ok(sum > 0, 'the requests show up in the per-second series');
    } finally {
      stream.close();
    }
  });

  test('open streams end when the gateway stops, so an open dashboard does not hold the shutdown', async () => {
    const own = await startGateway({ args: ['--entrypoints.traefik.address=127.0.0.1:0', '--api.insecure'] });
    const stream = await subscribe(own.address('traefik').port);
    await stream.next('hello');
    await own.stop();
    await assert.rejects(stream.next('never'), /ended/);
  });
});
