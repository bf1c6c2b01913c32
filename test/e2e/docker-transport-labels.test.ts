// serversTransports written as Docker labels, through the Engine API emulator: Traefik does not read them from
// labels and neither does Wharf, but instead of dropping them the transport is reported (container and labels),
// the services using it say why they are disabled, and the container's other routers keep serving.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineEmulator } from '@wharf/test/docker/emulator.js';
import { routable, startBackend, startTestGateway, type Backend, type TestGateway } from '@wharf/test/docker/harness.js';
import { eventually } from '@wharf/test-helpers';

const dir = mkdtempSync(join(tmpdir(), 'wharf-docker-transport-'));
let engine: EngineEmulator | undefined;
let backend: Backend | undefined;
let gateway: TestGateway | undefined;

after(async () => {
  await gateway?.stop();
  await backend?.close();
  await engine?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a serversTransport defined in labels disables the services using it, with the labels named; other routers serve', async () => {
  engine = await EngineEmulator.start({ socketPath: join(dir, 'engine.sock') });
  engine.addNetwork({ name: 'front', driver: 'bridge', scope: 'local' });
  backend = await startBackend('app', '127.0.6.1');
  const port = String(backend.port);
  engine.runContainer({
    name: 'app',
    network: { front: backend.host },
    ports: [backend.port],
    labels: {
      'wharf.http.routers.web.rule': 'Host(`web.test`)',
      'wharf.http.routers.web.service': 'web',
      'wharf.http.services.web.loadbalancer.server.port': port,
      'wharf.http.routers.secure.rule': 'Host(`secure.test`)',
      'wharf.http.routers.secure.service': 'secure',
      'wharf.http.services.secure.loadbalancer.server.port': port,
      'wharf.http.services.secure.loadbalancer.serversTransport': 'internal',
      'wharf.http.serversTransports.internal.serverName': 'internal.test',
    },
  });
  gateway = await startTestGateway(['--providers.providersThrottleDuration=100ms', `--providers.docker.endpoint=${engine.endpoint}`]);

  await routable(gateway.port, 'web.test');
  const service = await eventually(() => gateway!.gateway.info.services['secure@docker'], 'secure@docker built');
  assert.equal(service.status, 'disabled');
  assert.deepEqual(service.errors, [
    `serversTransport 'internal@docker' is invalid: container "app": label wharf.http.serversTransports.internal.serverName: ` +
      `serversTransports cannot be defined in labels; define serversTransport 'internal' in a file (providers.file) and set ` +
      'wharf.http.services.<service>.loadbalancer.serversTransport=internal@file',
  ]);
  assert.equal(gateway.gateway.info.routers['secure@docker']!.status, 'disabled');
  assert.equal(gateway.gateway.info.routers['web@docker']!.status, 'enabled');
  assert.ok(
    gateway.lines.some((l) => l.msg.startsWith("serversTransport internal@docker: container \"app\": label wharf.http.serversTransports.internal.serverName")),
    'the transport itself is logged',
  );
});
