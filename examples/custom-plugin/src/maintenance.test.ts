// The README's process-level example works as documented, and the README shows exactly this file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import maintenance from './maintenance.js';

async function poll(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('maintenance example plugin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-maintenance-'));
  const flag = join(dir, 'flag');
  let backend: http.Server;
  let gateway: EmbeddedGateway;
  let base: string;

  before(async () => {
    backend = http.createServer((_req, res) => res.end('service'));
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
    gateway = await startGateway({
      plugins: [maintenance],
      args: ['--entrypoints.web.address=127.0.0.1:0', '--maintenance.entryPoint=web', `--maintenance.flagFile=${flag}`],
      dynamic: {
        http: {
          routers: { app: { rule: 'PathPrefix(`/`)', service: 'app' }, page: { rule: 'Path(`/status`)', priority: 100, service: 'maintenance@internal' } },
          services: { app: { loadBalancer: { servers: [{ url }] } } },
        },
      },
    });
    base = `http://127.0.0.1:${gateway.address('web').port}`;
  });

  after(async () => {
    await gateway.stop();
    backend.closeAllConnections();
    backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const status = async (path: string) => {
    const res = await fetch(base + path);
    await res.arrayBuffer();
    return res.status;
  };

  test('closes the entrypoint while the flag file exists', async () => {
    assert.equal(await status('/'), 200);
    writeFileSync(flag, '');
    await poll(async () => (await status('/')) === 503, 'maintenance to start');
    rmSync(flag);
    await poll(async () => (await status('/')) === 200, 'maintenance to end');
  });

  test('serves maintenance@internal to routers that name it', async () => {
    assert.equal(await status('/status'), 503);
  });

  test('names a missing entrypoint at start-up', async () => {
    await assert.rejects(
      startGateway({ plugins: [maintenance], args: ['--entrypoints.web.address=127.0.0.1:0', '--maintenance.entryPoint=nope'] }),
      /maintenance\.entryPoint: no entrypoint 'nope'/,
    );
  });

  test('the root README shows this plugin as it is', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const source = readFileSync(new URL('../src/maintenance.ts', import.meta.url), 'utf8').replace(/^\/\/.*\n/, '');
    assert.ok(readme.includes('```ts\n' + source + '```'), 'README block differs from examples/custom-plugin/src/maintenance.ts');
  });
});
