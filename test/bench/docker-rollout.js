// Zero-downtime benchmark of the docker/swarm provider (issue #3), against the Engine API emulator: a start-first
// rolling update of 3 replicas, a new domain, and an engine outage, each under a bounded keep-alive load on
// 127.0.0.1. Prints failed requests, throughput and p50/p99 beside a steady run. `node test/bench/docker-rollout.js`
// on its own, or as a suite of test/bench/run.js (exports description and run).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EngineEmulator } from '../docker/emulator.js';
import { Load, routable, sleep, startBackend, startTestGateway, stopAllLoads, waitFor } from '../docker/harness.js';
import { fmt, printChecks, printTable, settingsFromEnv } from './lib.js';

export const description = 'docker/swarm provider: start-first rolling update, new domain and engine loss under load (emulated engine)';

const THROTTLE = '--providers.providersThrottleDuration=100ms';

/** Everything one scenario started, stopped whatever happens. */
class Scope {
  constructor(dir) {
    this.dir = dir;
    this.closers = [];
  }

  add(closeable, close = () => closeable.close?.() ?? closeable.stop()) {
    this.closers.push(close);
    return closeable;
  }

  async close() {
    await stopAllLoads();
    for (const close of this.closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
  }
}

/** Backends on several loopback addresses sharing one port, as a service's tasks all listen on server.port. */
async function backendsOnOnePort(scope, prefix, ips) {
  for (let attempt = 0; attempt < 20; attempt++) {
    const started = [];
    try {
      for (const [i, ip] of ips.entries()) started.push(await startBackend(`${prefix}${i + 1}`, ip, started[0]?.port ?? 0));
      for (const b of started) scope.add(b);
      return started;
    } catch {
      await Promise.all(started.map((b) => b.close()));
    }
  }
  throw new Error(`no common free port on ${ips.join(', ')}`);
}

async function swarmSetup(scope, name, ips) {
  const engine = scope.add(await EngineEmulator.start({ socketPath: join(scope.dir, `${name}.sock`) }));
  engine.addNetwork({ name: 'golf', driver: 'overlay', subnet: '10.0.1.0/24' });
  const backends = await backendsOnOnePort(scope, `${name}-v1-`, ips);
  const labels = { 'wharf.http.routers.shop.rule': 'Host(`shop.test`)', 'wharf.http.services.shop.loadbalancer.server.port': String(backends[0].port) };
  const service = engine.createService({ name: 'shop', labels, network: 'golf', replicas: ips.length }, ips);
  const gateway = scope.add(await startTestGateway([THROTTLE, `--providers.swarm.endpoint=${engine.endpoint}`]));
  await routable(gateway.port, 'shop.test');
  const warmUp = new Load(gateway.port, 'shop.test', 8); // JIT and connection pools warm before anything is measured
  await sleep(500);
  await warmUp.stop();
  for (const b of backends) b.hits.length = 0;
  return { engine, backends, labels, service, gateway };
}

/** No change at all: what the load does on this machine, for comparison. */
async function steady(scope, connections, seconds) {
  const { gateway } = await swarmSetup(scope, 'steady', ['127.0.8.1', '127.0.8.2', '127.0.8.3']);
  const load = new Load(gateway.port, 'shop.test', connections);
  await sleep(seconds * 1000);
  return { scenario: 'steady (no change)', ...(await load.stop()) };
}

/** Start-first update of 3 replicas: each new task runs before its old one's desired state turns shutdown. */
async function rollingUpdate(scope, connections) {
  const { engine, backends, labels, service, gateway } = await swarmSetup(scope, 'rollout', ['127.0.9.1', '127.0.9.2', '127.0.9.3']);
  const port = backends[0].port;
  const load = new Load(gateway.port, 'shop.test', connections);
  await sleep(500);
  engine.updateService(service, { updateState: 'updating', labels: { ...labels, version: '2' } });
  const leave = [];
  for (const [slot, old] of backends.entries()) {
    const oldTask = engine.tasksOf(service).find((t) => t.ip === old.host && t.desired === 'running');
    const fresh = scope.add(await startBackend(`rollout-v2-${slot + 1}`, `127.0.9.${11 + slot}`, port));
    const task = engine.addTask(service, { ip: fresh.host, slot: slot + 1, state: 'starting' });
    await sleep(150);
    engine.setTaskState(task, 'running');
    await waitFor(`${fresh.name} serving`, () => load.served(fresh.name) > 0, 2_000);
    const at = Date.now();
    engine.setTaskDesiredState(oldTask.id, 'shutdown');
    await sleep(1_000); // stop grace period: in-flight requests finish on the old task
    leave.push(Math.max(0, Math.max(...old.hits) - at));
    await old.close();
    engine.setTaskState(oldTask.id, 'shutdown');
  }
  engine.updateService(service, { updateState: 'completed' });
  await sleep(300);
  return { scenario: 'rolling update, 3 replicas start-first', ...(await load.stop()), leaveMs: Math.max(...leave), note: `old tasks' last request ${leave.join('/')} ms after shutdown` };
}

/** A new swarm service appears while another is under load. */
async function newDomain(scope, connections) {
  const { engine, gateway } = await swarmSetup(scope, 'newdomain', ['127.0.10.1', '127.0.10.2', '127.0.10.3']);
  const fresh = scope.add(await startBackend('fresh', '127.0.10.20'));
  const load = new Load(gateway.port, 'shop.test', connections);
  await sleep(500);
  engine.createService({ name: 'fresh', network: 'golf', labels: { 'wharf.http.routers.f.rule': 'Host(`fresh.example`)', 'wharf.http.services.f.loadbalancer.server.port': String(fresh.port) } }, [fresh.host]);
  const routableMs = await routable(gateway.port, 'fresh.example');
  await sleep(500);
  return { scenario: 'new domain under load', ...(await load.stop()), routableMs, note: `fresh.example routable after ${routableMs} ms` };
}

/** The engine socket disappears for 2 s, then comes back: the last configuration keeps serving. */
async function engineLoss(scope, connections) {
  const { engine, gateway } = await swarmSetup(scope, 'loss', ['127.0.11.1', '127.0.11.2', '127.0.11.3']);
  const load = new Load(gateway.port, 'shop.test', connections);
  await sleep(500);
  await engine.disconnect();
  await sleep(2_000);
  await engine.listen();
  await waitFor('re-sync', () => gateway.lines.some((l) => /reachable again/.test(l.msg)), 10_000);
  await sleep(300);
  return { scenario: 'engine socket gone for 2 s', ...(await load.stop()), note: `${gateway.lines.filter((l) => /is unreachable/.test(l.msg)).length} outage log line(s)` };
}

export async function run({ settings, log }) {
  const connections = Math.min(settings.connections, 64);
  const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-docker-'));
  const rows = [];
  try {
    for (const scenario of [(s) => steady(s, connections, Math.max(3, settings.seconds)), (s) => rollingUpdate(s, connections), (s) => newDomain(s, connections), (s) => engineLoss(s, connections)]) {
      const scope = new Scope(dir);
      try {
        rows.push(await scenario(scope));
      } finally {
        await scope.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(`docker provider under load (${connections} keep-alive connections, in-process gateway, emulated engine)`, rows, [
    { title: 'scenario', value: (r) => r.scenario, left: true },
    { title: 'requests', value: (r) => String(r.requests) },
    { title: 'failed', value: (r) => String(r.errors) },
    { title: 'req/s', value: (r) => fmt(r.throughput, 0) },
    { title: 'p50 ms', value: (r) => fmt(r.p50, 2) },
    { title: 'p99 ms', value: (r) => fmt(r.p99, 2) },
    { title: 'notes', value: (r) => r.note ?? '', left: true },
  ], log);
  const byName = (prefix) => rows.find((r) => r.scenario.startsWith(prefix));
  const checks = printChecks([
    ...rows.map((r) => ({ label: `failed requests, ${r.scenario}`, measured: r.errors, op: '<=', target: 0, unit: '', digits: 0 })),
    { label: 'leaving task out of rotation after desired state shutdown', measured: byName('rolling')?.leaveMs, op: '<=', target: 1000, unit: ' ms', digits: 0 },
    { label: 'new domain routable', measured: byName('new domain')?.routableMs, op: '<=', target: 1000, unit: ' ms', digits: 0 },
  ], log);
  return { rows, checks };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const settings = settingsFromEnv();
  run({ settings, log: console.log }).then(
    ({ checks }) => process.exit(checks.every((c) => c.verdict !== 'MISS') ? 0 : 1),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
