// End-to-end load balancing: smooth weighted round-robin over servers, and `weighted` services over services.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { get, json, startBackends, type Backend, type EchoBody } from '@wharf/test-helpers';
import { startTestGateway, type TestGateway } from './gateway.js';

/** Sends `n` requests one after another and counts which backend answered each. */
async function countBackends(port: number, path: string, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const reply = await get(port, path);
    assert.equal(reply.status, 200, reply.body);
    const name = json<EchoBody>(reply).name;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

describe('load balancing', () => {
  let backends: Backend[];
  let gw: TestGateway;

  before(async () => {
    backends = await startBackends('a', 'b', 'c', 'x', 'y');
    const [a, b, c, x, y] = backends.map((s) => s.url);
    gw = await startTestGateway({
      http: {
        routers: {
          wrr: { rule: 'PathPrefix(`/wrr`)', service: 'wrr' },
          split: { rule: 'PathPrefix(`/split`)', service: 'split' },
        },
        services: {
          wrr: { loadBalancer: { servers: [{ url: a, weight: 3 }, { url: b, weight: 2 }, { url: c, weight: 1 }] } },
          split: { weighted: { services: [{ name: 'sx', weight: 3 }, { name: 'sy', weight: 1 }] } },
          sx: { loadBalancer: { servers: [{ url: x }] } },
          sy: { loadBalancer: { servers: [{ url: y }] } },
        },
      },
    });
  });

  after(async () => {
    await gw.stop();
    await Promise.all(backends.map((b) => b.close()));
  });

  test('servers weighted 3, 2, 1 get exactly 30, 20 and 10 of 60 requests', async () => {
    assert.deepEqual(await countBackends(gw.port, '/wrr', 60), { a: 30, b: 20, c: 10 });
  });

  test('a weighted service splits 3:1 between its child services', async () => {
    assert.deepEqual(await countBackends(gw.port, '/split', 40), { x: 30, y: 10 });
  });

  test('the weighted service and its children are reported with their types', () => {
    const services = gw.gateway.info.services;
    assert.equal(services['split@inline']?.type, 'weighted');
    assert.equal(services['sx@inline']?.type, 'loadBalancer');
    assert.deepEqual(services['sx@inline']?.usedBy, ['split@inline']);
  });
});
