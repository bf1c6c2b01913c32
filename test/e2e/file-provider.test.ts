// End-to-end file provider through the CLI: YAML errors keep the last good config, JSON files, directories, duplicates.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, get, spawnWharf, startBackend, tempDir, type Backend, type TempDir, type WharfProcess } from '@wharf/test-helpers';

/** YAML for one router `name` on PathPrefix(`/name`) to service `svc`, plus the service when `url` is given. */
function routerYaml(name: string, svc: string, url?: string): string {
  const service = url ? `  services:\n    ${svc}:\n      loadBalancer:\n        servers:\n          - url: ${url}\n` : '';
  return `http:\n  routers:\n    ${name}:\n      rule: PathPrefix(\`/${name}\`)\n      service: ${svc}\n${service}`;
}

/** Polls until a path answers `status` (a reload is asynchronous). */
function answers(port: number, path: string, status: number): Promise<boolean> {
  return eventually(async () => (await get(port, path)).status === status, `${path} to answer ${status}`);
}

interface Started {
  wharf: WharfProcess;
  port: number;
}

/** Starts wharf on a file provider option and waits for its first configuration. */
async function startOn(option: string): Promise<Started> {
  const wharf = spawnWharf(['--entrypoints.web.address=127.0.0.1:0', option, '--providers.providersThrottleDuration=50ms']);
  const port = await wharf.port();
  await wharf.waitFor(/configuration \d+ applied: [1-9]/);
  return { wharf, port };
}

describe('file provider', () => {
  let backend: Backend;
  let dir: TempDir;
  let confd: TempDir;
  let dupd: TempDir;
  let dupFiles: string[];
  let syntaxFile: string;
  // One gateway per case, started together in before() so their start-ups overlap.
  let syntax: Promise<Started>;
  let fromJson: Promise<Started>;
  let directory: Promise<Started>;
  let duplicates: Promise<Started>;

  before(async () => {
    backend = await startBackend('file');
    dir = tempDir();
    syntaxFile = dir.write('syntax.yml', routerYaml('good', 'svc', backend.url));
    syntax = startOn(`--providers.file.filename=${syntaxFile}`);

    const config = {
      http: {
        routers: { fromjson: { rule: 'PathPrefix(`/fromjson`)', service: 'svc' } },
        services: { svc: { loadBalancer: { servers: [{ url: backend.url }] } } },
      },
    };
    fromJson = startOn(`--providers.file.filename=${dir.write('dynamic.json', JSON.stringify(config, null, 2))}`);

    confd = tempDir();
    confd.write('10-service.yml', `http:\n  services:\n    shared:\n      loadBalancer:\n        servers:\n          - url: ${backend.url}\n`);
    confd.write('20-router.yaml', routerYaml('one', 'shared'));
    confd.write('ignored.txt', routerYaml('txt', 'shared'));
    directory = startOn(`--providers.file.directory=${confd.path}`);

    dupd = tempDir();
    dupFiles = [
      dupd.write('a.yml', routerYaml('dup', 'svc', backend.url)),
      dupd.write('b.yml', routerYaml('dup', 'svc2').replace('/dup', '/dup-b')),
      dupd.write('c.yml', routerYaml('dup', 'svc2').replace('/dup', '/dup-c')),
    ];
    dupd.write('d.yml', routerYaml('other', 'svc'));
    duplicates = startOn(`--providers.file.directory=${dupd.path}`);
    // Settled here so a start-up failure is reported by the test that needs the process, not as unhandled.
    for (const p of [syntax, fromJson, directory, duplicates]) p.catch(() => undefined);
  });

  after(async () => {
    const started = await Promise.allSettled([syntax, fromJson, directory, duplicates]);
    await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.wharf.stop() : undefined)));
    await backend.close();
    for (const d of [dir, confd, dupd]) d.remove();
  });

  test('a YAML syntax error is logged with line:column and the last good configuration keeps serving', async () => {
    const { wharf, port } = await syntax;
    assert.equal((await get(port, '/good')).status, 200);

    const mark = wharf.mark();
    dir.write('syntax.yml', `${routerYaml('good', 'svc', backend.url)}  oops\n`);
    const logged = await wharf.waitFor(/file provider: YAML syntax error at (\S+):(\d+):(\d+): ([^\n]*)keeping the last good configuration/, mark);
    assert.equal(logged[1], syntaxFile);
    assert.deepEqual([logged[2], logged[3]], ['11', '3'], 'line 11, column 3: the stray `oops`');
    assert.equal((await get(port, '/good')).status, 200);

    // Fixing the file applies the new content.
    dir.write('syntax.yml', routerYaml('fixed', 'svc', backend.url));
    await answers(port, '/fixed', 200);
    assert.equal((await get(port, '/good')).status, 404);
  });

  test('a JSON file is read like YAML', async () => {
    const { port } = await fromJson;
    assert.equal((await get(port, '/fromjson')).status, 200);
  });

  test('a directory of files is merged; a file added later is picked up', async () => {
    const { port } = await directory;
    assert.equal((await get(port, '/one')).status, 200);
    assert.equal((await get(port, '/txt')).status, 404);

    confd.write('30-router.json', JSON.stringify({ http: { routers: { two: { rule: 'PathPrefix(`/two`)', service: 'shared' } } } }));
    await answers(port, '/two', 200);
    assert.equal((await get(port, '/one')).status, 200);
  });

  test('the same router in several files is disabled and the error names every file', async () => {
    const { wharf, port } = await duplicates;
    const line = await wharf.waitFor(/router dup@file: ([^\n]*)/);
    for (const file of dupFiles) assert.ok(line[1]!.includes(file), `${file} named in: ${line[1]}`);
    // None of the three definitions is used, whichever file comes last.
    for (const path of ['/dup', '/dup-b', '/dup-c']) assert.equal((await get(port, path)).status, 404, path);
    assert.equal((await get(port, '/other')).status, 200);
  });
});
