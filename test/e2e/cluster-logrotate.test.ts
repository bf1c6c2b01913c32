// logrotate with --workers=2: the file is renamed and SIGUSR1 sent to the primary, which has every worker reopen it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, readlinkSync, renameSync } from 'node:fs';
import { childPids, eventually, get, isAlive, spawnWharf, startBackend, tempDir, type Backend, type TempDir, type WharfProcess } from '@wharf/test-helpers';

const WORKERS = 2;
// Each on a new connection, so the primary hands them to the workers in turn.
const REQUESTS = 40;

/** Paths of the files a process has open, from /proc/<pid>/fd (a renamed file shows its new name). */
function openFiles(pid: number): string[] {
  const paths: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      paths.push(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed while we listed them
    }
  }
  return paths;
}

/** RequestPath of every JSON access-log line in `file`. */
function loggedPaths(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { RequestPath: string }).RequestPath);
}

/** GETs `/<prefix>-<i>` for i < n, each on a new connection; all must succeed. */
async function traffic(port: number, prefix: string, n: number): Promise<string[]> {
  const paths = Array.from({ length: n }, (_, i) => `/${prefix}-${i}`);
  for (const path of paths) assert.equal((await get(port, path)).status, 200, path);
  return paths;
}

let backend: Backend;
let dir: TempDir;
let wharf: WharfProcess;
let port: number;

before(async () => {
  backend = await startBackend('logrotate');
  dir = tempDir();
  const dynamic = dir.write('dynamic.yml', `http:\n  routers:\n    r:\n      rule: PathPrefix(\`/\`)\n      service: s\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: ${backend.url}\n`);
  wharf = spawnWharf([`--workers=${WORKERS}`, '--entrypoints.web.address=127.0.0.1:0', `--providers.file.filename=${dynamic}`, '--accessLog.format=json', `--accessLog.filePath=${dir.file('access.log')}`]);
  port = await wharf.port();
  await wharf.waitFor(new RegExp(`running ${WORKERS} workers`));
  await eventually(() => (wharf.stdout().match(/applied: 1 routers/g) ?? []).length >= WORKERS, 'every worker to apply the configuration');
  await eventually(() => (wharf.stdout().match(/entrypoint web listening on/g) ?? []).length >= WORKERS, 'every worker to listen');
});

after(async () => {
  await wharf.stop();
  await backend.close();
  dir.remove();
});

test('SIGUSR1 to the primary: every worker reopens the file, each request logged exactly once, new lines in the new file', async () => {
  const file = dir.file('access.log');
  const rotated = dir.file('access.log.1');
  const workers = childPids(wharf.pid);
  assert.equal(workers.length, WORKERS);

  const earlier = await traffic(port, 'before', REQUESTS);
  await eventually(() => loggedPaths(file).length === REQUESTS, `${REQUESTS} lines in ${file}`);
  // logrotate's move-then-signal, to the pid it knows: the primary's.
  renameSync(file, rotated);
  const mark = wharf.mark();
  wharf.child.kill('SIGUSR1');
  await wharf.waitFor(new RegExp(`SIGUSR1 received: asking ${WORKERS} workers to reopen`), mark);
  await eventually(
    () => workers.every((pid) => openFiles(pid).includes(file) && !openFiles(pid).includes(rotated)),
    'every worker to hold the new file open and to have closed the renamed one',
  );
  const later = await traffic(port, 'after', REQUESTS);

  // Neither the primary nor a worker died or opened the inspector (Node's default action for SIGUSR1).
  assert.ok(isAlive(wharf.pid));
  assert.deepEqual(childPids(wharf.pid), workers);
  assert.doesNotMatch(wharf.stderr(), /Debugger listening/);

  assert.deepEqual(await wharf.stop(), { code: 0, signal: null });
  assert.deepEqual(loggedPaths(rotated).sort(), [...earlier].sort(), 'the renamed file: exactly the requests before the rotation');
  assert.deepEqual(loggedPaths(file).sort(), [...later].sort(), 'the new file: exactly the requests after it');
});
