// A failover service switching on this plugin's verdicts: to the fallback when the main service's only server
// fails its checks (active or passive), back once it passes again.
import { afterEach, before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '@wharf/test-helpers';
import { startHealthBackend, startTestGateway, type HealthBackend, type TestGateway } from './harness.test.helper.js';

describe('failover with health checks', () => {
  let main: HealthBackend;
  let spare: HealthBackend;
  let gw: TestGateway | undefined;

  before(async () => {
    main = await startHealthBackend('main');
    spare = await startHealthBackend('spare');
  });
  after(async () => {
    await main.close();
    await spare.close();
  });
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    main.mode = 'ok';
    main.trafficStatus = 200;
  });

  function failoverConfig(mainLb: Record<string, unknown>): unknown {
    return {
      http: {
        routers: { r: { rule: 'PathPrefix(`/`)', service: 'fo' } },
        services: {
          fo: { failover: { service: 'main', fallback: 'spare' } },
          main: { loadBalancer: { servers: [{ url: main.url }], ...mainLb } },
          spare: { loadBalancer: { servers: [{ url: spare.url }] } },
        },
      },
    };
  }

  test('active checks: to the fallback while the main server fails them, back when it passes', async () => {
    gw = await startTestGateway(failoverConfig({ healthCheck: { path: '/health', interval: '30ms' } }));
    const g = gw;
    await eventually(() => main.probes.length > 0, 'first check of main');
    assert.equal((await g.get()).backend, 'main');
    main.mode = 'fail';
    await eventually(async () => (await g.get()).backend === 'spare', 'traffic on the fallback');
    const spareBefore = spare.served;
    main.mode = 'ok';
    await eventually(async () => (await g.get()).backend === 'main', 'traffic back on main');
    assert.ok(spare.served > spareBefore);
  });

  test('passive checks: failed requests switch to the fallback until the window ends', async () => {
    gw = await startTestGateway(failoverConfig({ passiveHealthCheck: { maxFailedAttempts: 2, failureWindow: '300ms' } }));
    main.trafficStatus = 500;
    assert.equal((await gw.get()).status, 500);
    assert.equal((await gw.get()).status, 500);
    assert.equal((await gw.get()).backend, 'spare');
    main.trafficStatus = 200;
    const g = gw;
    await eventually(async () => (await g.get()).backend === 'main', 'main back after its window');
  });
});
