import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startGateway } from '@wharf/core';
import { startServer } from '@wharf/test-helpers';
import ping from './index.js';

test('ping answers GET and HEAD /ping on its entrypoint before any router, and only there', async () => {
  const gateway = await startGateway({
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
    startGateway({ plugins: [ping], args: ['--entrypoints.web.address=127.0.0.1:0', '--ping.entryPoint=nope'] }),
    /ping\.entryPoint: entrypoint 'nope' does not exist/,
  );
});

/** GET or HEAD on a fresh connection (Connection: close), so a draining gateway has no idle connection to wait for. */
function request(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject)
      .end();
  });
}

test('while the gateway drains, /ping answers terminatingStatusCode (503) and routers still serve until requestAcceptGraceTimeout', async () => {
  const backend = await startServer((_req, res) => res.end('app'));
  const gateway = await startGateway({
    plugins: [ping],
    args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.web.transport.lifeCycle.requestAcceptGraceTimeout=1s', '--ping.entryPoint=web'],
    dynamic: {
      http: {
        routers: { app: { rule: 'PathPrefix(`/app`)', service: 'app' } },
        services: { app: { loadBalancer: { servers: [{ url: backend.url }] } } },
      },
    },
  });
  const port = gateway.address('web').port;
  let stopping: Promise<void> | undefined;
  try {
    assert.deepEqual(await request(port, '/ping'), { status: 200, body: 'OK' });
    stopping = gateway.stop();
    assert.deepEqual(await request(port, '/ping'), { status: 503, body: 'Terminating' });
    assert.equal((await request(port, '/ping', 'HEAD')).status, 503);
    assert.deepEqual(await request(port, '/app'), { status: 200, body: 'app' });
    await stopping;
    await assert.rejects(request(port, '/ping'), /ECONNREFUSED/);
  } finally {
    await (stopping ?? gateway.stop());
    await backend.close();
  }
});

test('ping@internal answers a custom terminatingStatusCode while draining', async () => {
  const gateway = await startGateway({
    plugins: [ping],
    args: [
      '--entrypoints.web.address=127.0.0.1:0',
      '--entrypoints.web.transport.lifeCycle.requestAcceptGraceTimeout=1s',
      '--ping.entryPoint=web',
      '--ping.manualRouting=true',
      '--ping.terminatingStatusCode=500',
    ],
    dynamic: { http: { routers: { health: { rule: 'Path(`/healthz`)', service: 'ping@internal' } } } },
  });
  const port = gateway.address('web').port;
  let stopping: Promise<void> | undefined;
  try {
    assert.deepEqual(await request(port, '/healthz'), { status: 200, body: 'OK' });
    stopping = gateway.stop();
    assert.deepEqual(await request(port, '/healthz'), { status: 500, body: 'Terminating' });
  } finally {
    await (stopping ?? gateway.stop());
  }
});
