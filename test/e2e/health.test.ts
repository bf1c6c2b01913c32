// End-to-end health checks with the built-in plugins: servers leave and rejoin rotation, all down answers 503,
// passive marking under load, reloads keep health state, weighted services skip dead children (with healthCheck),
// labels and files decode to the same settings.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { type HealthEvent } from '@wharf/core';
import { flatToTree } from '@wharf/core/config';
import { eventually, get, sleep, startBackend, type Backend } from '@wharf/test-helpers';
import { startTestGateway, type TestGateway } from './gateway.js';

/** Room for timers and the event loop on a busy machine, added to functional deadlines. */
const SLACK = 500;

/** ok: 200; fail: 500; hang: never answers. */
type HealthMode = 'ok' | 'fail' | 'hang';

interface HealthyBackend extends Backend {
  mode: HealthMode;
  /** Status of answers outside /health (default 200). */
  trafficStatus: number;
  probes(): number;
  served(): number;
}

/** A recording backend whose /health answers as `mode` says; other paths answer `trafficStatus` with its name. */
async function healthBackend(name: string): Promise<HealthyBackend> {
  let self: HealthyBackend | undefined;
  const backend = await startBackend(name, (req, res) => {
    req.resume();
    if (req.url?.startsWith('/health')) {
      if (self!.mode === 'hang') return;
      res.statusCode = self!.mode === 'ok' ? 200 : 500;
      res.end(self!.mode);
      return;
    }
    res.writeHead(self!.trafficStatus, { 'x-backend': name, 'content-length': Buffer.byteLength(name) });
    res.end(name);
  });
  self = Object.assign(backend, {
    mode: 'ok' as HealthMode,
    trafficStatus: 200,
    probes: () => backend.requests.filter((r) => r.url.startsWith('/health')).length,
    served: () => backend.requests.filter((r) => !r.url.startsWith('/health')).length,
  });
  return self;
}

function config(urls: string[], lb: Record<string, unknown>, routers: Record<string, unknown> = {}) {
  return {
    http: {
      routers: { app: { rule: 'PathPrefix(`/`)', service: 'app' }, ...routers },
      services: { app: { loadBalancer: { servers: urls.map((url) => ({ url })), ...lb } } },
    },
  };
}

function serverStatus(gw: TestGateway, url: string): string | undefined {
  return gw.gateway.info.services['app@inline']?.serverStatus?.[url];
}

async function backendsOf(gw: TestGateway, n: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const reply = await get(gw.port, '/');
    assert.equal(reply.status, 200, reply.body);
    names.push(String(reply.headers['x-backend']));
  }
  return names;
}

describe('active health checks', () => {
  let a: HealthyBackend;
  let b: HealthyBackend;

  before(async () => {
    a = await healthBackend('a');
    b = await healthBackend('b');
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  test('a server whose health path stops answering leaves rotation within interval + timeout, and returns after recovering', async () => {
    a.mode = 'ok';
    // The healthy server must answer its checks within timeout even on a busy machine.
    const interval = 500;
    const timeout = 1000;
    const unhealthyInterval = 200;
    const gw = await startTestGateway(config([a.url, b.url], { healthCheck: { path: '/health', interval: `${interval}ms`, timeout: `${timeout}ms`, unhealthyInterval: `${unhealthyInterval}ms` } }));
    const events: HealthEvent[] = [];
    gw.gateway.on('health', (e: HealthEvent) => events.push(e));
    try {
      await eventually(() => a.probes() > 0 && b.probes() > 0, 'first checks');
      assert.deepEqual(new Set(await backendsOf(gw, 4)), new Set(['a', 'b']));

      a.mode = 'hang';
      await eventually(() => serverStatus(gw, a.url) === 'DOWN', 'a out of rotation', interval + timeout + SLACK, 10);
      assert.deepEqual(await backendsOf(gw, 6), ['b', 'b', 'b', 'b', 'b', 'b']);

      a.mode = 'ok';
      await eventually(() => serverStatus(gw, a.url) === 'UP', 'a back in rotation', unhealthyInterval + timeout + SLACK, 10);
      assert.deepEqual(new Set(await backendsOf(gw, 4)), new Set(['a', 'b']));

      assert.deepEqual(events.map((e) => [e.url, e.up]), [[a.url, false], [a.url, true]], 'each transition once');
      assert.match(events[0]!.reason!, /GET http:\/\/127\.0\.0\.1:\d+\/health: no answer within 1s/);
    } finally {
      await gw.stop();
    }
  });

  test('with every server down the service answers 503 at once, without trying any', async () => {
    a.mode = 'fail';
    b.mode = 'fail';
    const gw = await startTestGateway(config([a.url, b.url], { healthCheck: { path: '/health', interval: '1h' } }));
    try {
      await eventually(() => serverStatus(gw, a.url) === 'DOWN' && serverStatus(gw, b.url) === 'DOWN', 'both down');
      const served = a.served() + b.served();
      for (let i = 0; i < 3; i++) {
        const reply = await get(gw.port, '/');
        assert.equal(reply.status, 503);
        assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
        assert.equal(reply.body, 'Service Unavailable: no available server');
      }
      assert.equal(a.served() + b.served(), served, 'no request reached a server');
    } finally {
      a.mode = 'ok';
      b.mode = 'ok';
      await gw.stop();
    }
  });

  test('reloads do not reset health state or restart checks', async () => {
    a.mode = 'fail';
    b.mode = 'ok';
    const probesBefore = { a: a.probes(), b: b.probes() };
    const lb = { healthCheck: { path: '/health', interval: '1h' } };
    const gw = await startTestGateway(config([a.url, b.url], lb));
    try {
      await eventually(() => serverStatus(gw, a.url) === 'DOWN' && b.probes() > probesBefore.b, 'first checks, a down');
      // Ten reloads that change other things: a new router each time, as container events would.
      for (let i = 0; i < 10; i++) {
        gw.gateway.configure(config([a.url, b.url], lb, { [`extra${i}`]: { rule: `Path(\`/extra${i}\`)`, service: 'app' } }));
        assert.equal(serverStatus(gw, a.url), 'DOWN', `generation ${gw.gateway.info.generation} still has a down`);
        assert.equal(serverStatus(gw, b.url), 'UP');
      }
      assert.deepEqual(await backendsOf(gw, 4), ['b', 'b', 'b', 'b']);
      await sleep(100);
      assert.deepEqual({ a: a.probes() - probesBefore.a, b: b.probes() - probesBefore.b }, { a: 1, b: 1 }, 'one check per server for all eleven generations');
    } finally {
      a.mode = 'ok';
      await gw.stop();
    }
  });
});

describe('passive health checks', () => {
  let good: HealthyBackend;
  let bad: HealthyBackend;

  before(async () => {
    good = await healthBackend('good');
    bad = await healthBackend('bad');
    bad.trafficStatus = 500;
  });
  after(async () => {
    await good.close();
    await bad.close();
  });

  test('under load, 5xx answers take a server out without waiting for the next active check', async () => {
    const maxFailedAttempts = 3;
    const gw = await startTestGateway(
      config([good.url, bad.url], {
        // The active check passes (and would only run again in an hour): live traffic alone takes bad out.
        healthCheck: { path: '/health', interval: '1h' },
        // The default failureWindow (10s) outlasts the load even on a busy machine; its end is tested in the plugin.
        passiveHealthCheck: { maxFailedAttempts },
      }),
    );
    const events: HealthEvent[] = [];
    gw.gateway.on('health', (e: HealthEvent) => events.push(e));
    const concurrency = 20;
    const perClient = 20;
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    try {
      await eventually(() => bad.probes() > 0 && good.probes() > 0, 'first checks');
      const statuses: Record<number, number> = {};
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let i = 0; i < perClient; i++) {
            const status = await statusOf(gw.port, agent);
            statuses[status] = (statuses[status] ?? 0) + 1;
          }
        }),
      );
      const badServed = bad.served();
      assert.equal(serverStatus(gw, bad.url), 'DOWN');
      assert.ok(badServed >= maxFailedAttempts, `bad got ${badServed} requests`);
      // Only requests already on their way when it went out reached it after the third failure.
      assert.ok(badServed <= maxFailedAttempts - 1 + concurrency, `bad got ${badServed} requests`);
      assert.deepEqual(statuses, { 200: concurrency * perClient - badServed, 500: badServed });
      assert.deepEqual(events.map((e) => [e.url, e.up]), [[bad.url, false]]);
      assert.match(events[0]!.reason!, /^3 failed request\(s\) within 10s, last: answered 500$/);
      assert.equal(bad.probes(), 1, 'no active check was involved');
    } finally {
      agent.destroy();
      await gw.stop();
    }
  });
});

describe('weighted services', () => {
  let x: HealthyBackend;
  let y: HealthyBackend;

  before(async () => {
    x = await healthBackend('x');
    y = await healthBackend('y');
  });
  after(async () => {
    await x.close();
    await y.close();
  });

  const check = { path: '/health', interval: '100ms' };
  const child = (backend: HealthyBackend) => ({ loadBalancer: { servers: [{ url: backend.url }], healthCheck: check } });

  /** Router `app` → weighted `split` (x weighted 3, y 1), with `weighted` fields added to split. */
  function weightedConfig(weighted: Record<string, unknown>, services: Record<string, unknown> = {}) {
    return {
      http: {
        routers: { app: { rule: 'PathPrefix(`/`)', service: 'split' } },
        services: {
          split: { weighted: { services: [{ name: 'sx', weight: 3 }, { name: 'sy', weight: 1 }], ...weighted } },
          sx: child(x),
          sy: child(y),
          ...services,
        },
      },
    };
  }

  const statusOf = (gw: TestGateway, service: string, backend: HealthyBackend) => gw.gateway.info.services[`${service}@inline`]?.serverStatus?.[backend.url];

  /** Sends n requests; counts answers by backend name, or by status when no backend answered. */
  async function tally(gw: TestGateway, n: number): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const reply = await get(gw.port, '/');
      const key = reply.status === 200 ? String(reply.headers['x-backend']) : String(reply.status);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  test('with healthCheck, a child whose servers are all down is skipped; none left answers 503; recovery rejoins', async () => {
    x.mode = 'ok';
    y.mode = 'ok';
    const gw = await startTestGateway(weightedConfig({ healthCheck: {} }));
    try {
      await eventually(() => x.probes() > 0 && y.probes() > 0, 'first checks');
      assert.deepEqual(await tally(gw, 8), { x: 6, y: 2 });

      x.mode = 'fail';
      await eventually(() => statusOf(gw, 'sx', x) === 'DOWN', 'x down');
      assert.deepEqual(await tally(gw, 8), { y: 8 });

      y.mode = 'fail';
      await eventually(() => statusOf(gw, 'sy', y) === 'DOWN', 'y down');
      const served = x.served() + y.served();
      const reply = await get(gw.port, '/');
      assert.equal(reply.status, 503);
      assert.equal(reply.body, 'Service Unavailable: no available server');
      assert.equal(x.served() + y.served(), served, 'no request reached a server');

      x.mode = 'ok';
      await eventually(() => statusOf(gw, 'sx', x) === 'UP', 'x back');
      assert.deepEqual(await tally(gw, 4), { x: 4 });
    } finally {
      x.mode = 'ok';
      y.mode = 'ok';
      await gw.stop();
    }
  });

  test('without healthCheck, as in Traefik, a child with every server down keeps its share and answers 503', async () => {
    x.mode = 'fail';
    y.mode = 'ok';
    const gw = await startTestGateway(weightedConfig({}));
    try {
      await eventually(() => statusOf(gw, 'sx', x) === 'DOWN' && y.probes() > 0, 'x down, y checked');
      assert.deepEqual(await tally(gw, 8), { 503: 6, y: 2 });
    } finally {
      x.mode = 'ok';
      await gw.stop();
    }
  });

  test('health propagates through nested weighted services with healthCheck', async () => {
    x.mode = 'fail';
    y.mode = 'ok';
    // split → inner (→ sx) and sy: inner has no server left once x is down, so split skips it.
    const gw = await startTestGateway(
      weightedConfig(
        { healthCheck: {}, services: [{ name: 'inner', weight: 3 }, { name: 'sy', weight: 1 }] },
        { inner: { weighted: { healthCheck: {}, services: [{ name: 'sx' }] } } },
      ),
    );
    try {
      await eventually(() => statusOf(gw, 'sx', x) === 'DOWN', 'x down');
      assert.deepEqual(await tally(gw, 4), { y: 4 });
    } finally {
      x.mode = 'ok';
      await gw.stop();
    }
  });
});

describe('configuration', () => {
  test('labels decode to the same healthCheck and passiveHealthCheck as a file', async () => {
    const gw = await startTestGateway({});
    try {
      const fromLabels = gw.gateway.configure(
        flatToTree(
          Object.entries({
            'http.services.api.loadbalancer.servers[0].url': 'http://10.0.0.1:8080',
            'http.services.api.loadbalancer.healthcheck.path': '/health?full=1',
            'http.services.api.loadbalancer.healthcheck.interval': '10s',
            'http.services.api.loadbalancer.healthcheck.unhealthyinterval': '2s',
            'http.services.api.loadbalancer.healthcheck.timeout': '3s',
            'http.services.api.loadbalancer.healthcheck.scheme': 'https',
            'http.services.api.loadbalancer.healthcheck.mode': 'http',
            'http.services.api.loadbalancer.healthcheck.hostname': 'probe.local',
            'http.services.api.loadbalancer.healthcheck.port': '8443',
            'http.services.api.loadbalancer.healthcheck.method': 'HEAD',
            'http.services.api.loadbalancer.healthcheck.status': '204',
            'http.services.api.loadbalancer.healthcheck.headers.X-Probe': 'yes',
            'http.services.api.loadbalancer.healthcheck.followredirects': 'false',
            'http.services.api.loadbalancer.passiveHealthcheck.maxFailedAttempts': '3',
            'http.services.api.loadbalancer.passiveHealthcheck.failureWindow': '30s',
          }),
        ),
      );
      const fromFile = gw.gateway.configure({
        http: {
          services: {
            api: {
              loadBalancer: {
                servers: [{ url: 'http://10.0.0.1:8080' }],
                healthCheck: {
                  path: '/health?full=1',
                  interval: '10s',
                  unhealthyInterval: '2s',
                  timeout: '3s',
                  scheme: 'https',
                  mode: 'http',
                  hostname: 'probe.local',
                  port: 8443,
                  method: 'HEAD',
                  status: 204,
                  headers: { 'X-Probe': 'yes' },
                  followRedirects: false,
                },
                passiveHealthCheck: { maxFailedAttempts: 3, failureWindow: '30s' },
              },
            },
          },
        },
      });
      assert.deepEqual(fromLabels.problems, []);
      assert.deepEqual(fromFile.problems, []);
      const lb = fromLabels.config.http?.services?.api?.loadBalancer as Record<string, unknown>;
      assert.deepEqual(fromFile.config.http?.services?.api?.loadBalancer, lb);
      assert.deepEqual(lb.healthCheck, {
        path: '/health?full=1',
        interval: 10_000,
        unhealthyInterval: 2_000,
        timeout: 3_000,
        scheme: 'https',
        mode: 'http',
        hostname: 'probe.local',
        port: 8443,
        method: 'HEAD',
        status: 204,
        headers: { 'X-Probe': 'yes' },
        followRedirects: false,
      });
      assert.deepEqual(lb.passiveHealthCheck, { maxFailedAttempts: 3, failureWindow: 30_000 });
    } finally {
      await gw.stop();
    }
  });

  test('weighted healthCheck: a bare label enables it, like `healthCheck: {}` in a file', async () => {
    const gw = await startTestGateway({});
    try {
      const fromLabels = gw.gateway.configure(
        flatToTree(
          Object.entries({
            'http.services.split.weighted.services[0].name': 'a',
            'http.services.split.weighted.healthcheck': 'true',
          }),
        ),
      );
      assert.deepEqual(fromLabels.problems, []);
      assert.deepEqual(fromLabels.config.http?.services?.split?.weighted, { services: [{ name: 'a', weight: 1 }], healthCheck: {} });
      const typo = gw.gateway.configure({ http: { services: { split: { weighted: { services: [{ name: 'a' }], healthCheck: { path: '/health' } } } } } });
      assert.equal(typo.problems.length, 1);
      assert.match(typo.problems[0]!.messages.join(), /unknown field 'path'/);
    } finally {
      await gw.stop();
    }
  });

  test('a typo in a healthCheck label disables only that service, naming the label', async () => {
    const gw = await startTestGateway({});
    try {
      const decoded = gw.gateway.configure(
        flatToTree(
          Object.entries({
            'http.services.api.loadbalancer.servers[0].url': 'http://10.0.0.1:8080',
            'http.services.api.loadbalancer.healthcheck.intervall': '10s',
            'http.services.ok.loadbalancer.servers[0].url': 'http://10.0.0.2:8080',
          }),
        ),
      );
      assert.deepEqual(decoded.problems, [
        { kind: 'services', name: 'api', messages: ["http.services.api.loadbalancer.healthcheck.intervall: unknown field 'intervall' (did you mean 'interval'?)"] },
      ]);
      assert.ok(decoded.config.http?.services?.ok);
    } finally {
      await gw.stop();
    }
  });
});

/** One GET on a keep-alive agent; resolves to the status (connection errors reject). */
function statusOf(port: number, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}
