// Traefik 3 stacks through the Engine API emulator (issue #18): a container with HTTP and TCP labels serves both
// (TCP labels decoded into the tcp section, issue #21) while tls.options labels are reported in the API and the log; swarm services labelled with Traefik 3's
// `traefik.swarm.network` / `traefik.swarm.lbswarm` serve under both swarm providers; `docker.allowNonRunning`
// keeps a stopped container's router, answering 503, as Traefik does.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EmulatedStack } from './emulated.js';
import { EngineSpec, specPath } from '@wharf/test/docker/spec.js';
import { answers, get, routable, type TestGateway } from '@wharf/test/docker/harness.js';
import { eventually } from '@wharf/test-helpers';

const stack = new EmulatedStack('wharf-docker-traefik3-');
const { emulators } = stack;
const emulator = (name: string) => stack.emulator(name);
const gateway = (args: string[]) => stack.gateway(args);
const backend = (name: string, host: string) => stack.backend(name, host);

/** GET on the API entrypoint `traefik`, parsed. */
async function api(g: TestGateway, path: string): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${g.gateway.address('traefik').port}${path}`);
  assert.equal(res.status, 200, path);
  return res.json();
}

after(() => stack.stop());

describe('Traefik 3 labels through the Engine API emulator', () => {
  it('a container with HTTP, TCP and TLS labels serves HTTP and gets its TCP router; the tls.options labels are errors in the API and the log', async () => {
    const engine = await emulator('tcp');
    engine.addNetwork({ name: 'front', driver: 'bridge', scope: 'local' });
    const app = await backend('app', '127.0.7.1');
    engine.runContainer({
      name: 'app',
      network: { front: app.host },
      ports: [app.port, 5432],
      labels: {
        'traefik.enable': 'true',
        'traefik.http.routers.web.rule': 'Host(`web.test`)',
        'traefik.http.services.web.loadbalancer.server.port': String(app.port),
        'traefik.tcp.routers.db.rule': 'HostSNI(`db.test`)',
        'traefik.tcp.routers.db.tls.passthrough': 'true',
        'Traefik.TCP.Services.db.LoadBalancer.Server.Port': '5432',
        // Read by Traefik (and here, into the tls plugin's section); tls.options are not (reported).
        'traefik.tls.stores.default.defaultgeneratedcert.resolver': 'le',
        'traefik.tls.options.modern.minversion': 'VersionTLS13',
      },
    });
    const g = await gateway([
      '--entrypoints.traefik.address=127.0.0.1:0', '--api.insecure=true',
      '--providers.docker.labelPrefix=traefik', '--providers.docker.exposedByDefault=false', `--providers.docker.endpoint=${engine.endpoint}`,
    ]);

    await routable(g.port, 'web.test', (body) => body.startsWith('app'));
    const routers = await eventually(async () => {
      const list = (await api(g, '/api/http/routers')) as Array<{ name: string; status: string; error?: string[] }>;
      return list.some((r) => r.name === 'app.tls@docker') && list;
    }, 'the tls labels reported in the API', 2_000);
    const tls =
      'container "app": label traefik.tls.options.modern.minversion: only traefik.tls.stores.default.* is read from labels (Traefik ignores the rest too); ' +
      'define TLS options and certificates in a file (providers.file) under tls.options and tls.certificates; these labels are ignored';
    assert.deepEqual(
      routers.map((r) => [r.name, r.status, r.error]),
      [
        ['app.tls@docker', 'disabled', [tls]],
        ['web@docker', 'enabled', undefined],
      ],
    );
    assert.ok(!g.lines.some((l) => /rejected the tls configuration/.test(l.msg)), 'the tls plugin took the default store');
    const tcp = g.gateway.info.tcp!;
    assert.deepEqual([tcp.routers['db@docker']?.status, tcp.routers['db@docker']?.service], ['enabled', 'db@docker']);
    assert.deepEqual(tcp.services['db@docker']?.config, { loadBalancer: { servers: [{ address: `${app.host}:5432` }] } });
    assert.equal((await get(g.port, 'web.test')).status, 200, 'HTTP still served');
  });

  for (const form of [
    { provider: 'docker', flags: ['--providers.docker.swarmMode'] },
    { provider: 'swarm', flags: [] },
  ]) {
    it(`a swarm service labelled traefik.swarm.network / traefik.swarm.lbswarm serves (providers.${form.provider})`, async () => {
      const engine = await emulator(`swarm-${form.provider}`);
      engine.addNetwork({ name: 'golf', driver: 'overlay', scope: 'swarm' });
      const vip = await backend('vip', form.provider === 'docker' ? '127.0.7.9' : '127.0.7.19');
      engine.createService(
        {
          name: 'bank',
          network: 'golf',
          vip: vip.host,
          labels: {
            'traefik.enable': 'true',
            'traefik.swarm.network': 'golf',
            'traefik.swarm.LBSwarm': 'true',
            'traefik.http.routers.bank.rule': 'Host(`bank.test`)',
            'traefik.http.services.bank.loadbalancer.server.port': String(vip.port),
          },
        },
        // Task addresses nothing listens on: only the VIP answers, so a 200 shows lbswarm was read.
        form.provider === 'docker' ? ['127.0.7.10', '127.0.7.11'] : ['127.0.7.20', '127.0.7.21'],
      );
      const p = `--providers.${form.provider}`;
      // A provider-wide network the service is not on: without the label a warning would say so.
      const g = await gateway([p, ...form.flags, `${p}.labelPrefix=traefik`, `${p}.exposedByDefault=false`, `${p}.network=elsewhere`, `${p}.endpoint=${engine.endpoint}`]);

      await routable(g.port, 'bank.test', (body) => body.startsWith('vip'));
      const service = g.gateway.info.services[`bank@${form.provider}`]!;
      assert.equal(service.status, 'enabled');
      assert.deepEqual(service.config!.loadBalancer!.servers, [{ url: `http://${vip.host}:${vip.port}` }]);
      assert.deepEqual(g.lines.filter((l) => l.level >= 40).map((l) => l.msg), [], 'no warning or error');
    });
  }

  it('docker.allowNonRunning keeps a stopped container routed (503); without it the router goes', async () => {
    const engine = await emulator('nonrunning');
    engine.addNetwork({ name: 'front', driver: 'bridge', scope: 'local' });
    const kept = await backend('kept', '127.0.7.30');
    const gone = await backend('gone', '127.0.7.31');
    const keptId = engine.runContainer({
      name: 'kept',
      network: { front: kept.host },
      ports: [kept.port],
      labels: { 'traefik.http.routers.kept.rule': 'Host(`kept.test`)', 'traefik.docker.allowNonRunning': 'true' },
    });
    const goneId = engine.runContainer({ name: 'gone', network: { front: gone.host }, ports: [gone.port], labels: { 'traefik.http.routers.gone.rule': 'Host(`gone.test`)' } });
    const g = await gateway(['--providers.docker.labelPrefix=traefik', `--providers.docker.endpoint=${engine.endpoint}`]);
    await routable(g.port, 'kept.test');
    await routable(g.port, 'gone.test');

    engine.exit(keptId);
    engine.exit(goneId);
    await answers(g.port, 'kept.test', 503);
    await answers(g.port, 'gone.test', 404);
    assert.deepEqual(g.gateway.info.services['kept@docker']!.config!.loadBalancer!.servers, []);
    assert.equal(g.gateway.info.routers['kept@docker']!.status, 'enabled');
  });

  // The provider now lists stopped containers too (all=true): their list entries and inspections must be real ones.
  it('sent only responses that match the official Engine API specification', () => {
    const spec = EngineSpec.load();
    const violations = emulators.flatMap((e) => e.served).flatMap((r) => spec.validate(r.path, r.status, r.body));
    assert.deepEqual(violations.slice(0, 20), [], `${violations.length} responses do not match ${specPath()}`);
  });
});
