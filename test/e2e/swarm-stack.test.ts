// The examples/swarm stacks deployed with `docker stack deploy` on a real swarm engine with overlay networking
// (test/docker/stack.sh): the gateway service runs Wharf's image, built from this working tree, as 2 replicas with
// the Docker socket mounted; bank runs 3 replicas on the overlay golf. Docker's HEALTHCHECK reports both gateway
// replicas healthy, and each, reached at its golf address from a client container, routes golf.tistory.kr to the
// three bank tasks by their Traefik deploy labels. An engine that cannot be started fails the suite, never skips it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ENGINE_SCRIPT } from '@wharf/test/docker/engine.js';

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
    const { stdout } = await run('bash', [STACK_SCRIPT, command], { timeout: 100_000, maxBuffer: 16 << 20 });
    return stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${STACK_SCRIPT} ${command} failed: ${(e.stderr || e.message).trim().split('\n').slice(-15).join('\n')}`, { cause: err });
  }
}

let deployed = false;
let checks: GatewayCheck[];
let tasks: string[];

before(async () => {
  // The base is made once per machine by test/prepare.sh (minutes, more than a test file may take).
  await run('bash', [BASE_SCRIPT, 'status']).catch((err: { stderr?: string; message: string }) => {
    throw new Error((err.stderr || err.message).trim(), { cause: err });
  });
  deployed = true; // from here on, `after` tears down whatever `up` got to
  await stack('up');
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
