// The examples/swarm stacks deployed with `docker stack deploy` on a real swarm engine with overlay networking
// (test/docker/stack.sh): the gateway service runs Wharf's image, built from this working tree, as 2 replicas with
// the Docker socket mounted; bank runs 3 replicas on the overlay golf. Docker's HEALTHCHECK reports both gateway
// replicas healthy, and each, reached at its golf address from a client container, routes golf.tistory.kr to the
// three bank tasks by their Traefik deploy labels. An engine that cannot be started fails the suite, never skips it.
// Then issue #14's zero-downtime scenarios, each under 100 keep-alive clients sending as fast as answers come to the
// replicas' host ports on 127.0.0.1, every answer checked: a new domain, a start-first rolling update of bank, a
// scale to 1 and back to 3, and one gateway replica killed. How fast routing followed the engine is printed, not
// asserted (test/bench/swarm.js measures it).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'undici';
import { eventually } from '@wharf/test-helpers';
import { ENGINE_SCRIPT } from '@wharf/test/docker/engine.js';
import { EngineEvents, KeepAliveLoad, routingDelays, type LoadStats } from '@wharf/test/docker/zero-downtime.js';

const run = promisify(execFile);
const STACK_SCRIPT = join(dirname(ENGINE_SCRIPT), 'stack.sh');
const BASE_SCRIPT = join(dirname(ENGINE_SCRIPT), 'base-image.sh');

interface GatewayCheck {
  gateway: string;
  ping: string;
  answers: Record<string, number>;
}

async function stack(command: string): Promise<string> {
  try {
    // `up` builds both images on a fresh engine: over a minute and a half on a loaded 2-core machine.
    const { stdout } = await run('bash', [STACK_SCRIPT, command], { timeout: command === 'up' ? 200_000 : 100_000, maxBuffer: 16 << 20 });
    return stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${STACK_SCRIPT} ${command} failed: ${(e.stderr || e.message).trim().split('\n').slice(-15).join('\n')}`, { cause: err });
  }
}

let deployed = false;
let checks: GatewayCheck[];
let tasks: string[];
let engineEnv: NodeJS.ProcessEnv;
const DOCKER = '/usr/bin/docker';

before(async () => {
  // The base is made once per machine by test/prepare.sh (minutes, more than a test file may take).
  await run('bash', [BASE_SCRIPT, 'status']).catch((err: { stderr?: string; message: string }) => {
    throw new Error((err.stderr || err.message).trim(), { cause: err });
  });
  deployed = true; // from here on, `after` tears down whatever `up` got to
  const up = await stack('up');
  engineEnv = { ...process.env, DOCKER_HOST: /^DOCKER_HOST=(.*)$/m.exec(up)![1]! };
  checks = (await stack('check')).split('\n').map((line) => JSON.parse(line) as GatewayCheck);
  tasks = (await stack('tasks')).split('\n').sort();
});

after(async () => {
  if (deployed) await stack('down');
});

describe('the examples/swarm stacks on a real swarm engine', () => {
  it('runs bank as 3 tasks and the gateway as 2 replicas that Docker reports healthy through wharf healthcheck', () => {
    // `stack.sh up` waited for exactly this: 3/3 bank tasks and 2 gateway containers with health=healthy.
    assert.equal(tasks.length, 3, `bank tasks: ${tasks.join(', ')}`);
    assert.equal(checks.length, 2, `healthy gateway replicas reached on golf: ${JSON.stringify(checks)}`);
    assert.notEqual(checks[0]!.gateway, checks[1]!.gateway);
  });

  it('each gateway replica answers /ping and routes golf.tistory.kr to the three bank tasks from their Traefik labels', () => {
    for (const check of checks) {
      assert.equal(check.ping, '200', `${check.gateway} /ping`);
      const answered = Object.keys(check.answers);
      assert.ok(answered.every((a) => a.startsWith('200 ')), `${check.gateway}: ${JSON.stringify(check.answers)}`);
      assert.deepEqual(answered.map((a) => a.slice(4)).sort(), tasks, `${check.gateway} balances over every bank task`);
      assert.equal(Object.values(check.answers).reduce((a, b) => a + b, 0), 9);
    }
  });
});

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run(DOCKER, args, { env: engineEnv, timeout: 120_000 });
  return stdout.trim();
}

/** Healthy gateway replicas: container id and host port. */
async function gateways(): Promise<Array<{ id: string; port: number }>> {
  const out = await stack('gateways');
  return out === '' ? [] : out.split('\n').map((line) => ({ id: line.split(' ')[0]!, port: Number(line.split(' ')[1]) }));
}

/** Running bank tasks whose desired state is running too. */
async function runningBankTasks(): Promise<number> {
  const out = await docker('service', 'ps', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}', 'golf_bank');
  return out.split('\n').filter((l) => l.startsWith('Running')).length;
}

async function bankConverged(replicas: number): Promise<boolean> {
  const state = await docker('service', 'inspect', '-f', '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}', 'golf_bank');
  return state !== 'updating' && (await runningBankTasks()) === replicas;
}

/**
 * Runs `change` under the load (100 clients on `ports`), keeps the load on until it has sent `after` more requests
 * once the change is over, and returns the load's figures with how fast routing followed the engine's events.
 */
async function underLoad(ports: number[], change: () => Promise<void>, after = 2_000): Promise<{ stats: LoadStats; delays: ReturnType<typeof routingDelays> }> {
  const events = new EngineEvents(DOCKER, engineEnv);
  const load = new KeepAliveLoad(ports, 'golf.tistory.kr', 100);
  let stats: LoadStats | undefined;
  try {
    await eventually(() => load.requests >= 500, 'the load is running');
    await change();
    const sent = load.requests;
    await eventually(() => load.requests >= sent + after, 'the load goes on after the change');
  } finally {
    stats = await load.stop();
    events.stop();
  }
  return { stats, delays: routingDelays(events, 'golf_bank', stats) };
}

function report(name: string, stats: LoadStats, extra = ''): void {
  console.log(`${name}: ${stats.requests} requests in ${stats.seconds.toFixed(1)} s, ${stats.errors} errors, p50 ${stats.p50} ms, p99 ${stats.p99} ms${extra}`);
}

describe('zero failed requests under 100 keep-alive clients on the deployed stacks', () => {
  let ports: number[];
  before(async () => {
    const both = await eventually(async () => {
      const found = await gateways();
      return found.length === 2 && found;
    }, 'two healthy gateway replicas with a host port each', 60_000);
    ports = both.map((g) => g.port);
  });

  it('routes a new domain (a second service with its deploy labels) while golf.tistory.kr is under load', async () => {
    let routableAfter = 0;
    const poller = new Client(`http://127.0.0.1:${ports[0]}`);
    const { stats } = await underLoad(ports, async () => {
      const created = Date.now();
      await docker('service', 'create', '--detach', '--no-resolve-image', '--name', 'golf_new', '--network', 'golf',
        '--label', 'traefik.enable=true', '--label', 'traefik.docker.network=golf',
        '--label', 'traefik.http.routers.golf-new.rule=Host(`new.golf.test`)', '--label', 'traefik.http.routers.golf-new.entrypoints=web',
        '--label', 'traefik.http.services.golf-new.loadbalancer.server.port=8083', 'golf/bank:latest');
      await eventually(async () => {
        const res = await poller.request({ path: '/', method: 'GET', headers: { host: 'new.golf.test' } });
        const body = await res.body.text();
        return res.statusCode === 200 && body.includes('"task"');
      }, 'new.golf.test routable');
      routableAfter = Date.now() - created;
    });
    await poller.close();
    report('new domain', stats, `; new.golf.test answered ${routableAfter} ms after docker service create`);
    assert.equal(stats.errors, 0, JSON.stringify(stats.failures));
    await docker('service', 'rm', 'golf_new');
  });

  it('rolls bank to a new image start-first (docker service update --image) with zero failed requests', async () => {
    await docker('tag', 'golf/bank:latest', 'golf/bank:v2');
    const before = new Set(tasks);
    const { stats, delays } = await underLoad(ports, async () => {
      await docker('service', 'update', '--detach', '--no-resolve-image', '--image', 'golf/bank:v2', '--update-order', 'start-first', 'golf_bank');
      await eventually(async () => (await docker('service', 'inspect', '-f', '{{.UpdateStatus.State}}', 'golf_bank')) === 'completed', 'the update completed', 120_000);
    });
    report('rolling update', stats, `; new tasks first served ${delays.joined.join('/')} ms after their start event, old ones last served ${delays.left.join('/')} ms after their SIGTERM`);
    assert.equal(stats.errors, 0, JSON.stringify(stats.failures));
    const served = Object.keys(stats.tasks);
    assert.ok(served.filter((t) => !before.has(t)).length >= 3, `the three new tasks served: ${served.join(', ')}`);
  });

  it('scales bank to 1 then back to 3 with zero failed requests', async () => {
    const { stats, delays } = await underLoad(ports, async () => {
      await docker('service', 'scale', '--detach', 'golf_bank=1');
      await eventually(() => bankConverged(1), 'bank at 1 task', 60_000);
      await docker('service', 'scale', '--detach', 'golf_bank=3');
      await eventually(() => bankConverged(3), 'bank at 3 tasks', 60_000);
    });
    report('scale 3 → 1 → 3', stats, `; leaving tasks last served ${delays.left.join('/')} ms after their SIGTERM, new ones first served ${delays.joined.join('/')} ms after their start`);
    assert.equal(stats.errors, 0, JSON.stringify(stats.failures));
  });

  it('keeps serving on the other gateway replica when one is killed; swarm restarts it and it reports healthy again', async () => {
    const [killed, survivor] = await gateways();
    const { stats } = await underLoad([survivor!.port], async () => {
      await docker('kill', killed!.id);
    });
    report('gateway replica killed', stats);
    assert.equal(stats.errors, 0, JSON.stringify(stats.failures));
    // restart_policy on-failure (5 s delay), then the image's HEALTHCHECK (wharf healthcheck every 10 s).
    const back = await eventually(async () => {
      const now = await gateways();
      return now.length === 2 && !now.some((g) => g.id === killed!.id) && now;
    }, 'a new gateway replica healthy', 90_000);
    const restarted = back.find((g) => g.id !== survivor!.id)!;
    const client = new Client(`http://127.0.0.1:${restarted.port}`);
    const res = await client.request({ path: '/', method: 'GET', headers: { host: 'golf.tistory.kr' } });
    assert.equal(res.statusCode, 200);
    await res.body.text();
    await client.close();
  });
});
