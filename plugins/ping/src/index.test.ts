import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '@wharf/core';
import ping from './index.js';

test('ping answers GET and HEAD /ping on its entrypoint before any router, and only there', async () => {
  const gateway = await startGateway({
    builtins: false,
    plugins: [ping],
    args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.admin.address=127.0.0.1:0', '--ping.entryPoint=admin'],
  });
  try {
    const admin = `http://127.0.0.1:${gateway.address('admin').port}`;
    const web = `http://127.0.0.1:${gateway.address('web').port}`;
    const res = await fetch(`${admin}/ping`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'OK');
    assert.equal((await fetch(`${admin}/ping`, { method: 'HEAD' })).status, 200);
    assert.equal((await fetch(`${web}/ping`)).status, 404);
    assert.equal((await fetch(`${admin}/other`)).status, 404);
  } finally {
    await gateway.stop();
  }
});

test('ping with manualRouting is only the ping@internal service for a user router', async () => {
  const gateway = await startGateway({
    builtins: false,
    plugins: [ping],
    args: ['--entrypoints.web.address=127.0.0.1:0', '--ping.entryPoint=web', '--ping.manualRouting=true'],
    dynamic: { http: { routers: { health: { rule: 'Path(`/healthz`)', service: 'ping@internal' } } } },
  });
  try {
    const web = `http://127.0.0.1:${gateway.address('web').port}`;
    assert.equal((await fetch(`${web}/ping`)).status, 404);
    const res = await fetch(`${web}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'OK');
  } finally {
    await gateway.stop();
  }
});

test('ping on an entrypoint that does not exist is a start-up error naming it', async () => {
  await assert.rejects(
    startGateway({ builtins: false, plugins: [ping], args: ['--entrypoints.web.address=127.0.0.1:0', '--ping.entryPoint=nope'] }),
    /ping\.entryPoint: entrypoint 'nope' does not exist/,
  );
});
