// The plugin in a real gateway: when checks run, how verdicts combine, what reloads keep and stop.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, freePort, sleep } from '@wharf/test-helpers';
import { serviceConfig, startHealthBackend, startTestGateway, type HealthBackend, type HealthMode, type TestGateway } from './harness.test.helper.js';

const S = 's@inline';
/** Room for timers and the event loop on a busy machine, added to every functional deadline. */
const SLACK = 500;

describe('active checks', () => {
  let a: HealthBackend;
  let b: HealthBackend;
  let gw: TestGateway | undefined;

  before(async () => {
    a = await startHealthBackend('a');
    b = await startHealthBackend('b');
  });
  after(async () => {
    await a.close();
    await b.close();
  });
  /** Starts a gateway once the backends answer their health path as `modes` says. */
  async function start(dynamic: unknown, modes: { a?: HealthMode } = {}): Promise<TestGateway> {
    a.mode = modes.a ?? 'ok';
    b.mode = 'ok';
    a.probes.length = 0;
    b.probes.length = 0;
    gw = await startTestGateway(dynamic);
    return gw;
  }
  async function stop(): Promise<void> {
    await gw?.stop();
    gw = undefined;
  }

  test('each server is checked once, however many routers use its service', async () => {
    const extra = { routers: { r2: { rule: 'Path(`/two`)', service: 's' }, r3: { rule: 'Path(`/three`)', service: 's' } } };
    const g = await start(serviceConfig([a.url, b.url], { healthCheck: { path: '/health', interval: '1h' } }, extra));
    try {
      await eventually(() => a.probes.length === 1 && b.probes.length === 1, 'first checks');
      await g.get('/two');
      await sleep(100);
      assert.equal(a.probes.length, 1);
      assert.equal(b.probes.length, 1);
    } finally {
      await stop();
    }
  });

  test('a server that is down is checked every unhealthyInterval, and back up at its first good answer', async () => {
    const g = await start(serviceConfig([a.url, b.url], { healthCheck: { path: '/health', interval: '1h', unhealthyInterval: '50ms' } }), { a: 'fail' });
    try {
      await eventually(() => g.status(S, a.url) === 'DOWN', 'a down');
      const seen = a.probes.length;
      await eventually(() => a.probes.length >= seen + 3, 'three more checks of a while down', 3 * 50 + SLACK);
      a.mode = 'ok';
      await eventually(() => g.status(S, a.url) === 'UP', 'a up again', 50 + SLACK);
      const upAt = a.probes.length;
      await sleep(200);
      assert.equal(a.probes.length, upAt, 'back to interval (1h) once up');
      assert.equal(b.probes.length, 1);
      assert.deepEqual(
        g.events.map((e) => [e.url, e.up]),
        [
          [a.url, false],
          [a.url, true],
        ],
      );
      assert.match(g.events[0]!.reason!, /\/health answered 500 \(expected 2xx or 3xx\)/);
    } finally {
      await stop();
    }
  });

  test('no answer within timeout takes the server out', async () => {
    const g = await start(serviceConfig([a.url, b.url], { healthCheck: { path: '/health', method: 'HEAD', interval: '1h', timeout: '100ms' } }), { a: 'hang' });
    try {
      await eventually(() => a.probes.length === 1, 'first check');
      await eventually(() => g.status(S, a.url) === 'DOWN', 'a down after its timeout', 100 + SLACK);
      assert.match(g.events.find((e) => e.url === a.url)!.reason!, /HEAD http:\/\/127\.0\.0\.1:\d+\/health: no answer within 100ms/);
    } finally {
      a.mode = 'ok';
      await stop();
    }
  });

  test('changed settings restart that service\'s checks and keep the verdict; unchanged ones are left alone', async () => {
    const config = (path: string) => serviceConfig([a.url, b.url], { healthCheck: { path, interval: '1h' } });
    const g = await start(config('/health-1'), { a: 'fail' });
    try {
      await eventually(() => g.status(S, a.url) === 'DOWN', 'a down');
      const probes = a.probes.length;
      g.gateway.configure(config('/health-1'));
      g.gateway.configure(config('/health-1'));
      await sleep(100);
      assert.equal(a.probes.length, probes, 'same settings: no new check');
      g.gateway.configure(config('/health-2'));
      await eventually(() => a.probes.at(-1)?.url === '/health-2', 'a checked with the new path');
      assert.equal(g.status(S, a.url), 'DOWN');
      assert.deepEqual(g.events.filter((e) => e.url === a.url).map((e) => e.up), [false], 'never back up in between');
    } finally {
      await stop();
    }
  });

  test('removing healthCheck puts the servers back; removing the service stops its checks and forgets it', async () => {
    const checked = serviceConfig([a.url, b.url], { healthCheck: { path: '/health', interval: '30ms' } });
    const g = await start(checked, { a: 'fail' });
    try {
      await eventually(() => g.status(S, a.url) === 'DOWN', 'a down');
      g.gateway.configure(serviceConfig([a.url, b.url], {}));
      assert.equal(g.status(S, a.url), 'UP');
      assert.deepEqual(g.events.at(-1), { service: S, url: a.url, up: true, reason: 'no longer health-checked' });
      // A check already sent when the checks stopped may still land.
      await sleep(50);
      let probes = a.probes.length + b.probes.length;
      await sleep(150);
      assert.equal(a.probes.length + b.probes.length, probes, 'no checks without healthCheck');

      g.gateway.configure(checked);
      await eventually(() => g.status(S, a.url) === 'DOWN', 'a down again');
      g.gateway.configure({ http: { routers: { other: { rule: 'Path(`/other`)', service: 'o' } }, services: { o: { loadBalancer: { servers: [{ url: b.url }] } } } } });
      assert.equal(g.gateway.health.isUp(S, a.url), true, 'forgotten');
      await sleep(50);
      probes = a.probes.length + b.probes.length;
      await sleep(150);
      assert.equal(a.probes.length + b.probes.length, probes, 'no checks of a removed service');
    } finally {
      await stop();
    }
  });

  test('a check that cannot be built is logged and skipped; other checks and the reload go on', async () => {
    const g = await start({
      http: {
        routers: { r: { rule: 'PathPrefix(`/`)', service: 's' }, odd: { rule: 'PathPrefix(`/odd`)', service: 'odd' } },
        services: {
          s: { loadBalancer: { servers: [{ url: a.url }], healthCheck: { path: '/health', interval: '1h' } } },
          odd: { loadBalancer: { servers: [{ url: b.url }], healthCheck: { path: 'http://[not-a-host/health', interval: '1h' } } },
        },
      },
    });
    try {
      await eventually(() => a.probes.length === 1, 'the good service checked');
      assert.equal(b.probes.length, 0);
      assert.equal((await g.get('/odd')).backend, 'b');
      assert.equal(g.status('odd@inline', b.url), 'UP');
    } finally {
      await stop();
    }
  });

  test('services that no router uses are not checked', async () => {
    const g = await start({
      http: {
        routers: { r: { rule: 'PathPrefix(`/`)', service: 'used' } },
        services: {
          used: { loadBalancer: { servers: [{ url: b.url }] } },
          unused: { loadBalancer: { servers: [{ url: a.url }], healthCheck: { path: '/health', interval: '20ms' } } },
        },
      },
    });
    try {
      await sleep(150);
      assert.equal(a.probes.length, 0);
      assert.equal((await g.get('/')).status, 200);
    } finally {
      await stop();
    }
  });
});

describe('passive checks', () => {
  let bad: HealthBackend;
  let good: HealthBackend;

  before(async () => {
    bad = await startHealthBackend('bad');
    good = await startHealthBackend('good');
    bad.trafficStatus = 500;
  });
  after(async () => {
    await bad.close();
    await good.close();
  });

  test('maxFailedAttempts 5xx answers within failureWindow take a server out for failureWindow', async () => {
    const g = await startTestGateway(serviceConfig([bad.url, good.url], { passiveHealthCheck: { maxFailedAttempts: 2, failureWindow: '400ms' } }));
    try {
      const statuses: number[] = [];
      // Round-robin: bad, good, bad — the second 500 takes bad out.
      for (let i = 0; i < 3; i++) statuses.push((await g.get('/')).status);
      assert.deepEqual(statuses, [500, 200, 500]);
      assert.equal(g.status(S, bad.url), 'DOWN');
      assert.match(g.events[0]!.reason!, /^2 failed request\(s\) within 400ms, last: answered 500$/);
      for (let i = 0; i < 5; i++) assert.equal((await g.get('/')).backend, 'good');
      await eventually(() => g.status(S, bad.url) === 'UP', 'bad back after failureWindow', 400 + SLACK);
    } finally {
      await g.stop();
    }
  });

  test('failures further apart than failureWindow do not add up', async () => {
    // A window long enough that the second and third requests fall inside it even on a loaded machine.
    const g = await startTestGateway(serviceConfig([bad.url], { passiveHealthCheck: { maxFailedAttempts: 2, failureWindow: '1s' } }));
    try {
      assert.equal((await g.get('/')).status, 500);
      await sleep(1100);
      assert.equal((await g.get('/')).status, 500);
      assert.equal(g.status(S, bad.url), 'UP');
      assert.equal((await g.get('/')).status, 500);
      assert.equal(g.status(S, bad.url), 'DOWN');
    } finally {
      await g.stop();
    }
  });

  test('a connection failure takes the server out at once; the request itself is retried on another server', async () => {
    const refused = `http://127.0.0.1:${await freePort()}`;
    const g = await startTestGateway(serviceConfig([refused, good.url], { passiveHealthCheck: {} }));
    try {
      const reply = await g.get('/');
      assert.equal(reply.status, 200);
      assert.equal(reply.backend, 'good');
      assert.equal(g.status(S, refused), 'DOWN');
      assert.match(g.events[0]!.reason!, /^1 failed request\(s\) within 10s, last: .*ECONNREFUSED/);
    } finally {
      await g.stop();
    }
  });

  test('a good active check does not end a passive window early', async () => {
    const g = await startTestGateway(
      serviceConfig([bad.url, good.url], { healthCheck: { path: '/health', interval: '20ms' }, passiveHealthCheck: { failureWindow: '500ms' } }),
    );
    try {
      await eventually(() => bad.probes.length > 0, 'first check');
      assert.equal((await g.get('/')).status, 500);
      assert.equal(g.status(S, bad.url), 'DOWN');
      const probes = bad.probes.length;
      await eventually(() => bad.probes.length >= probes + 3, 'three good checks', 3 * 20 + SLACK);
      assert.equal(g.status(S, bad.url), 'DOWN');
      await eventually(() => g.status(S, bad.url) === 'UP', 'bad back after failureWindow', 500 + SLACK);
    } finally {
      await g.stop();
    }
  });

  test('a failing active check keeps the server out after its passive window', async () => {
    bad.mode = 'fail';
    const g = await startTestGateway(
      serviceConfig([bad.url, good.url], { healthCheck: { path: '/health', interval: '1h' }, passiveHealthCheck: { failureWindow: '100ms' } }),
    );
    try {
      await eventually(() => g.status(S, bad.url) === 'DOWN', 'bad down by its check');
      // bad gets no traffic now; a passive window opened and closed by hand would not bring it back.
      g.gateway.emit('upstreamFailure', { service: S, url: bad.url, status: 502 });
      await sleep(200);
      assert.equal(g.status(S, bad.url), 'DOWN');
      assert.deepEqual(g.events.map((e) => e.up), [false]);
    } finally {
      bad.mode = 'ok';
      await g.stop();
    }
  });
});
