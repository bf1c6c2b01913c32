// hasAvailableServer: what a weighted parent with healthCheck asks a loadBalancer child before picking it.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createLoadBalancerHandler, type LoadBalancerServer } from './handler.js';
import { PoolRegistry } from './pool.js';

describe('hasAvailableServer', () => {
  const pools = new PoolRegistry();
  after(() => pools.closeAll());

  const cases: Array<{ desc: string; servers: LoadBalancerServer[]; down?: string[]; expected: boolean }> = [
    { desc: 'a server that is up', servers: [{ url: 'http://10.0.0.1' }, { url: 'http://10.0.0.2' }], down: ['http://10.0.0.1'], expected: true },
    { desc: 'every server down', servers: [{ url: 'http://10.0.0.1' }, { url: 'http://10.0.0.2' }], down: ['http://10.0.0.1', 'http://10.0.0.2'], expected: false },
    { desc: 'only a weight-0 server up', servers: [{ url: 'http://10.0.0.1' }, { url: 'http://10.0.0.2', weight: 0 }], down: ['http://10.0.0.1'], expected: false },
    { desc: 'no servers', servers: [], expected: false },
    { desc: 'no health verdicts at all', servers: [{ url: 'http://10.0.0.1' }], expected: true },
  ];
  for (const { desc, servers, down, expected } of cases) {
    it(`${desc}: ${expected}`, () => {
      const handler = createLoadBalancerHandler({
        service: 'svc@test',
        servers,
        pools,
        isServerUp: down === undefined ? undefined : (url) => !down.includes(url),
      });
      try {
        assert.equal(handler.hasAvailableServer(), expected);
      } finally {
        handler.release();
      }
    });
  }
});
