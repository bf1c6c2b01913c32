// Docker/Swarm provider against the Engine API emulator: tasks with their own loopback IPs, a start-first rolling
// update of 3 replicas under load, task transitions at chosen moments, containers' health and networks, every
// label error path, built-in plugins by label, TLS and DOCKER_HOST endpoints, and engine loss. Every response the
// emulator sent is validated against the official Engine API spec at the end.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { EngineEmulator } from '@wharf/test/docker/emulator.js';
import { EmulatedStack } from './emulated.js';
import { EngineSpec, specPath } from '@wharf/test/docker/spec.js';
import { Load, answers, stopAllLoads, get, routable, startBackend, type Backend, type TestGateway } from '@wharf/test/docker/harness.js';
import { eventually, makeCA, makeCert, request, sleep } from '@wharf/test-helpers';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const stack = new EmulatedStack('wharf-docker-emulator-');
const { dir, emulators } = stack;
let spec: EngineSpec;
const emulator = (name: string) => stack.emulator(name);
const gateway = (args: string[]) => stack.gateway(args);
const backend = (name: string, host: string, port = 0) => stack.backend(name, host, port);

/** Keep-alive clients of the rolling update's load. */
const LOAD_CLIENTS = 16;

/** Backends on several loopback IPs sharing one port (a swarm service's tasks all listen on server.port). */
async function backendsOnOnePort(prefix: string, ips: string[]): Promise<Backend[]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const started: Backend[] = [];
    try {
      for (const [i, ip] of ips.entries()) started.push(await startBackend(`${prefix}${i + 1}`, ip, started[0]?.port ?? 0));
      stack.track(...started);
      return started;
    } catch {
      await Promise.all(started.map((b) => b.close()));
    }
  }
  throw new Error(`no common free port on ${ips.join(', ')}`);
}

/** The bank service's deploy labels, read from examples/swarm/docker-compose.yml so the example is what is tested. */
function exampleBankLabels(): Record<string, string> {
  const compose = parse(readFileSync(join(REPO, 'examples/swarm/docker-compose.yml'), 'utf8')) as { services: { bank: { deploy: { labels: string[] } } } };
  return Object.fromEntries(compose.services.bank.deploy.labels.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

before(() => {
  spec = EngineSpec.load(); // fails here, with where to get the file, when the spec is missing
});

after(async () => {
  await stopAllLoads();
  await stack.stop();
});

describe('docker provider through the Engine API emulator', () => {
  it('serves the examples/swarm bank service over its three task IPs on golf, with the Traefik labels unchanged', async () => {
    const engine = await emulator('bank');
    engine.addNetwork({ name: 'golf', driver: 'overlay', subnet: '10.0.1.0/24' });
    const labels = exampleBankLabels();
    const port = Number(labels['traefik.http.services.golf-api.loadbalancer.server.port']);
    for (const [i, ip] of ['127.0.0.2', '127.0.0.3', '127.0.0.4'].entries()) await backend(`bank${i + 1}`, ip, port);
    engine.createService({ name: 'golf_bank', labels, network: 'golf', replicas: 3 }, ['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    const g = await gateway([
      '--providers.docker', '--providers.docker.swarmMode', '--providers.docker.exposedbydefault=false',
      '--providers.docker.network=golf', '--providers.docker.labelPrefix=traefik', `--providers.docker.endpoint=${engine.endpoint}`,
    ]);
    await routable(g.port, 'golf.tistory.kr');
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add((await get(g.port, 'golf.tistory.kr')).body.split(' ')[0]!);
    assert.deepEqual([...seen].sort(), ['bank1', 'bank2', 'bank3']);
    const router = g.gateway.info.routers['golf-api@docker']!;
    assert.equal(router.status, 'enabled');
    assert.deepEqual(router.entryPoints, ['web']);
    // The provider negotiated the engine's version on the unversioned /version, then used /v1.41/ paths.
    assert.equal(engine.requests[0], '/version');
    assert.ok(engine.served.some((r) => r.path.startsWith('/v1.41/tasks')), 'versioned task listing');
  });

  it('uses the service VIP with lbswarm=true', async () => {
    const engine = await emulator('vip');
    engine.addNetwork({ name: 'golf', driver: 'overlay', subnet: '10.0.1.0/24' });
    const vip = await backend('vip', '127.0.0.9');
    await backendsOnOnePort('task', ['127.0.0.10', '127.0.0.11']);
    engine.createService({ name: 'api', network: 'golf', vip: '127.0.0.9', labels: { 'wharf.docker.lbswarm': 'true', 'wharf.http.services.api.loadbalancer.server.port': String(vip.port) } }, ['127.0.0.10', '127.0.0.11']);
    const g = await gateway([`--providers.swarm.endpoint=${engine.endpoint}`]);
    await routable(g.port, 'api', (body) => body.startsWith('vip '));
    assert.deepEqual(g.gateway.info.services['api@swarm']!.config!.loadBalancer!.servers, [{ url: `http://127.0.0.9:${vip.port}` }]);
  });

  it('rolls 3 replicas start-first under load with zero failed requests; a task whose desired state turns shutdown gets no new request once out of rotation', async () => {
    const engine = await emulator('rollout');
    engine.addNetwork({ name: 'golf', driver: 'overlay', subnet: '10.0.2.0/24' });
    const olds = await backendsOnOnePort('v1-', ['127.0.1.1', '127.0.1.2', '127.0.1.3']);
    const port = olds[0]!.port;
    const labels = { 'wharf.http.routers.shop.rule': 'Host(`shop.test`)', 'wharf.http.services.shop.loadbalancer.server.port': String(port) };
    const service = engine.createService({ name: 'shop', labels, network: 'golf', replicas: 3 }, olds.map((b) => b.host));
    const g = await gateway([`--providers.swarm.endpoint=${engine.endpoint}`]);
    await routable(g.port, 'shop.test');
    const load = new Load(g.port, 'shop.test', LOAD_CLIENTS);
    await eventually(() => olds.every((b) => load.served(b.name) > 0), 'load running on all three');

    engine.updateService(service, { updateState: 'updating', labels: { ...labels, version: '2' } });
    const leaveTimes: number[] = [];
    for (const [slot, old] of olds.entries()) {
      const oldTask = engine.tasksOf(service).find((t) => t.ip === old.host && t.desired === 'running')!;
      const fresh = await backend(`v2-${slot + 1}`, `127.0.1.${11 + slot}`, port);
      const newTask = engine.addTask(service, { ip: fresh.host, slot: slot + 1, state: 'starting' });
      await sleep(150);
      engine.setTaskState(newTask, 'running'); // start-first: the new task runs before the old one is told to stop
      await eventually(() => load.served(fresh.name) > 0, `${fresh.name} in rotation`);
      const shutdownAt = Date.now();
      engine.setTaskDesiredState(oldTask.id, 'shutdown');
      await eventually(() => !servers(g, 'shop@swarm').some((url) => url.includes(`//${old.host}:`)), `${old.name} out of rotation`);
      leaveTimes.push(Date.now() - shutdownAt);
      // Requests already sent to it may still arrive (at most one per client of the load); no new one may follow.
      const hitsAtRemoval = old.hits.length;
      const freshServed = load.served(fresh.name);
      await eventually(() => load.served(fresh.name) > freshServed + 50, 'the load going on after the removal');
      assert.ok(old.hits.length - hitsAtRemoval <= LOAD_CLIENTS, `${old.name} got ${old.hits.length - hitsAtRemoval} requests after it left rotation`);
      await old.close();
      engine.setTaskState(oldTask.id, 'shutdown');
    }
    engine.updateService(service, { updateState: 'completed' });
    await sleep(300);
    const stats = await load.stop();
    assert.equal(stats.errors, 0, `failed requests during the rolling update: ${JSON.stringify(stats.failures)}`);
    assert.ok(olds.every((b) => stats.byBackend[b.name]! > 0) && ['v2-1', 'v2-2', 'v2-3'].every((n) => stats.byBackend[n]! > 0), JSON.stringify(stats.byBackend));
    console.log(`rolling update: ${stats.requests} requests, 0 errors, ${stats.throughput} req/s, p50 ${stats.p50} ms, p99 ${stats.p99} ms; leaving tasks out of rotation ${leaveTimes.join('/')} ms after shutdown`);
  });

  it('follows task transitions at chosen moments: starting is not served, running joins, failed leaves', async () => {
    const engine = await emulator('tasks');
    engine.addNetwork({ name: 'golf', driver: 'overlay', subnet: '10.0.3.0/24' });
    const [a, b] = await backendsOnOnePort('t', ['127.0.2.1', '127.0.2.2']);
    const service = engine.createService({ name: 'svc', network: 'golf', labels: { 'wharf.http.services.svc.loadbalancer.server.port': String(a!.port) } }, [a!.host]);
    const g = await gateway([`--providers.swarm.endpoint=${engine.endpoint}`]);
    await routable(g.port, 'svc');
    const task = engine.addTask(service, { ip: b!.host, state: 'starting' });
    engine.updateService(service, { replicas: 2 }); // a scale: the event makes the provider poll tasks until they converge
    await sleep(700);
    assert.deepEqual(servers(g, 'svc@swarm'), [`http://${a!.host}:${a!.port}`], 'a starting task is not served');
    engine.setTaskState(task, 'running');
    await eventually(() => servers(g, 'svc@swarm').length === 2, 'running task joins');
    const first = engine.tasksOf(service)[0]!;
    engine.setTaskState(first.id, 'failed');
    engine.updateService(service, { labels: { 'wharf.http.services.svc.loadbalancer.server.port': String(a!.port) } });
    await eventually(() => servers(g, 'svc@swarm').length === 1 && servers(g, 'svc@swarm')[0]!.includes(b!.host), 'failed task leaves');
    engine.removeService(service);
    await answers(g.port, 'svc', 404);
  });

  it('routes a new swarm service while another one is under load, with zero errors', async () => {
    const engine = await emulator('newdomain');
    engine.addNetwork({ name: 'golf', driver: 'overlay', subnet: '10.0.4.0/24' });
    const base = await backend('base', '127.0.3.1');
    const fresh = await backend('fresh', '127.0.3.2');
    engine.createService({ name: 'base', network: 'golf', labels: { 'wharf.http.services.base.loadbalancer.server.port': String(base.port) } }, [base.host]);
    const g = await gateway([`--providers.swarm.endpoint=${engine.endpoint}`]);
    await routable(g.port, 'base');
    const load = new Load(g.port, 'base', 8);
    await sleep(200);
    engine.createService({ name: 'fresh', network: 'golf', labels: { 'wharf.http.routers.f.rule': 'Host(`fresh.example`)', 'wharf.http.services.f.loadbalancer.server.port': String(fresh.port) } }, [fresh.host]);
    const took = await routable(g.port, 'fresh.example');
    await sleep(200);
    const stats = await load.stop();
    assert.equal(stats.errors, 0, JSON.stringify(stats.failures));
    console.log(`new swarm service routable after ${took} ms; load: ${stats.requests} requests, 0 errors, ${stats.throughput} req/s, p50 ${stats.p50} ms, p99 ${stats.p99} ms`);
  });

  it('serves containers by health and network: starting/unhealthy out, kill out at once, container:<id>, selected network, useBindPortIP', async () => {
    const engine = await emulator('containers');
    engine.addNetwork({ name: 'front', driver: 'bridge', scope: 'local' });
    engine.addNetwork({ name: 'back', driver: 'bridge', scope: 'local' });
    const h = await backend('health', '127.0.4.1');
    const n = await backend('netsel', '127.0.4.3');
    const s = await backend('shared', '127.0.4.4');
    const bound = await backend('bound', '127.0.4.5');
    const g = await gateway([`--providers.docker.endpoint=${engine.endpoint}`, '--providers.docker.network=back']);
    const hc = engine.runContainer({ name: 'hc', network: { front: h.host }, ports: [h.port], health: 'starting' });
    await sleep(500);
    assert.equal((await get(g.port, 'hc')).status, 404, 'starting is not served');
    engine.setHealth(hc, 'healthy');
    await routable(g.port, 'hc');
    engine.setHealth(hc, 'unhealthy');
    await answers(g.port, 'hc', 404);
    engine.setHealth(hc, 'healthy');
    await routable(g.port, 'hc');
    engine.kill(hc, '15'); // docker stop's SIGTERM: out of rotation before the process has even exited
    await answers(g.port, 'hc', 404);
    engine.exit(hc);
    engine.remove(hc);

    engine.runContainer({ name: 'netsel', network: { front: '127.0.4.2', back: n.host }, ports: [n.port] });
    await routable(g.port, 'netsel', (body) => body.startsWith('netsel'));
    engine.runContainer({ name: 'sandbox', network: { front: s.host }, ports: [] });
    engine.runContainer({ name: 'sidecar', network: 'container:sandbox', labels: { 'wharf.http.services.sidecar.loadbalancer.server.port': String(s.port) } });
    await routable(g.port, 'sidecar', (body) => body.startsWith('shared')); // network_mode container:sandbox
    const g2 = await gateway([`--providers.docker.endpoint=${engine.endpoint}`, '--providers.docker.useBindPortIP=true', '--providers.docker.constraints=!Label(`tier`, `internal`)']);
    const frozen = await gateway([`--providers.docker.endpoint=${engine.endpoint}`, '--providers.docker.watch=false', '--providers.docker.allowEmptyServices=true']);
    engine.runContainer({ name: 'internal-only', network: { front: bound.host }, ports: [bound.port], labels: { tier: 'internal' } });
    engine.runContainer({ name: 'published', network: { front: '127.0.4.9' }, ports: ['80/tcp'], bindings: { '80/tcp': { hostIp: bound.host, hostPort: bound.port } } });
    await routable(g2.port, 'published', (body) => body.startsWith('bound'));
    assert.equal((await get(g2.port, 'internal-only')).status, 404, 'left out by the constraints');
    assert.equal((await get(g.port, 'internal-only')).status, 200, 'served without constraints');
    assert.equal((await get(frozen.port, 'published')).status, 404, 'watch=false reads once, at start');
    assert.equal((await get(frozen.port, 'netsel')).status, 200);
  });

  it('reports every label error with the container, label, value and expectation, disabling only what it touches; built-in plugins work by label', async () => {
    const engine = await emulator('errors');
    engine.addNetwork({ name: 'front', driver: 'bridge', scope: 'local' });
    const b = await backend('app', '127.0.5.1');
    const g = await gateway([`--providers.docker.endpoint=${engine.endpoint}`]);
    const plugins: Record<string, string> = {
      'wharf.http.routers.app.rule': 'Host(`app.test`)',
      'wharf.http.routers.app.middlewares': 'strip,hdr',
      'wharf.http.middlewares.strip.stripprefix.prefixes': '/api,/v1',
      'wharf.http.middlewares.hdr.headers.customresponseheaders.X-Served-By': 'wharf',
      'wharf.http.middlewares.hdr.headers.customrequestheaders.X-From-Label': 'yes',
      'wharf.http.routers.bad.rule': 'Host(`bad.test`)',
      'wharf.http.routers.bad.priority': 'high',
      'wharf.http.routers.typo.rulez': 'Host(`typo.test`)',
      'wharf.http.middlewares.broken.stripprefix.prefixes': 'no-slash',
      'wharf.http.routers.usesbroken.rule': 'Host(`usesbroken.test`)',
      'wharf.http.routers.usesbroken.middlewares': 'broken',
    };
    const optional = optionalPluginLabels();
    Object.assign(plugins, optional.labels);
    engine.runContainer({ name: 'app', network: { front: b.host }, ports: [b.port], labels: plugins });
    engine.runContainer({ name: 'twoports', network: { front: '127.0.5.2' }, ports: [80, 443] });
    engine.runContainer({ name: 'badenable', network: { front: '127.0.5.3' }, ports: [80], labels: { 'wharf.enable': 'yes' } });
    await routable(g.port, 'app.test');
    const res = await get(g.port, 'app.test', '/api/users');
    assert.equal(res.body, 'app /users', 'stripPrefix from labels');
    assert.equal(res.headers['x-served-by'], 'wharf', 'headers from labels');
    const info = g.gateway.info;
    const errors = (kind: 'routers' | 'services' | 'middlewares', name: string) => (info[kind][`${name}@docker`]?.errors ?? []).join('\n');
    assert.match(errors('routers', 'bad'), /container "app": label wharf\.http\.routers\.bad\.priority: expected a whole number \(got "high"\)/);
    assert.match(errors('routers', 'typo'), /label wharf\.http\.routers\.typo\.rulez="Host\(`typo\.test`\)": unknown field 'rulez' \(did you mean 'rule'\?\)/);
    assert.match(errors('middlewares', 'broken'), /label wharf\.http\.middlewares\.broken\.stripprefix\.prefixes="no-slash": must match pattern/);
    assert.match(errors('routers', 'usesbroken'), /middleware 'broken@docker' is disabled/);
    assert.match(errors('services', 'twoports'), /container "twoports" exposes several ports \(80, 443\) and no server\.port label says which one to use; set wharf\.http\.services\.twoports\.loadbalancer\.server\.port/);
    assert.match(errors('services', 'badenable'), /container "badenable": label wharf\.enable: expected true or false \(got "yes"\)/);
    for (const name of ['app', 'usesbroken']) assert.ok(info.routers[`${name}@docker`], name);
    assert.equal(info.routers['app@docker']!.status, 'enabled', 'the rest of the container is served');
    assert.ok(g.lines.some((l) => /priority: expected a whole number/.test(l.msg)), 'errors reach the log');
    for (const check of optional.checks) await check(g);
    for (const [name, mw] of Object.entries(info.middlewares)) if (name !== 'broken@docker') assert.equal(mw.status, 'enabled', `${name}: ${mw.errors?.join('; ')}`);
  });

  it('reaches an engine over TCP with TLS (ca, cert, key, and insecureSkipVerify) and honours DOCKER_HOST', async () => {
    const certs = await makeCertificates(join(dir, 'tls'));
    const engine = await EngineEmulator.start({ tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca, requestCert: true } });
    emulators.push(engine);
    engine.addNetwork({ name: 'front', driver: 'bridge', scope: 'local' });
    const b = await backend('tls', '127.0.6.1');
    engine.runContainer({ name: 'secure', network: { front: b.host }, ports: [b.port] });
    const g = await gateway([
      `--providers.docker.endpoint=${engine.endpoint}`,
      `--providers.docker.tls.ca=${certs.caFile}`, `--providers.docker.tls.cert=${certs.clientCertFile}`, `--providers.docker.tls.key=${certs.clientKeyFile}`,
    ]);
    await routable(g.port, 'secure');
    const plain = await EngineEmulator.start({ tls: { key: certs.serverKey, cert: certs.serverCert } });
    emulators.push(plain);
    plain.addNetwork({ name: 'front', driver: 'bridge', scope: 'local' });
    plain.runContainer({ name: 'insecure', network: { front: b.host }, ports: [b.port] });
    const g2 = await gateway([`--providers.docker.endpoint=${plain.endpoint.replace('tcp:', 'https:')}`, '--providers.docker.tls.insecureSkipVerify=true']);
    await routable(g2.port, 'insecure');
    const viaEnv = await emulator('dockerhost');
    viaEnv.addNetwork({ name: 'front', driver: 'bridge', scope: 'local' });
    viaEnv.runContainer({ name: 'fromenv', network: { front: b.host }, ports: [b.port] });
    process.env.DOCKER_HOST = viaEnv.endpoint;
    try {
      const g3 = await gateway(['--providers.docker']);
      await routable(g3.port, 'fromenv');
    } finally {
      delete process.env.DOCKER_HOST;
    }
  });

  it('keeps the last configuration when the engine goes away or refuses, logs the outage once, and re-syncs when it is back', async () => {
    const engine = await emulator('outage');
    engine.addNetwork({ name: 'golf', driver: 'overlay', subnet: '10.0.7.0/24' });
    const [one, two] = await backendsOnOnePort('o', ['127.0.7.1', '127.0.7.2']);
    engine.createService({ name: 'keep', network: 'golf', labels: { 'wharf.http.services.keep.loadbalancer.server.port': String(one!.port) } }, [one!.host]);
    const g = await gateway([`--providers.swarm.endpoint=${engine.endpoint}`, '--providers.swarm.refreshSeconds=1']);
    await routable(g.port, 'keep');
    const load = new Load(g.port, 'keep', 4);
    await engine.disconnect(); // the socket is gone: connection refused / no such file
    await sleep(2_500); // longer than refreshSeconds and several reconnect attempts
    engine.createService({ name: 'later', network: 'golf', labels: { 'wharf.http.services.later.loadbalancer.server.port': String(two!.port) } }, [two!.host]);
    engine.fail(500, 'permission denied'); // back, but refusing every request
    await engine.listen();
    await sleep(1_500);
    assert.equal((await get(g.port, 'later')).status, 404, 'nothing new while the engine refuses');
    engine.fail(undefined);
    await routable(g.port, 'later');
    const stats = await load.stop();
    assert.equal(stats.errors, 0, `the last configuration kept serving: ${JSON.stringify(stats.failures)}`);
    const outage = g.lines.filter((l) => /is unreachable/.test(l.msg));
    const back = g.lines.filter((l) => /reachable again/.test(l.msg));
    assert.equal(outage.length, 1, outage.map((l) => l.msg).join('\n'));
    assert.match(outage[0]!.msg, /swarm provider: the engine at unix:\/\/.*outage\.sock is unreachable: .*keeping the last good configuration and reconnecting/);
    assert.equal(back.length, 1);
  });

  it('sent only responses that match the official Engine API specification', () => {
    const served = emulators.flatMap((e) => e.served);
    const violations = served.flatMap((r) => spec.validate(r.path, r.status, r.body));
    assert.deepEqual(violations.slice(0, 20), [], `${violations.length} responses do not match ${specPath()}`);
    const operations = new Set(served.map((r) => spec.operationOf(r.path)));
    for (const op of ['/_ping', '/version', '/containers/json', '/containers/{id}/json', '/services', '/tasks', '/nodes', '/networks', '/events']) {
      if (op === '/_ping' || op === '/info') continue; // not used by the provider; checked on their own below
      assert.ok(operations.has(op), `no ${op} response was validated (${[...operations].join(', ')})`);
    }
    console.log(`${served.length} emulator responses valid against the Engine API ${spec.version} specification`);
  });

  it('answers /_ping, /info and unknown paths as the engine does (validated)', async () => {
    const engine = await emulator('misc');
    const ask = (path: string) =>
      new Promise<void>((resolve, reject) => {
        import('node:http').then(({ request }) => {
          const req = request({ socketPath: join(dir, 'misc.sock'), path }, (res) => {
            res.resume();
            res.on('end', () => resolve());
          });
          req.on('error', reject);
          req.end();
        }, reject);
      });
    for (const path of ['/_ping', '/v1.41/_ping', '/info', '/v1.24/info', '/v1.41/containers/nope/json']) await ask(path);
    const violations = engine.served.flatMap((r) => spec.validate(r.path, r.status, r.body));
    assert.deepEqual(violations, []);
    assert.deepEqual(engine.served.map((r) => r.status), [200, 200, 200, 200, 404]);
  });
});

function servers(g: TestGateway, service: string): string[] {
  return (g.gateway.info.services[service]?.config?.loadBalancer?.servers ?? []).map((s) => s.url);
}

/** Labels for the other built-in plugins whose packages are present in this tree, and what each should do. */
function optionalPluginLabels(): { labels: Record<string, string>; checks: Array<(g: TestGateway) => Promise<void>> } {
  const labels: Record<string, string> = {};
  const checks: Array<(g: TestGateway) => Promise<void>> = [];
  const present = (name: string) => existsSync(join(REPO, `plugins/${name}/dist/index.js`));
  const route = (name: string, middleware: string) => {
    labels[`wharf.http.routers.${name}.rule`] = `Host(\`${name}.test\`)`;
    labels[`wharf.http.routers.${name}.middlewares`] = middleware;
    labels[`wharf.http.routers.${name}.service`] = 'app';
  };
  if (present('ratelimit')) {
    Object.assign(labels, { 'wharf.http.middlewares.rl.ratelimit.average': '1000', 'wharf.http.middlewares.rl.ratelimit.burst': '2000' });
    route('limited', 'rl');
    checks.push(async (g) => assert.equal((await get(g.port, 'limited.test')).status, 200, 'rateLimit from labels'));
  }
  if (present('retry')) {
    labels['wharf.http.middlewares.rt.retry.attempts'] = '2';
    route('retried', 'rt');
    checks.push(async (g) => assert.equal((await get(g.port, 'retried.test')).status, 200, 'retry from labels'));
  }
  if (present('redirectscheme')) {
    Object.assign(labels, { 'wharf.http.middlewares.tohttps.redirectscheme.scheme': 'https', 'wharf.http.middlewares.tohttps.redirectscheme.permanent': 'true' });
    route('moved', 'tohttps');
    checks.push(async (g) => {
      const r = await get(g.port, 'moved.test', '/x');
      assert.ok([301, 308].includes(r.status), `redirectScheme from labels: ${r.status}`);
      assert.equal(r.headers.location, 'https://moved.test/x');
    });
  }
  // The rewrite and redirect plugins from labels: their options decode through the docker provider as from a file.
  const rewrites: Array<{ plugin: string; router: string; options: Record<string, string>; path: string; expected: string }> = [
    { plugin: 'addprefix', router: 'prefixed', options: { prefix: '/v2' }, path: '/x', expected: 'app /v2/x' },
    { plugin: 'replacepath', router: 'replaced', options: { path: '/fixed' }, path: '/x?q=1', expected: 'app /fixed?q=1' },
    { plugin: 'replacepathregex', router: 'rewritten', options: { regex: '^/old/(.*)', replacement: '/new/$1' }, path: '/old/a%2Fb', expected: 'app /new/a%2Fb' },
    { plugin: 'stripprefixregex', router: 'tenants', options: { regex: '/t/[0-9]+,/u/' }, path: '/t/42/x', expected: 'app /x' },
  ];
  for (const r of rewrites.filter((c) => present(c.plugin))) {
    for (const [key, value] of Object.entries(r.options)) labels[`wharf.http.middlewares.${r.router}-mw.${r.plugin}.${key}`] = value;
    route(r.router, `${r.router}-mw`);
    checks.push(async (g) => assert.equal((await get(g.port, `${r.router}.test`, r.path)).body, r.expected, `${r.plugin} from labels`));
  }
  if (present('redirectregex')) {
    Object.assign(labels, {
      'wharf.http.middlewares.rx.redirectregex.regex': '^http://rx\\.test/(.*)$',
      'wharf.http.middlewares.rx.redirectregex.replacement': 'https://example.test/${1}',
      'wharf.http.middlewares.rx.redirectregex.permanent': 'true',
    });
    route('rx', 'rx');
    checks.push(async (g) => {
      const r = await get(g.port, 'rx.test', '/x?y=1');
      assert.equal(r.status, 301, 'redirectRegex from labels');
      assert.equal(r.headers.location, 'https://example.test/x?y=1');
    });
  }
  // Issue #16's access control from labels: an htpasswd line (Compose writes its `$` as `$$`, Docker passes `$`),
  // an allow list, and CORS preflights answered by headers.
  if (present('basicauth')) {
    Object.assign(labels, { 'wharf.http.middlewares.staff.basicauth.users': 'test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/', 'wharf.http.middlewares.staff.basicauth.headerfield': 'X-WebAuth-User' });
    route('staff', 'staff');
    checks.push(async (g) => {
      const challenge = await get(g.port, 'staff.test');
      assert.equal(challenge.status, 401, 'basicAuth from labels');
      assert.equal(challenge.headers['www-authenticate'], 'Basic realm="traefik"');
      const allowed = await request(g.port, { path: '/', headers: { host: 'staff.test', authorization: `Basic ${Buffer.from('test:test').toString('base64')}` } });
      assert.equal(allowed.status, 200, 'basicAuth from labels: the user gets in');
    });
  }
  if (present('ipallowlist')) {
    Object.assign(labels, { 'wharf.http.middlewares.office.ipallowlist.sourcerange': '10.0.0.0/8,192.168.0.0/16', 'wharf.http.middlewares.office.ipallowlist.rejectstatuscode': '404' });
    route('office', 'office');
    checks.push(async (g) => assert.equal((await get(g.port, 'office.test')).status, 404, 'ipAllowList from labels, with rejectStatusCode'));
  }
  if (present('headers')) {
    Object.assign(labels, {
      'wharf.http.middlewares.cors.headers.accesscontrolalloworiginlist': 'https://app.example',
      'wharf.http.middlewares.cors.headers.accesscontrolallowmethods': 'GET,OPTIONS,PUT',
      'wharf.http.middlewares.cors.headers.accesscontrolmaxage': '100',
      'wharf.http.middlewares.cors.headers.addvaryheader': 'true',
    });
    route('cors', 'cors');
    checks.push(async (g) => {
      const preflight = await request(g.port, { method: 'OPTIONS', path: '/', headers: { host: 'cors.test', origin: 'https://app.example', 'access-control-request-method': 'PUT' } });
      assert.equal(preflight.status, 200, 'CORS preflight from labels');
      assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example');
      assert.equal(preflight.headers['access-control-allow-methods'], 'GET,OPTIONS,PUT');
      assert.equal(preflight.headers['access-control-max-age'], '100');
    });
  }
  if (present('healthcheck')) {
    // A plugin that extends loadBalancer (healthCheck) works in labels through the same schema.
    Object.assign(labels, { 'wharf.http.services.app.loadbalancer.healthcheck.path': '/', 'wharf.http.services.app.loadbalancer.healthcheck.interval': '10s' });
    checks.push(async (g) => assert.equal((g.gateway.info.services['app@docker']?.config?.loadBalancer as { healthCheck?: { path?: string } } | undefined)?.healthCheck?.path, '/'));
  }
  return { labels, checks };
}

interface Certificates {
  ca: Buffer;
  caFile: string;
  serverKey: Buffer;
  serverCert: Buffer;
  clientCertFile: string;
  clientKeyFile: string;
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, for the TLS endpoint test (files for the flags). */
async function makeCertificates(into: string): Promise<Certificates> {
  mkdirSync(into, { recursive: true });
  const ca = await makeCA('wharf-test-ca');
  const [server, client] = await Promise.all([makeCert(['127.0.0.1'], { ca, cn: 'server' }), makeCert([], { ca, cn: 'client', usage: 'client' })]);
  const write = (name: string, text: string) => {
    writeFileSync(join(into, name), text);
    return join(into, name);
  };
  return {
    ca: Buffer.from(ca.cert),
    caFile: write('ca.pem', ca.cert),
    serverKey: Buffer.from(server.key),
    serverCert: Buffer.from(server.cert),
    clientCertFile: write('client.pem', client.cert),
    clientKeyFile: write('client.key', client.key),
  };
}
