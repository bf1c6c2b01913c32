// The file provider watches its configuration, not the folder's other files: an access log written next to the
// configuration file must not be watched (chokidar re-read and stat()ed the folder on every line it wrote).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { startBackend, type Backend, spawnWharf, type WharfProcess, tempDir, type TempDir, get, eventually } from '@wharf/test-helpers';

function routerYaml(name: string, url: string): string {
  return `http:\n  routers:\n    ${name}:\n      rule: PathPrefix(\`/${name}\`)\n      service: svc\n  services:\n    svc:\n      loadBalancer:\n        servers:\n          - url: ${url}\n`;
}

/** Inode numbers a process watches through inotify (Linux: /proc/<pid>/fdinfo of its inotify descriptors). */
function inotifyInodes(pid: number): Set<number> {
  const inodes = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (link !== 'anon_inode:inotify') continue;
    for (const match of readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').matchAll(/^inotify wd:\S+ ino:([0-9a-f]+)/gm)) {
      inodes.add(parseInt(match[1]!, 16));
    }
  }
  return inodes;
}

const linux = existsSync('/proc/self/fdinfo');

function answers(port: number, path: string, status: number): Promise<boolean> {
  return eventually(async () => (await get(port, path)).status === status, `${path} to answer ${status}`);
}

describe('file provider watch', () => {
  let backend: Backend;
  let dir: TempDir;
  let wharf: WharfProcess;
  let port: number;

  before(async () => {
    backend = await startBackend('watch');
    dir = tempDir();
    const config = dir.write('dynamic.yml', routerYaml('first', backend.url));
    wharf = spawnWharf([
      '--entrypoints.web.address=127.0.0.1:0',
      `--providers.file.filename=${config}`,
      '--providers.providersThrottleDuration=50ms',
      `--accesslog.filepath=${dir.file('access.log')}`,
      '--accesslog.format=json',
    ]);
    port = await wharf.port();
    await answers(port, '/first', 200);
  });

  after(async () => {
    await wharf.stop();
    await backend.close();
    dir.remove();
  });

  test('the access log written beside the configuration file is not watched; the folder is', { skip: !linux && 'needs /proc' }, async () => {
    for (let i = 0; i < 20; i++) assert.equal((await get(port, '/first')).status, 200);
    const log = dir.file('access.log');
    await eventually(() => existsSync(log) && statSync(log).size > 0, 'access log lines');
    const watched = inotifyInodes(wharf.pid);
    assert.ok(watched.has(statSync(dir.path).ino), 'the configuration folder is watched');
    assert.ok(!watched.has(statSync(log).ino), 'the access log is not watched');
  });

  test('while the log is written, a rename-replace save and an in-place write are both applied', async () => {
    const load = setInterval(() => void get(port, '/first').catch(() => undefined), 5);
    try {
      dir.write('dynamic.yml', routerYaml('second', backend.url));
      await answers(port, '/second', 200);
      writeFileSync(dir.file('dynamic.yml'), routerYaml('third', backend.url));
      await answers(port, '/third', 200);
    } finally {
      clearInterval(load);
    }
    assert.equal((await get(port, '/second')).status, 404);
  });
});

describe('directory provider watch', () => {
  let backend: Backend;
  let dir: TempDir;
  let wharf: WharfProcess;
  let port: number;

  before(async () => {
    backend = await startBackend('watch-dir');
    dir = tempDir();
    dir.write('10-first.yml', routerYaml('first', backend.url));
    writeFileSync(dir.file('notes.log'), 'not configuration\n');
    wharf = spawnWharf(['--entrypoints.web.address=127.0.0.1:0', `--providers.file.directory=${dir.path}`, '--providers.providersThrottleDuration=50ms']);
    port = await wharf.port();
    await answers(port, '/first', 200);
  });

  after(async () => {
    await wharf.stop();
    await backend.close();
    dir.remove();
  });

  test('a new configuration file is picked up; other files in the folder are not watched', async () => {
    dir.write('20-second.yaml', routerYaml('second', backend.url).replace('svc', 'svc2').replace('svc:', 'svc2:'));
    await answers(port, '/second', 200);
    assert.equal((await get(port, '/first')).status, 200);
    if (linux) {
      const watched = inotifyInodes(wharf.pid);
      assert.ok(watched.has(statSync(dir.path).ino), 'the folder is watched');
      assert.ok(!watched.has(statSync(dir.file('notes.log')).ino), 'a non-configuration file is not watched');
    }
  });
});
