// Servers leaving rotation at once (issue #14): a swarm task whose desired state turns shutdown, a container killed
// with SIGTERM or stopping, is out of the gateway's configuration without waiting out providersThrottleDuration —
// set here to 10 minutes, so a change that waited for it could never pass. Against the Engine API emulator.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '@wharf/test-helpers';
import type { EngineEmulator } from '@wharf/test/docker/emulator.js';
import { startTestGateway, type TestGateway } from '@wharf/test/docker/harness.js';
import { EmulatedStack } from './emulated.js';

const stack = new EmulatedStack('wharf-docker-removal-');
const LONG_THROTTLE = '--providers.providersThrottleDuration=10m';
const gateways: TestGateway[] = [];

async function gateway(engine: EngineEmulator, provider: 'docker' | 'swarm'): Promise<TestGateway> {
  const g = await startTestGateway([LONG_THROTTLE, `--providers.${provider}.endpoint=${engine.endpoint}`]);
  gateways.push(g);
  return g;
}

function servers(g: TestGateway, service: string): string[] {
  return (g.gateway.info.services[service]?.config?.loadBalancer?.servers ?? []).map((s) => s.url).sort();
}

after(async () => {
  await Promise.allSettled(gateways.map((g) => g.stop()));
  await stack.stop();
});

describe('servers leave rotation at once, inside the providersThrottleDuration window', () => {
  it('drops a swarm task whose desired state turned shutdown during an update', async () => {
    const engine = await stack.emulator('swarm');
    engine.addNetwork({ name: 'golf', driver: 'overlay', subnet: '10.0.7.0/24' });
    const labels = { 'wharf.http.services.bank.loadbalancer.server.port': '8083' };
    const service = engine.createService({ name: 'bank', network: 'golf', labels, replicas: 2 }, ['127.0.7.1', '127.0.7.2']);
    const g = await gateway(engine, 'swarm');
    await eventually(() => servers(g, 'bank@swarm').length === 2, 'the first snapshot applied');
    // The update's service event starts the provider's task polling; then the orchestrator tells a task to stop.
    engine.updateService(service, { updateState: 'updating' });
    const leaving = engine.tasksOf(service).find((t) => t.ip === '127.0.7.1')!;
    engine.setTaskDesiredState(leaving.id, 'shutdown');
    await eventually(() => servers(g, 'bank@swarm').length === 1, 'the task told to shut down leaves rotation');
    assert.deepEqual(servers(g, 'bank@swarm'), ['http://127.0.7.2:8083']);
  });

  it('drops a container killed with SIGTERM, then one that stops, but keeps one sent SIGHUP', async () => {
    const engine = await stack.emulator('containers');
    engine.addNetwork({ name: 'front', driver: 'bridge', scope: 'local' });
    const ids = ['127.0.8.1', '127.0.8.2', '127.0.8.3'].map((ip) =>
      engine.runContainer({ name: `app-${ip.slice(-1)}`, network: { front: ip }, ports: [80], labels: { 'wharf.http.services.app.loadbalancer.server.port': '80' } }),
    );
    const g = await gateway(engine, 'docker');
    await eventually(() => servers(g, 'app@docker').length === 3, 'the first snapshot applied');
    engine.kill(ids[0]!, 'HUP'); // a reload, not a stop: stays
    engine.kill(ids[0]!, '15'); // docker stop's SIGTERM, the process still running
    await eventually(() => servers(g, 'app@docker').length === 2, 'the container sent SIGTERM leaves rotation');
    assert.deepEqual(servers(g, 'app@docker'), ['http://127.0.8.2:80', 'http://127.0.8.3:80']);
    engine.exit(ids[1]!); // die, then stop
    await eventually(() => servers(g, 'app@docker').length === 1, 'the container that stopped leaves rotation');
    assert.deepEqual(servers(g, 'app@docker'), ['http://127.0.8.3:80']);
  });
});
