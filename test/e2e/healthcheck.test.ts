// `wharf healthcheck` against real gateways (the `wharf` command in child processes): healthy over HTTP and TLS,
// with the configuration from flags, a file or WHARF_* variables; unhealthy without ping, on the wrong port, with
// the gateway gone or draining; bad flags reported as the gateway command reports them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closedPort, runWharf, spawnWharf, tempDir, type TempDir, type WharfProcess } from '@wharf/test-helpers';

const started: WharfProcess[] = [];

async function gateway(args: string[], env: Record<string, string> = {}, entrypoint = 'web'): Promise<WharfProcess> {
  const p = spawnWharf(args, { env });
  started.push(p);
  await p.port(entrypoint);
  return p;
}

describe('wharf healthcheck', () => {
  let dir: TempDir;

  before(() => {
    dir = tempDir('wharf-healthcheck-');
  });

  after(async () => {
    await Promise.all(started.map((p) => p.stop('SIGKILL')));
    dir.remove();
  });

  test('wharf --help lists the command and wharf healthcheck --help explains it', async () => {
    const [help, own] = await Promise.all([runWharf(['--help']), runWharf(['healthcheck', '--help'])]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^ {2}healthcheck +Calls \/ping on the ping entrypoint/m);
    assert.equal(own.code, 0);
    assert.match(own.stdout, /^Usage: wharf healthcheck/);
  });

  test('healthy: exits 0 when /ping on the ping entrypoint answers 200, from the same flags', async () => {
    const port = await closedPort();
    const flags = [`--entrypoints.web.address=127.0.0.1:${port}`, '--ping.entryPoint=web'];
    await gateway(flags);
    const run = await runWharf(['healthcheck', ...flags]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `OK: http://127.0.0.1:${port}/ping\n`);
    assert.equal(run.stderr, '');
  });

  test('healthy: the default traefik entrypoint, a wildcard address asked on loopback, config from a file and WHARF_*', async () => {
    const port = await closedPort();
    const file = dir.write('wharf.yml', `entryPoints:\n  traefik:\n    address: ":${port}"\n`);
    const env = { WHARF_PING: 'true' };
    await gateway([`--configFile=${file}`], env, 'traefik');
    const run = await runWharf(['healthcheck', `--configFile=${file}`], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `OK: http://127.0.0.1:${port}/ping\n`);
  });

  test('healthy: over TLS when the ping entrypoint has http.tls', async () => {
    const port = await closedPort();
    const flags = [`--entrypoints.websecure.address=127.0.0.1:${port}`, '--entrypoints.websecure.http.tls', '--ping.entryPoint=websecure'];
    await gateway(flags, {}, 'websecure');
    const run = await runWharf(['healthcheck', ...flags]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `OK: https://127.0.0.1:${port}/ping\n`);
  });

  test('unhealthy: ping not enabled, or /ping not served on the entrypoint asked', async () => {
    const [web, admin] = [await closedPort(), await closedPort()];
    const flags = [`--entrypoints.web.address=127.0.0.1:${web}`, `--entrypoints.traefik.address=127.0.0.1:${admin}`, '--ping'];
    await gateway(flags);
    const [disabled, elsewhere, missing] = await Promise.all([
      runWharf(['healthcheck', `--entrypoints.web.address=127.0.0.1:${web}`]),
      // The gateway answers /ping on traefik only: web routes it like any other path (no router: 404).
      runWharf(['healthcheck', ...flags, '--ping.entryPoint=web']),
      runWharf(['healthcheck', ...flags, '--ping.entryPoint=metrics']),
    ]);
    assert.equal(disabled.code, 1);
    assert.equal(disabled.stderr, 'wharf healthcheck: ping is not enabled: start the gateway with --ping (or --ping.entryPoint=<name>) and give healthcheck the same flags\n');
    assert.equal(elsewhere.code, 1);
    assert.equal(elsewhere.stderr, `wharf healthcheck: http://127.0.0.1:${web}/ping answered 404 Not Found\n`);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^wharf healthcheck: ping\.entryPoint: entrypoint 'metrics' does not exist; define it with --entrypoints\.metrics\.address=:8080\n$/);
    assert.equal(disabled.stdout + elsewhere.stdout + missing.stdout, '');
  });

  test('unhealthy: nothing listens on the configured port (wrong port)', async () => {
    const [port, wrong] = [await closedPort(), await closedPort()];
    await gateway([`--entrypoints.web.address=127.0.0.1:${port}`, '--ping.entryPoint=web']);
    const run = await runWharf(['healthcheck', `--entrypoints.web.address=127.0.0.1:${wrong}`, '--ping.entryPoint=web']);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, `wharf healthcheck: http://127.0.0.1:${wrong}/ping: connect ECONNREFUSED 127.0.0.1:${wrong}\n`);
  });

  test('unhealthy: the gateway has stopped, or is draining after SIGTERM (ping answers 503)', async () => {
    const [gone, draining] = [await closedPort(), await closedPort()];
    const goneFlags = [`--entrypoints.web.address=127.0.0.1:${gone}`, '--ping.entryPoint=web'];
    const drainingFlags = [`--entrypoints.web.address=127.0.0.1:${draining}`, '--ping.entryPoint=web', '--entrypoints.web.transport.lifeCycle.requestAcceptGraceTimeout=60s'];
    const [stopped, drainer] = await Promise.all([gateway(goneFlags), gateway(drainingFlags)]);
    assert.equal((await runWharf(['healthcheck', ...drainingFlags])).code, 0);
    const mark = drainer.mark();
    drainer.child.kill('SIGTERM');
    await drainer.waitFor(/shut|drain|SIGTERM/i, mark);
    await stopped.stop();
    const [afterStop, whileDraining] = await Promise.all([runWharf(['healthcheck', ...goneFlags]), runWharf(['healthcheck', ...drainingFlags])]);
    assert.equal(afterStop.code, 1);
    assert.equal(afterStop.stderr, `wharf healthcheck: http://127.0.0.1:${gone}/ping: connect ECONNREFUSED 127.0.0.1:${gone}\n`);
    assert.equal(whileDraining.code, 1);
    assert.equal(whileDraining.stderr, `wharf healthcheck: http://127.0.0.1:${draining}/ping answered 503 Service Unavailable\n`);
  });

  test('bad flags: the exit code and message of the gateway command', async () => {
    const bad = ['--ping', '--entrypoints.web.adress=:80', '--entrypoints.web.transport.keepAliveMaxRequests=many'];
    const [check, command] = await Promise.all([runWharf(['healthcheck', ...bad]), runWharf(bad)]);
    assert.equal(command.code, 2);
    assert.equal(check.code, command.code);
    assert.equal(check.stderr, command.stderr);
    assert.match(check.stderr, /^wharf: invalid static configuration:\n.*--entrypoints\.web\.adress/s);
    assert.equal(check.stdout, '');
  });
});
