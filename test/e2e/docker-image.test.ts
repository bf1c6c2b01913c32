// Wharf's image (examples/swarm/Dockerfile) built from this working tree on the real Docker Engine, with the
// classic builder on the local Node 20 base (test/docker/wharf-image.sh, base-image.sh): the stack's flags are the
// container's command, Docker's HEALTHCHECK runs `wharf healthcheck` and reports the container healthy, and the
// image holds only the production closure. An engine or image that cannot be made fails the suite, never skips it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ENGINE_SCRIPT, startEngine, type Engine } from '@wharf/test/docker/engine.js';
import { closedPort, eventually, get } from '@wharf/test-helpers';

const run = promisify(execFile);
const BUILD_SCRIPT = join(dirname(ENGINE_SCRIPT), 'wharf-image.sh');
const BASE_SCRIPT = join(dirname(ENGINE_SCRIPT), 'base-image.sh');
const TAG = 'wharf-test/wharf:e2e';
const BUILD_TIMEOUT_MS = 100_000;
const HEALTH_TIMEOUT_MS = 60_000;

// An engine of its own, outside swarm mode, so it runs beside docker-engine.test.ts's swarm engine; on overlay2,
// as vfs would copy the whole root for each of the build's steps (minutes instead of seconds).
process.env.WHARF_DOCKER_DIR = '/tmp/wharf-docker-image';
process.env.WHARF_DOCKER_SWARM = '0';
process.env.WHARF_DOCKER_STORAGE = 'overlay2';

let engine: Engine;
const containers = new Set<string>();

interface Health {
  Status: string;
  Log: { ExitCode: number; Output: string }[] | null;
}

/** The image's command with a fast health interval (the image's own is 10 s), on the host's network. */
async function runGateway(name: string, flags: string[], health: string[] = []): Promise<void> {
  containers.add(name);
  await engine.docker('run', '-d', '--name', name, '--network', 'host', '--health-interval=1s', ...health, TAG, ...flags);
}

async function health(name: string): Promise<Health> {
  return JSON.parse(await engine.docker('inspect', '-f', '{{json .State.Health}}', name)) as Health;
}

/** Runs the image to completion; resolves with its exit code and output instead of throwing on a non-zero exit. */
async function runOnce(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const out = await engine.docker('run', '--rm', '--network', 'none', ...args);
    return { code: 0, output: out };
  } catch (err) {
    const match = /^docker [^:]*: ([\s\S]*)$/.exec((err as Error).message);
    const cause = (err as Error).cause as { code?: number } | undefined;
    return { code: cause?.code ?? -1, output: match?.[1] ?? (err as Error).message };
  }
}

/** The base is made once per machine by test/prepare.sh (minutes, more than a test file may take): fail clearly without it. */
async function requireBase(): Promise<void> {
  try {
    await run('bash', [BASE_SCRIPT, 'status']);
  } catch (err) {
    throw new Error(((err as { stderr?: string }).stderr || (err as Error).message).trim(), { cause: err });
  }
}

before(async () => {
  await requireBase();
  engine = await startEngine(); // a failure here fails the suite with engine.sh's message: no silent skip
  try {
    await run('bash', [BUILD_SCRIPT, TAG], { env: { ...process.env, DOCKER_HOST: engine.host }, timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`the image could not be built by ${BUILD_SCRIPT}: ${(e.stderr || e.message).trim().split('\n').slice(-15).join('\n')}`, { cause: err });
  }
});

after(async () => {
  if (!engine) return;
  for (const c of containers) await engine.docker('rm', '-f', c).catch(() => undefined);
  await engine.stop();
});

describe('the Wharf image on a real Docker Engine', () => {
  it('runs the wharf command: the container command is its flags, --version answers, bad flags exit 2 with the gateway message', async (t) => {
    const [version, bad] = await Promise.all([runOnce([TAG, '--version']), runOnce([TAG, '--entrypoints.web.adress=:80'])]);
    assert.equal(version.code, 0, version.output);
    assert.match(version.output, /^wharf \d+\.\d+\.\d+/);
    assert.equal(bad.code, 2, bad.output);
    assert.match(bad.output, /wharf: invalid static configuration:\n\s+--entrypoints\.web\.adress: unknown field 'adress' \(did you mean 'address'\?\)/);
    const size = Number(await engine.docker('image', 'inspect', '-f', '{{.Size}}', TAG));
    t.diagnostic(`image ${TAG}: ${(size / 1e6).toFixed(0)} MB`);
  });

  it('declares the entrypoint, ports and HEALTHCHECK the stack relies on', async () => {
    const config = JSON.parse(await engine.docker('image', 'inspect', '-f', '{{json .Config}}', TAG)) as {
      Entrypoint: string[];
      ExposedPorts: Record<string, unknown>;
      Healthcheck: { Test: string[] };
    };
    assert.deepEqual(config.Entrypoint, ['wharf']);
    assert.deepEqual(Object.keys(config.ExposedPorts).sort(), ['80/tcp', '8080/tcp']);
    assert.deepEqual(config.Healthcheck.Test, ['CMD', 'wharf', 'healthcheck']);
  });

  it('holds the production closure only: no sources, tests, typings or devDependencies', async () => {
    const absent = ['/src', '/opt/wharf/test', '/opt/wharf/core/src', '/opt/wharf/node_modules/typescript', '/opt/wharf/node_modules/eslint', '/opt/wharf/node_modules/@wharf/test-helpers', '/opt/wharf/core/dist/index.d.ts'];
    const present = ['/opt/wharf/core/dist/index.js', '/opt/wharf/node_modules/koa', '/opt/wharf/node_modules/dockerode', '/opt/wharf/plugins/api/dashboard/index.html'];
    const script = [...absent.map((p) => `test ! -e ${p} || echo "present: ${p}"`), ...present.map((p) => `test -e ${p} || echo "missing: ${p}"`)].join('; ');
    const listing = await runOnce(['--entrypoint', 'sh', TAG, '-c', script]);
    assert.equal(listing.code, 0, listing.output);
    assert.equal(listing.output, '');
  });

  it('is reported healthy by Docker once /ping answers on the ping entrypoint of the container command', async () => {
    const port = await closedPort();
    await runGateway('wharf-healthy', [`--entrypoints.web.address=127.0.0.1:${port}`, '--ping.entryPoint=web', '--accessLog={}']);
    const healthy = await eventually(async () => ((await health('wharf-healthy')).Status === 'healthy' ? health('wharf-healthy') : false), 'Docker to report the container healthy', HEALTH_TIMEOUT_MS);
    assert.equal(healthy.Log!.at(-1)!.Output, `OK: http://127.0.0.1:${port}/ping\n`);
    assert.equal((await get(port, '/ping')).status, 200);
  });

  it('is reported unhealthy, with the reason, when the command enables no ping; docker stop drains and exits 0', async () => {
    const port = await closedPort();
    await runGateway('wharf-unhealthy', [`--entrypoints.web.address=127.0.0.1:${port}`], ['--health-retries=1']);
    const unhealthy = await eventually(async () => ((await health('wharf-unhealthy')).Status === 'unhealthy' ? health('wharf-unhealthy') : false), 'Docker to report the container unhealthy', HEALTH_TIMEOUT_MS);
    assert.equal(unhealthy.Log!.at(-1)!.ExitCode, 1);
    assert.match(unhealthy.Log!.at(-1)!.Output, /^wharf healthcheck: ping is not enabled/);
    assert.equal((await get(port, '/ping')).status, 404, 'the gateway itself serves; only ping is missing');
    await engine.docker('stop', 'wharf-unhealthy');
    assert.equal(await engine.docker('inspect', '-f', '{{.State.ExitCode}}', 'wharf-unhealthy'), '0');
  });
});
