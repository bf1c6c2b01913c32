// @wharf/core is a package of its own: packed and installed alone (no plugins, no providers besides its file
// provider, no dockerode), it starts a gateway from a watched file and proxies to a backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from '@wharf/test-helpers';

const run = promisify(execFile);
const coreDir = fileURLToPath(new URL('../../../core', import.meta.url));

// Runs inside the installed app: what a program embedding @wharf/core writes.
const APP = `
import http from 'node:http';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { startGateway } from '@wharf/core';

const backend = http.createServer((req, res) => res.end('backend saw ' + req.url)).listen(0, '127.0.0.1');
await once(backend, 'listening');
const port = backend.address().port;
writeFileSync('dynamic.yml', [
  'http:',
  '  routers: { r: { rule: "PathPrefix(\`/\`)", service: s } }',
  '  services: { s: { loadBalancer: { servers: [{ url: "http://127.0.0.1:' + port + '" }] } } }',
].join('\\n'));
const gateway = await startGateway({ args: ['--entrypoints.web.address=127.0.0.1:0', '--providers.file.filename=dynamic.yml'] });
const url = 'http://127.0.0.1:' + gateway.address('web').port + '/hello';
let answer;
for (let i = 0; i < 600 && answer?.status !== 200; i++) {
  const res = await fetch(url);
  answer = { status: res.status, body: await res.text() };
  if (answer.status !== 200) await new Promise((r) => setTimeout(r, 50));
}
let docker;
try {
  await startGateway({ args: ['--entrypoints.web.address=127.0.0.1:0', '--providers.docker'] });
} catch (err) {
  docker = err.message;
}
await gateway.stop();
backend.close();
console.log(JSON.stringify({ answer, docker }));
`;

test('@wharf/core installs alone and serves the file provider', { timeout: 180_000 }, async () => {
  const dir = tempDir('wharf-core-alone-');
  try {
    const packed = await run('npm', ['pack', '--silent', '--pack-destination', dir.path], { cwd: coreDir, timeout: 60_000 });
    const tarball = join(dir.path, packed.stdout.trim().split('\n').pop()!);
    const app = join(dir.path, 'app');
    await run('mkdir', [app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app, timeout: 120_000 });

    const installed = readdirSync(join(app, 'node_modules'));
    assert.ok(!installed.includes('dockerode'), 'dockerode belongs to @wharf/provider-docker, not core');
    assert.deepEqual(readdirSync(join(app, 'node_modules', '@wharf')), ['core'], 'core pulls in no plugin or provider package');
    assert.ok(!existsSync(join(app, 'node_modules', '@wharf', 'core', 'dist', 'index.test.js')), 'tests are not packed');

    writeFileSync(join(app, 'app.mjs'), APP);
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: app, timeout: 60_000 });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { answer: { status: number; body: string }; docker?: string };
    assert.deepEqual(result.answer, { status: 200, body: 'backend saw /hello' });
    assert.match(result.docker ?? '', /--providers\.docker: unknown field 'docker'/, 'core alone knows no docker provider, and says so');
  } finally {
    dir.remove();
  }
});
