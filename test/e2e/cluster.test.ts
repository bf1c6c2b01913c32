// End-to-end cluster mode (--workers=2): every worker gets each configuration, and a killed worker is replaced.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { childPids, eventually, get, isAlive, spawnWharf, startBackend, tempDir, type Backend, type Exit, type TempDir, type WharfProcess, routesYaml } from '@wharf/test-helpers';

const WORKERS = 2;

/** Sends `n` requests, each on a new connection so the primary spreads them over the workers; returns the statuses. */
async function statuses(port: number, path: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await get(port, path)).status);
  return out;
}

/** Concurrent GETs of `path`, each on a new connection, until stopped; failures are kept as `status body` or the error. */
function startLoad(port: number, path: string, concurrency: number): { count(): number; stop(): Promise<{ count: number; failures: string[] }> } {
  let running = true;
  let count = 0;
  const failures: string[] = [];
  async function loop(): Promise<void> {
    while (running) {
      try {
        const reply = await get(port, path);
        if (reply.status !== 200) failures.push(`${reply.status} ${reply.body.trim()}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
      count++;
    }
  }
  const loops = Array.from({ length: concurrency }, loop);
  return {
    count: () => count,
    async stop() {
      running = false;
      await Promise.all(loops);
      return { count, failures };
    },
  };
}

/** Sends `signal` (if given) and waits for the exit; kills the process past `boundMs`, which the exit then shows. */
async function exitWithin(wharf: WharfProcess, boundMs: number, signal?: NodeJS.Signals): Promise<Exit> {
  if (signal) wharf.child.kill(signal);
  const kill = setTimeout(() => wharf.child.kill('SIGKILL'), boundMs);
  const exit = await wharf.exited;
  clearTimeout(kill);
  return exit;
}

/** Starts a cluster and sends SIGTERM once its workers are forked, before they are ready; resolves with the exit. */
async function stopWhileStarting(file: string): Promise<{ exit: Exit; workers: number[] }> {
  const early = spawnWharf([`--workers=${WORKERS}`, '--entrypoints.web.address=127.0.0.1:0', `--providers.file.filename=${file}`]);
  try {
    await early.waitFor(new RegExp(`running ${WORKERS} workers`));
    const workers = await eventually(() => (childPids(early.pid).length === WORKERS ? childPids(early.pid) : undefined), 'the workers to be forked');
    return { exit: await exitWithin(early, 20_000, 'SIGTERM'), workers };
  } finally {
    early.child.kill('SIGKILL');
  }
}

/** Count of distinct workers (by the `worker` id in their log lines) that logged `what`. */
function workersThatLogged(wharf: WharfProcess, what: RegExp): Set<string> {
  const ids = new Set<string>();
  for (const line of wharf.stdout().split('\n')) {
    const worker = /"worker":(\d+)/.exec(line)?.[1];
    if (worker && what.test(line)) ids.add(worker);
  }
  return ids;
}

describe('cluster mode', () => {
  let backend: Backend;
  let dir: TempDir;
  let file: string;
  let wharf: WharfProcess;
  let port: number;
  /** A second cluster, sent SIGTERM as soon as its workers are forked (started with the first to overlap start-ups). */
  let earlyStop: Promise<{ exit: Exit; workers: number[] }>;

  before(async () => {
    backend = await startBackend('cluster');
    dir = tempDir();
    file = dir.write('dynamic.yml', routesYaml(backend.url, ['first']));
    earlyStop = stopWhileStarting(file);
    wharf = spawnWharf([`--workers=${WORKERS}`, '--entrypoints.web.address=127.0.0.1:0', `--providers.file.filename=${file}`, '--providers.providersThrottleDuration=50ms']);
    port = await wharf.port();
    await wharf.waitFor(new RegExp(`running ${WORKERS} workers`));
    await eventually(() => workersThatLogged(wharf, /applied: 1 routers/).size === WORKERS, 'every worker to apply the first configuration');
    await eventually(() => workersThatLogged(wharf, /entrypoint web listening on/).size === WORKERS, 'every worker to listen');
  });

  after(async () => {
    await earlyStop.catch(() => undefined);
    await wharf.stop();
    await backend.close();
    dir.remove();
  });

  test(`the primary runs ${WORKERS} workers, each with the configuration before it listens`, () => {
    assert.equal(childPids(wharf.pid).length, WORKERS);
    // Each worker's first configuration line comes before its listening line.
    for (const id of workersThatLogged(wharf, /listening/)) {
      const lines = wharf.stdout().split('\n').filter((l) => l.includes(`"worker":${id}`));
      const applied = lines.findIndex((l) => /applied: 1 routers/.test(l));
      const listening = lines.findIndex((l) => /listening on/.test(l));
      assert.ok(applied !== -1 && applied < listening, `worker ${id}: ${lines.join(' | ')}`);
    }
  });

  test('a configuration change reaches every worker: 40 requests all see the new route', async () => {
    dir.write('dynamic.yml', routesYaml(backend.url, ['first', 'second']));
    await eventually(() => workersThatLogged(wharf, /applied: 2 routers/).size === WORKERS, 'every worker to apply the new configuration');
    assert.deepEqual(await statuses(port, '/second', 40), Array(40).fill(200));
  });

  test('a killed worker is replaced, and requests keep succeeding, also while the replacement starts', async () => {
    const before = childPids(wharf.pid);
    const victim = before[0]!;
    const mark = wharf.mark();
    process.kill(victim, 'SIGKILL');
    await wharf.waitFor(new RegExp(`worker ${victim} exited`), mark);
    // From now on no request can be on the dead worker: every failure below is the gateway's.
    const load = startLoad(port, '/second', 8);
    const replacement = await eventually(() => {
      const now = childPids(wharf.pid);
      return now.length === WORKERS && !now.includes(victim) ? now.find((p) => !before.includes(p)) : undefined;
    }, 'a replacement worker');
    // The replacement is handed connections as soon as it listens: it must already have the routes then.
    await wharf.waitFor(/entrypoint web listening on[^\n]*/, mark);
    const listened = load.count();
    await eventually(() => load.count() >= listened + 200, '200 more requests after the replacement listened');
    const result = await load.stop();
    assert.equal(isAlive(victim), false);
    assert.ok(isAlive(replacement));
    assert.deepEqual(result.failures, [], `${result.failures.length} of ${result.count} requests failed`);
  });

  test('SIGTERM stops the primary and every worker, even while the workers are still starting', async () => {
    const { exit, workers } = await earlyStop;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(workers.length, WORKERS);
    for (const pid of workers) await eventually(() => !isAlive(pid), `worker ${pid} to exit`);
  });

  test('SIGTERM stops a running cluster: the primary exits 0 and so do the workers', async () => {
    const workers = childPids(wharf.pid);
    const exit = await exitWithin(wharf, 20_000, 'SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
    for (const pid of workers) await eventually(() => !isAlive(pid), `worker ${pid} to exit`);
  });
});
