// Issue #14 measured on the real engine: the examples/swarm stacks deployed by test/docker/stack.sh (2 Wharf
// replicas from the working tree, 3 bank tasks on the overlay golf), each scenario under 100 keep-alive undici clients
// on the replicas' host ports (127.0.0.1), every answer checked. Prints per scenario: requests, errors, p50/p99 and
// the time from the engine's event to the routing change (a start event to the task's first answer, a kill event to
// its last). Needs root and the base image (test/prepare.sh). `node test/bench/swarm.js`, or `npm run bench -- swarm`.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Client } from 'undici';
import { eventually } from '@wharf/test-helpers';
import { EngineEvents, KeepAliveLoad, routingDelays } from '../docker/zero-downtime.js';
import { printTable, repoRoot } from './lib.js';

export const description = 'examples/swarm on the real engine under 100 keep-alive clients: new domain, start-first update, scale, gateway kill, SIGKILLed bank task with and without retry';

const exec = promisify(execFile);
const STACK = join(repoRoot, 'test/docker/stack.sh');
const DOCKER = '/usr/bin/docker';
const CLIENTS = 100;
let env;

async function stack(command) {
  const { stdout } = await exec('bash', [STACK, command], { timeout: 300_000, maxBuffer: 16 << 20 });
  return stdout.trim();
}

async function docker(...args) {
  const { stdout } = await exec(DOCKER, args, { env, timeout: 120_000 });
  return stdout.trim();
}

async function gateways() {
  const out = await stack('gateways');
  return out === '' ? [] : out.split('\n').map((line) => ({ id: line.split(' ')[0], port: Number(line.split(' ')[1]) }));
}

async function bankConverged(replicas) {
  const state = await docker('service', 'inspect', '-f', '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}', 'golf_bank');
  const tasks = await docker('service', 'ps', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}', 'golf_bank');
  return state !== 'updating' && tasks.split('\n').filter((l) => l.startsWith('Running')).length === replicas;
}

/** The load on `ports` around `change`, then 2 more seconds; figures and routing delays of golf_bank's tasks. */
async function underLoad(ports, change, query = '', method = 'GET') {
  const events = new EngineEvents(DOCKER, env);
  const load = new KeepAliveLoad(ports, 'golf.tistory.kr', CLIENTS, query, method);
  let extra;
  try {
    await eventually(() => load.requests >= 500, 'the load is running');
    extra = await change(events);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  } catch (err) {
    await load.stop();
    events.stop();
    throw err;
  }
  const stats = await load.stop();
  events.stop();
  return { stats, delays: routingDelays(events, 'golf_bank', stats), extra, events };
}

const span = (values) => (values.length === 0 ? '-' : `${Math.min(...values).toFixed(0)}…${Math.max(...values).toFixed(0)}`);

export async function run({ log = console.log } = {}) {
  const up = await stack('up');
  env = { ...process.env, DOCKER_HOST: /^DOCKER_HOST=(.*)$/m.exec(up)[1] };
  const engine = await docker('version', '--format', '{{.Server.Version}}');
  log(`engine: Docker ${engine}; everything (engine, 2 gateway replicas, bank tasks, load generator) shares this machine's CPUs`);
  const rows = [];
  const add = (scenario, r, routing) => {
    rows.push({ scenario, requests: r.stats.requests, errors: r.stats.errors, p50: r.stats.p50, p99: r.stats.p99, routing, failures: r.stats.failures });
    log(`  ${scenario}: ${r.stats.requests} requests, ${r.stats.errors} errors, p50 ${r.stats.p50} ms, p99 ${r.stats.p99} ms; ${routing}`);
  };
  try {
    const both = await eventually(async () => {
      const found = await gateways();
      return found.length === 2 && found;
    }, 'two healthy gateway replicas with a host port', 60_000, 200);
    const ports = both.map((g) => g.port);

    add('steady (no change)', await underLoad(ports, async () => undefined), '-');

    const created = await underLoad(ports, async (events) => {
      await docker('service', 'create', '--detach', '--no-resolve-image', '--name', 'golf_new', '--network', 'golf',
        '--label', 'traefik.enable=true', '--label', 'traefik.docker.network=golf',
        '--label', 'traefik.http.routers.golf-new.rule=Host(`new.golf.test`)', '--label', 'traefik.http.routers.golf-new.entrypoints=web',
        '--label', 'traefik.http.services.golf-new.loadbalancer.server.port=8083', 'golf/bank:latest');
      const poller = new Client(`http://127.0.0.1:${ports[0]}`);
      await eventually(async () => {
        const res = await poller.request({ path: '/', method: 'GET', headers: { host: 'new.golf.test' } });
        await res.body.text();
        return res.statusCode === 200;
      }, 'new.golf.test routable', 60_000, 10);
      const routed = performance.timeOrigin + performance.now();
      await poller.close();
      const start = events.of('golf_new', 'start')[0];
      return start ? routed - start.at : undefined;
    });
    add('new domain (docker service create)', created, `routable ${created.extra?.toFixed(0)} ms after its task's start event`);
    await docker('service', 'rm', 'golf_new');

    await docker('tag', 'golf/bank:latest', 'golf/bank:v2');
    const updated = await underLoad(ports, async () => {
      await docker('service', 'update', '--detach', '--no-resolve-image', '--image', 'golf/bank:v2', '--update-order', 'start-first', 'golf_bank');
      await eventually(async () => (await docker('service', 'inspect', '-f', '{{.UpdateStatus.State}}', 'golf_bank')) === 'completed', 'update completed', 180_000, 200);
    });
    add('service update --image, start-first', updated, `joined ${span(updated.delays.joined)} ms after start; left ${span(updated.delays.left)} ms after SIGTERM`);

    const scaled = await underLoad(ports, async () => {
      await docker('service', 'scale', '--detach', 'golf_bank=1');
      await eventually(() => bankConverged(1), 'bank at 1', 60_000, 200);
      await docker('service', 'scale', '--detach', 'golf_bank=3');
      await eventually(() => bankConverged(3), 'bank at 3', 60_000, 200);
    });
    add('service scale bank=1, then =3', scaled, `left ${span(scaled.delays.left)} ms after SIGTERM; joined ${span(scaled.delays.joined)} ms after start`);

    // A bank task dying abruptly: requests in flight on it (each held 20 ms) are lost unless something sends them
    // again. GET: the proxy's resend on a broken reused connection covers it; POST (not idempotent): only the retry
    // middleware may, with retryNonIdempotentMethod (Traefik's retry does not resend a POST the server received).
    for (const retry of [false, true]) {
      if (retry) {
        await docker('service', 'update', '--detach', '--label-add', 'traefik.http.middlewares.golf-retry.retry.attempts=3',
          '--label-add', 'traefik.http.middlewares.golf-retry.retry.retryNonIdempotentMethod=true',
          '--label-add', 'traefik.http.routers.golf-api.middlewares=golf-retry', 'golf_bank');
      }
      for (const method of ['GET', 'POST']) {
        await eventually(() => bankConverged(3), 'bank at 3', 60_000, 200);
        const victim = (await docker('ps', '-q', '--filter', 'name=golf_bank')).split('\n')[0];
        const killed = await underLoad(ports, async (events) => {
          await docker('kill', '-s', 'KILL', victim);
          await eventually(() => events.events.some((e) => e.id.startsWith(victim) && e.action === 'die'), 'die event', 30_000);
        }, '?delay=20', method);
        const killAt = killed.events.events.find((e) => e.id.startsWith(victim) && e.action === 'kill')?.at;
        const last = killed.stats.tasks[victim.slice(0, 12)]?.last;
        add(`bank task SIGKILLed, ${method}${retry ? ', retry (attempts=3, retryNonIdempotentMethod)' : ''}`, killed, `last answer ${killAt && last ? (last - killAt).toFixed(0) : '-'} ms after the kill event`);
      }
    }

    const [target, survivor] = await gateways();
    const gatewayKill = await underLoad([survivor.port], async () => {
      await docker('kill', target.id);
      return performance.timeOrigin + performance.now();
    });
    await eventually(async () => {
      const now = await gateways();
      return now.length === 2 && !now.some((g) => g.id === target.id);
    }, 'the killed replica replaced and healthy', 120_000, 200);
    const healthyAfter = performance.timeOrigin + performance.now() - gatewayKill.extra;
    add('gateway replica killed (load on the other)', gatewayKill, `replacement healthy ${(healthyAfter / 1000).toFixed(1)} s after the kill`);
  } finally {
    await stack('down');
  }
  printTable(`issue #14 scenarios, ${CLIENTS} keep-alive clients (Docker ${engine}; shared, loaded machine)`, rows, [
    { title: 'scenario', left: true, value: (r) => r.scenario },
    { title: 'requests', value: (r) => String(r.requests) },
    { title: 'errors', value: (r) => String(r.errors) },
    { title: 'p50 ms', value: (r) => String(r.p50) },
    { title: 'p99 ms', value: (r) => String(r.p99) },
    { title: 'engine event → routing', left: true, value: (r) => r.routing },
  ], log);
  for (const r of rows.filter((row) => row.errors > 0)) log(`${r.scenario}: first failures ${JSON.stringify(r.failures.slice(0, 3))}`);
  return { engine, rows };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().then(
    () => undefined,
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
