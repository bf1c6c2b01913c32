// The gateway's own log through the wharf command: --log.format, --log.filePath and --log.level; a configuration
// error and a server going down are logged once each, requests never.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { closedPort, eventually, get, sleep, spawnWharf, startBackend, tempDir } from '@wharf/test-helpers';

/** The dynamic file: a working router with a health-checked server, and a router whose rule cannot parse. */
function dynamicYaml(server: string): string {
  return [
    'http:',
    '  routers:',
    '    good:',
    '      rule: PathPrefix(`/`)',
    '      service: app',
    '    broken:',
    '      rule: Path(`/x`) &&',
    '      service: app',
    '  services:',
    '    app:',
    '      loadBalancer:',
    '        servers:',
    `          - url: ${server}`,
    '        healthCheck:',
    '          path: /health',
    '          interval: 100ms',
    '          timeout: 2s',
    '',
  ].join('\n');
}

function readLog(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}

test('json to a file: one line for the broken router, one for the server going down, none per request', async () => {
  const config = tempDir();
  const logs = tempDir();
  const backend = await startBackend('app');
  const port = await closedPort();
  const logFile = logs.file('wharf.log');
  const wharf = spawnWharf([
    `--entrypoints.web.address=127.0.0.1:${port}`,
    `--providers.file.filename=${config.write('dynamic.yml', dynamicYaml(backend.url))}`,
    '--log.format=json',
    `--log.filePath=${logFile}`,
    '--log.level=INFO',
  ]);
  try {
    await eventually(() => readLog(logFile).some((l) => l.includes('applied')), 'the configuration applied');
    for (let i = 0; i < 20; i++) assert.equal((await get(port, '/a')).status, 200);
    await backend.close();
    await eventually(() => readLog(logFile).some((l) => l.includes('is down')), 'the server reported down');
    for (let i = 0; i < 10; i++) assert.equal((await get(port, '/a')).status, 503);
    // Several more failed probes (every 100 ms) than the one down line allowed below.
    await sleep(500);
    await wharf.stop();

    const lines = readLog(logFile).map((l) => JSON.parse(l) as { level: number; msg: string; router?: string; server?: string });
    const broken = lines.filter((l) => l.router === 'broken@file');
    assert.equal(broken.length, 1, `broken router logged once:\n${lines.map((l) => l.msg).join('\n')}`);
    assert.equal(broken[0]!.level, 50, 'as an error');
    assert.match(broken[0]!.msg, /broken@file/);
    const down = lines.filter((l) => l.msg.includes('is down'));
    assert.equal(down.length, 1, 'the health transition logged once, not per probe');
    assert.equal(down[0]!.server, backend.url);
    assert.ok(!lines.some((l) => l.msg.includes('/a')), 'no request reaches the gateway log');
    assert.ok(lines.length < 15, `${lines.length} lines for 30 requests and ~5 failed probes`);
    assert.equal(wharf.stdout().trim(), '', 'with --log.filePath nothing goes to stdout');
  } finally {
    await wharf.stop();
    await backend.close();
    config.remove();
    logs.remove();
  }
});

test('common format at ERROR level: readable lines, errors only', async () => {
  const config = tempDir();
  const logs = tempDir();
  const port = await closedPort();
  const logFile = logs.file('wharf.log');
  const wharf = spawnWharf([
    `--entrypoints.web.address=127.0.0.1:${port}`,
    `--providers.file.filename=${config.write('dynamic.yml', dynamicYaml(`http://127.0.0.1:${await closedPort()}`))}`,
    '--log.format=common',
    `--log.filePath=${logFile}`,
    '--log.level=ERROR',
  ]);
  try {
    await eventually(() => readLog(logFile).some((l) => l.includes('broken@file')), 'the broken router logged');
    assert.equal((await get(port, '/a')).status, 503);
    await wharf.stop();
    const lines = readLog(logFile);
    assert.ok(lines.length >= 1);
    for (const line of lines) {
      assert.match(line, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [^\]]+\] ERROR: /, line);
      assert.throws(() => JSON.parse(line));
    }
    assert.ok(!lines.some((l) => /listening|applied/.test(l)), 'INFO lines are below --log.level=ERROR');
  } finally {
    await wharf.stop();
    config.remove();
    logs.remove();
  }
});
