// Docker/Swarm provider against a real Docker Engine (test/docker/engine.sh), through real dockerode: labelled
// containers and swarm services become routes, docker rm / service rm / scale / update change them live, the
// examples/swarm stack end to end, health checks, a new domain under load, the daemon killed and restarted, and
// the emulator's objects cross-checked against the ones this engine returns.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { startEngine, type Engine } from '@wharf/test/docker/engine.js';
import { EngineEmulator } from '@wharf/test/docker/emulator.js';
import { Load, answers, stopAllLoads, get, routable, startTestGateway, type TestGateway } from '@wharf/test/docker/harness.js';
import { eventually, freePort, sleep } from '@wharf/test-helpers';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const THROTTLE = '--providers.providersThrottleDuration=100ms';
const dir = mkdtempSync(join(tmpdir(), 'wharf-docker-engine-test-'));
let engine: Engine;
const gateways: TestGateway[] = [];
const containers = new Set<string>();
const services = new Set<string>();
const stacks = new Set<string>();

async function gateway(args: string[]): Promise<TestGateway> {
  const g = await startTestGateway([THROTTLE, ...args]);
  gateways.push(g);
  return g;
}

/**
 * busybox httpd answering `<name>` on 127.0.0.1:<port>; it keeps serving for `graceSeconds` after SIGTERM, like an
 * application that drains, so a stop shows whether the gateway stopped sending before the process went away.
 */
function httpd(name: string, port: number, graceSeconds = 0): string[] {
  const prepare = `mkdir -p /tmp/w && echo ${name} > /tmp/w/index.html`;
  const serve = `httpd -f -p 127.0.0.1:${port} -h /tmp/w`;
  if (graceSeconds === 0) return ['sh', '-c', `${prepare} && exec ${serve}`];
  return ['sh', '-c', `${prepare} && { ${serve} & pid=$!; trap "sleep ${graceSeconds}; kill $pid; exit 0" TERM; wait $pid; }`];
}

function labelArgs(flag: '--label' | '--container-label', labels: Record<string, string>): string[] {
  return Object.entries(labels).flatMap(([k, v]) => [flag, `${k}=${v}`]);
}

async function runContainer(name: string, port: number, labels: Record<string, string>, extra: string[] = [], graceSeconds = 0): Promise<string> {
  containers.add(name);
  return engine.docker('run', '-d', '--init', '--name', name, '--network', 'host', ...labelArgs('--label', labels), ...extra, engine.image, ...httpd(name, port, graceSeconds));
}

async function createService(name: string, port: number, labels: Record<string, string>, extra: string[] = []): Promise<void> {
  services.add(name);
  await engine.docker('service', 'create', '-d', '--name', name, '--network', 'host', '--init', '--no-resolve-image', ...labelArgs('--label', labels), ...extra, engine.image, ...httpd(name, port));
}

/** Raw GET on an engine's unix socket, as the emulator's counterpart is read (no client-side reshaping). */
function rawOn(socketPath: string, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(JSON.parse(body) as unknown));
    });
    req.on('error', reject);
    req.end();
  });
}

function raw(path: string): Promise<unknown> {
  return rawOn(engine.socketPath, path);
}

before(async () => {
  engine = await startEngine(); // a failure here fails the suite with engine.sh's message: no silent skip
});

after(async () => {
  await stopAllLoads();
  await Promise.allSettled(gateways.map((g) => g.stop()));
  if (engine) {
    for (const stack of stacks) await engine.docker('stack', 'rm', stack).catch(() => undefined);
    for (const service of services) await engine.docker('service', 'rm', service).catch(() => undefined);
    for (const c of containers) await engine.docker('rm', '-f', c).catch(() => undefined);
    await engine.stop();
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('docker provider against a real Docker Engine', () => {
  it('turns a labelled container into a route within 1 s, honours exposedByDefault=false, and follows docker rm', async () => {
    const g = await gateway([`--providers.docker.endpoint=${engine.host}`, '--providers.docker.exposedByDefault=false']);
    const port = await freePort();
    await runContainer('web-a', port, {
      'wharf.enable': 'true',
      'wharf.http.routers.web.rule': 'Host(`web.test`)',
      'wharf.http.services.web.loadbalancer.server.port': String(port),
    });
    const took = await routable(g.port, 'web.test');
    assert.match((await get(g.port, 'web.test')).body, /^web-a/);
    await runContainer('hidden', await freePort(), { 'wharf.http.routers.hidden.rule': 'Host(`hidden.test`)' });
    await sleep(300);
    assert.equal((await get(g.port, 'hidden.test')).status, 404, 'not exposed without wharf.enable=true');
    assert.equal(g.gateway.info.routers['hidden@docker'], undefined);
    await engine.docker('rm', '-f', 'web-a');
    await answers(g.port, 'web.test', 404);
    console.log(`container routable ${took} ms after docker run returned`);
  });

  it('applies defaults (defaultRule, the only exposed port) and reads a Traefik-labelled container with labelPrefix=traefik', async () => {
    const g = await gateway([`--providers.docker.endpoint=${engine.host}`]);
    const t = await gateway([`--providers.docker.endpoint=${engine.host}`, '--providers.docker.labelPrefix=traefik', '--providers.docker.exposedByDefault=false']);
    const plain = await freePort();
    await runContainer('plain-app', plain, {}, ['--expose', String(plain)]);
    await routable(g.port, 'plain-app', (body) => body.startsWith('plain-app'));
    const tport = await freePort();
    await runContainer('legacy', tport, {
      'traefik.enable': 'true',
      'traefik.http.routers.legacy.rule': 'Host(`legacy.test`)',
      'traefik.http.services.legacy.loadbalancer.server.port': String(tport),
    });
    await routable(t.port, 'legacy.test', (body) => body.startsWith('legacy'));
    assert.equal(t.gateway.info.routers['plain-app@docker'], undefined, 'exposedByDefault=false');
  });

  it('serves a container with a health check only once healthy, and takes it out when unhealthy', async () => {
    const g = await gateway([`--providers.docker.endpoint=${engine.host}`]);
    const port = await freePort();
    await runContainer('checked', port, { 'wharf.http.services.checked.loadbalancer.server.port': String(port) }, [
      '--health-cmd', 'test -f /tmp/healthy', '--health-interval', '200ms', '--health-retries', '1', '--health-timeout', '1s',
    ]);
    await sleep(600);
    assert.equal((await get(g.port, 'checked')).status, 404, 'starting is not served');
    await engine.docker('exec', 'checked', 'touch', '/tmp/healthy');
    await routable(g.port, 'checked');
    await engine.docker('exec', 'checked', 'rm', '/tmp/healthy');
    await answers(g.port, 'checked', 404);
  });

  it('routes a new domain within 1 s under load; a stopping replica leaves rotation at its kill event, with zero failed requests', async () => {
    const g = await gateway([`--providers.docker.endpoint=${engine.host}`]);
    // Two replicas of one service: same router and service, each its own port as both share the host network.
    const replica = (port: number) => ({ 'wharf.http.routers.app.rule': 'Host(`app.test`)', 'wharf.http.services.app.loadbalancer.server.port': String(port) });
    const [p1, p2] = [await freePort(), await freePort()];
    await runContainer('app-1', p1, replica(p1), [], 2);
    await runContainer('app-2', p2, replica(p2), [], 2);
    await eventually(() => (g.gateway.info.services['app@docker']?.config?.loadBalancer?.servers.length ?? 0) === 2, 'both replicas in rotation');
    const load = new Load(g.port, 'app.test', 8);
    await eventually(() => load.served('app-1') > 0 && load.served('app-2') > 0, 'load on both replicas');
    const port = await freePort();
    await runContainer('newcomer', port, { 'wharf.http.routers.new.rule': 'Host(`new.test`)', 'wharf.http.services.new.loadbalancer.server.port': String(port) });
    const took = await routable(g.port, 'new.test');
    await engine.docker('stop', '-t', '5', 'app-1'); // SIGTERM; the app drains for 2 s before exiting
    const servedAfterStop = load.served('app-1');
    await sleep(300);
    const stats = await load.stop();
    assert.equal(stats.errors, 0, JSON.stringify(stats.failures));
    assert.deepEqual(g.gateway.info.services['app@docker']?.config?.loadBalancer?.servers, [{ url: `http://127.0.0.1:${p2}` }]);
    assert.equal(stats.byBackend['app-1'], servedAfterStop, 'no request reached app-1 after it was stopped');
    console.log(`new domain routable ${took} ms after docker run returned; load: ${stats.requests} requests, 0 errors, ${stats.throughput} req/s, p50 ${stats.p50} ms, p99 ${stats.p99} ms`);
  });

  it('follows swarm services: labels, service update --label-add, scale to 0 and back, service rm', async () => {
    const g = await gateway([`--providers.swarm.endpoint=${engine.host}`]);
    const port = await freePort();
    await createService('svc-a', port, { 'wharf.http.routers.a.rule': 'Host(`svc-a.test`)', 'wharf.http.services.a.loadbalancer.server.port': String(port) });
    await routable(g.port, 'svc-a.test', (body) => body.startsWith('svc-a'));
    await engine.docker('service', 'update', '-d', '--label-add', 'wharf.http.routers.b.rule=Host(`svc-b.test`)', '--label-add', 'wharf.http.routers.b.service=a', 'svc-a');
    const took = await routable(g.port, 'svc-b.test');
    await engine.docker('service', 'scale', '-d', 'svc-a=0');
    await answers(g.port, 'svc-a.test', 404);
    await engine.docker('service', 'scale', '-d', 'svc-a=1');
    await routable(g.port, 'svc-a.test');
    await engine.docker('service', 'rm', 'svc-a');
    services.delete('svc-a');
    await answers(g.port, 'svc-b.test', 404);
    console.log(`service update --label-add routable after ${took} ms`);
  });

  it('serves the examples/swarm stack (host networking) with its own gateway flags and Traefik labels', async () => {
    const compose = parse(readFileSync(join(REPO, 'examples/swarm/docker-compose.yml'), 'utf8')) as {
      services: { gateway: { command: string[] }; bank: { deploy: { labels: string[]; replicas: number } } };
    };
    const accessLog = join(dir, 'access.log');
    // The example's --accessLog={} goes to a file here rather than into the test output.
    const g = await gateway([...gatewayArgsFromExample(compose.services.gateway.command), `--accessLog.filePath=${accessLog}`]);
    const bank = compose.services.bank;
    const port = Number(bank.deploy.labels.find((l) => l.includes('server.port='))!.split('=')[1]);
    const hostVersion = {
      version: '3.8',
      services: {
        bank: {
          image: engine.image,
          command: httpd('bank', port),
          init: true,
          networks: ['hostnet'],
          deploy: { ...bank.deploy, replicas: 1 }, // three host-network replicas cannot share one port
        },
      },
      networks: { hostnet: { external: true, name: 'host' } },
    };
    const file = join(dir, 'stack.yml');
    writeFileSync(file, stringify(hostVersion));
    stacks.add('golf');
    await engine.docker('stack', 'deploy', '--resolve-image', 'never', '-c', file, 'golf');
    await routable(g.port, 'golf.tistory.kr', (body) => body.startsWith('bank'));
    assert.equal(g.gateway.info.routers['golf-api@docker']?.status, 'enabled');
    assert.deepEqual(g.gateway.info.services['golf-api@docker']?.config?.loadBalancer?.servers, [{ url: `http://127.0.0.1:${port}` }]);
    // Status and body only: the headers carry a Date that differs between two answers straddling a second.
    const ping = await get(g.port, 'anything', '/ping');
    assert.deepEqual({ status: ping.status, body: ping.body }, { status: 200, body: 'OK' }, '--ping.entryPoint=web');
    await eventually(() => existsSync(accessLog) && readFileSync(accessLog, 'utf8').includes('golf'), 'an access log line for golf.tistory.kr');
    await engine.docker('stack', 'rm', 'golf');
    stacks.delete('golf');
    await answers(g.port, 'golf.tistory.kr', 404);
  });

  it('keeps routing on the last configuration while the daemon is killed, logs it once, and picks up changes once it is back', async () => {
    const g = await gateway([`--providers.docker.endpoint=${engine.host}`]);
    const [pa, pb] = [await freePort(), await freePort()];
    await runContainer('stays', pa, { 'wharf.http.services.stays.loadbalancer.server.port': String(pa) }, ['--restart', 'always']);
    await runContainer('goes', pb, { 'wharf.http.services.goes.loadbalancer.server.port': String(pb) });
    await routable(g.port, 'stays');
    await routable(g.port, 'goes');
    await engine.kill();
    await eventually(() => g.lines.some((l) => /is unreachable/.test(l.msg)), 'outage logged');
    for (let i = 0; i < 20; i++) {
      assert.equal((await get(g.port, 'stays')).status, 200, 'the last configuration keeps routing');
      assert.equal((await get(g.port, 'goes')).status, 200);
      await sleep(50);
    }
    await engine.revive(); // a restarted daemon (no live-restore) stops its containers and restarts `stays`
    await answers(g.port, 'goes', 404);
    await routable(g.port, 'stays');
    const port = await freePort();
    await runContainer('after-restart', port, { 'wharf.http.services.after-restart.loadbalancer.server.port': String(port) });
    await routable(g.port, 'after-restart');
    assert.equal(g.lines.filter((l) => /is unreachable/.test(l.msg)).length, 1, 'the outage is logged once');
    assert.equal(g.lines.filter((l) => /reachable again/.test(l.msg)).length, 1);
  });

  it('has the same object shapes as the emulator (containers, inspect, services, tasks, networks, nodes, version, events)', async () => {
    const port = await freePort();
    const id = await runContainer('shape', port, { 'wharf.http.routers.shape.rule': 'Host(`shape.test`)' });
    await createService('shape-svc', await freePort(), { 'wharf.enable': 'true' });
    await eventually(async () => ((await raw('/v1.41/tasks?filters=' + encodeURIComponent('{"service":["shape-svc"],"desired-state":["running"]}'))) as Array<{ Status: { State: string } }>).some((t) => t.Status.State === 'running'), 'shape-svc task running');
    const emu = await EngineEmulator.start({ socketPath: join(dir, 'shape.sock') });
    try {
      const eid = emu.runContainer({ name: 'shape', network: 'host', init: true, labels: { 'wharf.http.routers.shape.rule': 'Host(`shape.test`)' } });
      emu.createService({ name: 'shape-svc', labels: { 'wharf.enable': 'true' }, network: 'host', replicas: 1 });
      const real = {
        container: ((await raw('/v1.41/containers/json')) as Array<{ Id: string }>).find((c) => c.Id === id)!,
        inspect: await raw(`/v1.41/containers/${id}/json`),
        service: ((await raw('/v1.41/services')) as Array<{ Spec: { Name: string } }>).find((s) => s.Spec.Name === 'shape-svc')!,
        task: ((await raw('/v1.41/tasks')) as Array<{ Status: { State: string }; DesiredState: string }>).find((t) => t.Status.State === 'running' && t.DesiredState === 'running')!,
        network: ((await raw('/v1.41/networks')) as Array<{ Name: string }>).find((n) => n.Name === 'host')!,
        node: ((await raw('/v1.41/nodes')) as unknown[])[0],
        version: await raw('/version'),
      };
      const emulated = {
        container: ((await rawEmu(emu, '/v1.41/containers/json')) as Array<{ Id: string }>).find((c) => c.Id === eid)!,
        inspect: await rawEmu(emu, `/v1.41/containers/${eid}/json`),
        service: ((await rawEmu(emu, '/v1.41/services')) as unknown[])[0],
        task: ((await rawEmu(emu, '/v1.41/tasks')) as unknown[])[0],
        network: ((await rawEmu(emu, '/v1.41/networks')) as Array<{ Name: string }>).find((n) => n.Name === 'host')!,
        node: ((await rawEmu(emu, '/v1.41/nodes')) as unknown[])[0],
        version: await rawEmu(emu, '/version'),
      };
      const shapes: Array<[keyof typeof real, string[]]> = [
        ['container', ['', 'HostConfig', 'NetworkSettings', 'NetworkSettings.Networks.host']],
        ['inspect', ['', 'State', 'Config', 'HostConfig', 'NetworkSettings', 'NetworkSettings.Networks.host', 'GraphDriver']],
        ['service', ['', 'Spec', 'Spec.TaskTemplate', 'Spec.TaskTemplate.ContainerSpec', 'Spec.Mode', 'Endpoint', 'Endpoint.VirtualIPs.0']],
        ['task', ['', 'Status', 'Status.ContainerStatus', 'NetworksAttachments.0', 'NetworksAttachments.0.Network', 'NetworksAttachments.0.Network.Spec']],
        ['network', ['', 'IPAM', 'ConfigFrom']],
        ['node', ['', 'Spec', 'Description', 'Status', 'ManagerStatus']],
        ['version', ['', 'Components.0', 'Components.0.Details']],
      ];
      const mismatches: string[] = [];
      for (const [kind, paths] of shapes) {
        for (const path of paths) {
          const [mine, theirs] = [keysAt(emulated[kind], path), keysAt(real[kind], path)];
          const missing = theirs.filter((k) => !mine.includes(k));
          const extra = mine.filter((k) => !theirs.includes(k));
          if (missing.length + extra.length > 0) mismatches.push(`${kind} ${path || '(top)'}: emulator lacks [${missing.join(', ')}], has extra [${extra.join(', ')}]`);
        }
      }
      assert.deepEqual(mismatches, [], 'emulator objects must have the keys the real engine sends');
      await compareEventShapes(emu);
    } finally {
      await emu.stop();
    }
  });
});

/** The example's gateway command as it is, with the entrypoint on a free loopback port and this engine as endpoint. */
function gatewayArgsFromExample(command: string[]): string[] {
  return [`--providers.docker.endpoint=${engine.host}`, ...command.map((flag) => (flag.startsWith('--entrypoints.web.address=') ? '--entrypoints.web.address=127.0.0.1:0' : flag))];
}

function rawEmu(emu: EngineEmulator, path: string): Promise<unknown> {
  return rawOn(emu.endpoint.replace('unix://', ''), path);
}

function keysAt(value: unknown, path: string): string[] {
  let node = value;
  for (const key of path.split('.').filter(Boolean)) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  return node && typeof node === 'object' ? Object.keys(node).sort() : [];
}

/** Container and service events from both, same actions, same keys. */
async function compareEventShapes(emu: EngineEmulator): Promise<void> {
  const collect = (socketPath: string) => {
    const events: Array<Record<string, unknown>> = [];
    const req = request({ socketPath, path: '/v1.41/events' }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buffer += c;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) !== -1) {
          events.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
          buffer = buffer.slice(nl + 1);
        }
      });
    });
    req.on('error', () => undefined);
    req.end();
    return { events, close: () => req.destroy() };
  };
  const real = collect(engine.socketPath);
  const emulated = collect(emu.endpoint.replace('unix://', ''));
  await sleep(200);
  await engine.docker('kill', '-s', 'HUP', 'shape');
  await engine.docker('service', 'update', '-d', '--label-add', 'x=1', 'shape-svc');
  emu.kill('shape', '1');
  emu.updateService('shape-svc', { labels: { x: '1' } });
  const both = (events: Array<Record<string, unknown>>) => events.some((e) => e.Type === 'service') && events.some((e) => e.Action === 'kill');
  await eventually(() => both(real.events) && both(emulated.events), 'events from the engine and the emulator');
  real.close();
  emulated.close();
  for (const [type, action] of [['container', 'kill'], ['service', 'update']] as const) {
    const r = real.events.find((e) => e.Type === type && e.Action === action);
    const m = emulated.events.find((e) => e.Type === type && e.Action === action);
    assert.ok(r && m, `a ${type} ${action} event from both: engine sent ${JSON.stringify(real.events.map((e) => `${e.Type} ${e.Action}`))}, emulator ${JSON.stringify(emulated.events.map((e) => `${e.Type} ${e.Action}`))}`);
    assert.deepEqual(Object.keys(m).sort(), Object.keys(r).sort(), `${type} ${action} event keys`);
    assert.deepEqual(Object.keys(m.Actor as object).sort(), Object.keys(r.Actor as object).sort(), `${type} ${action} event Actor keys`);
  }
}
