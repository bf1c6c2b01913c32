// End-to-end graceful shutdown of the wharf process: in-flight requests finish, new connections are refused, grace limits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { canConnect, eventually, request, spawnWharf, startBackend, tempDir, type Backend, type Exit, type Reply, type TempDir, type WharfProcess } from '@wharf/test-helpers';

/** Backend: /slow/<ms> answers after that many milliseconds, anything else at once. */
function delayed(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  const ms = Number(/^\/slow\/(\d+)/.exec(req.url ?? '')?.[1] ?? 0);
  const timer = setTimeout(() => res.end(`done after ${ms}`), ms);
  res.on('close', () => clearTimeout(timer));
}

interface Started {
  wharf: WharfProcess;
  port: number;
}

/** Waits for the process to exit on its own; kills it past `boundMs`, which the exit code then shows. */
async function exitWithin(wharf: WharfProcess, boundMs: number): Promise<Exit> {
  const kill = setTimeout(() => wharf.child.kill('SIGKILL'), boundMs);
  const exit = await wharf.exited;
  clearTimeout(kill);
  return exit;
}

describe('graceful shutdown', () => {
  let backend: Backend;
  let dir: TempDir;
  let dynamicFile: string;
  const running: WharfProcess[] = [];
  // Started together in before() so their start-ups overlap; each test drives one of them.
  let graceful: Promise<Started>;
  let bounded: Promise<Started>;
  let pinged: Promise<Started>;

  before(async () => {
    backend = await startBackend('slow', delayed);
    dir = tempDir();
    dynamicFile = dir.write(
      'dynamic.yml',
      `http:\n  routers:\n    all:\n      rule: PathPrefix(\`/\`)\n      service: s\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: ${backend.url}\n`,
    );
    // A grace far beyond the exit bound of its test: exiting on its own proves the drain ended when the requests did.
    graceful = start(['--entrypoints.web.transport.lifeCycle.graceTimeOut=30s']);
    bounded = start(['--entrypoints.web.transport.lifeCycle.graceTimeOut=500ms']);
    pinged = start([
      '--ping.entryPoint=web',
      '--ping.terminatingStatusCode=418',
      '--entrypoints.web.transport.lifeCycle.requestAcceptGraceTimeout=3s',
      '--entrypoints.web.transport.lifeCycle.graceTimeOut=1s',
    ]);
    // Settled here so a start-up failure is reported by the test that needs the process, not as unhandled.
    for (const p of [graceful, bounded, pinged]) p.catch(() => undefined);
  });

  after(async () => {
    await Promise.all(running.map((w) => w.stop('SIGKILL')));
    await backend.close();
    dir.remove();
  });

  /** Starts wharf on the dynamic file with extra flags; resolves once it routes. */
  async function start(flags: string[]): Promise<Started> {
    const wharf = spawnWharf(['--entrypoints.web.address=127.0.0.1:0', `--providers.file.filename=${dynamicFile}`, '--providers.providersThrottleDuration=50ms', ...flags]);
    running.push(wharf);
    const port = await wharf.port();
    await wharf.waitFor(/applied: 1 routers/);
    return { wharf, port };
  }

  test('SIGTERM: in-flight requests complete, new connections are refused, exit 0 without waiting for the grace', async () => {
    const { wharf, port } = await graceful;
    // An idle keep-alive connection must not hold the shutdown up.
    const keepAlive = new http.Agent({ keepAlive: true });
    assert.equal((await request(port, { path: '/fast', agent: keepAlive })).status, 200);

    const seen = backend.requests.length;
    const inFlight: Promise<Reply>[] = [1, 2, 3].map(() => request(port, { path: '/slow/2000' }));
    await eventually(() => backend.requests.length >= seen + 3, 'the three requests to reach the backend');
    const mark = wharf.mark();
    wharf.child.kill('SIGTERM');
    await wharf.waitFor(/SIGTERM received/, mark);
    await eventually(async () => !(await canConnect(port)), 'the listener to refuse new connections');

    for (const reply of await Promise.all(inFlight)) {
      assert.equal(reply.status, 200);
      assert.equal(reply.body, 'done after 2000');
    }
    const exit = await exitWithin(wharf, 10_000);
    keepAlive.destroy();
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  test('graceTimeOut bounds the drain: a request slower than the grace is cut and the process exits 0', async () => {
    const { wharf, port } = await bounded;
    const arrival = backend.nextRequest();
    const slow = request(port, { path: '/slow/10000' }).then(
      (reply) => `answered ${reply.status}`,
      (err: Error) => `cut: ${err.message}`,
    );
    await arrival;
    wharf.child.kill('SIGTERM');
    // Well before the backend's 10 s answer.
    const exit = await exitWithin(wharf, 8000);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(await slow, /^cut: /);
  });

  test('SIGTERM as soon as an entrypoint reports listening drains and exits 0 instead of dying by the signal', async () => {
    const runs = [1, 2].map(async (run) => {
      const wharf = spawnWharf(['--entrypoints.web.address=127.0.0.1:0', `--providers.file.filename=${dynamicFile}`]);
      running.push(wharf);
      await wharf.port();
      wharf.child.kill('SIGTERM');
      assert.deepEqual(await exitWithin(wharf, 10_000), { code: 0, signal: null }, `run ${run}`);
    });
    await Promise.all(runs);
  });

  test('during requestAcceptGraceTimeout ping answers terminatingStatusCode while routes still serve', async () => {
    const { wharf, port } = await pinged;
    assert.equal((await request(port, { path: '/ping' })).status, 200);
    const mark = wharf.mark();
    wharf.child.kill('SIGTERM');
    await wharf.waitFor(/SIGTERM received/, mark);
    const ping = await request(port, { path: '/ping' });
    assert.equal(ping.status, 418);
    assert.equal(ping.body, 'Terminating');
    assert.equal((await request(port, { path: '/fast' })).status, 200);
    const exit = await exitWithin(wharf, 10_000);
    assert.deepEqual(exit, { code: 0, signal: null });
  });
});
