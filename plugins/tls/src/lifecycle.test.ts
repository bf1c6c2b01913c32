// Graceful stop of a TLS entrypoint: idle h2 sessions get GOAWAY, streams in flight finish, half-done handshakes
// and idle keep-alive connections do not hold the stop until graceTimeOut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { startGateway } from '@wharf/core';
import { makeCert, startServer } from '@wharf/test-helpers';
import tlsPlugin from './index.js';
import { handshake, httpsRequest } from './harness.test.helper.js';

// Far beyond the test timeout: if the stop waited for it, the test would fail instead of passing slowly.
const GRACE = '600s';

async function start(backendURL: string) {
  const cert = await makeCert(['app.test']);
  const gateway = await startGateway({
    plugins: [tlsPlugin],
    args: ['--entrypoints.websecure.address=127.0.0.1:0', '--entrypoints.websecure.http.tls=true', `--entrypoints.websecure.transport.lifeCycle.graceTimeOut=${GRACE}`],
    dynamic: {
      http: { routers: { app: { rule: 'Host(`app.test`)', service: 'app' } }, services: { app: { loadBalancer: { servers: [{ url: backendURL }] } } } },
      tls: { certificates: [{ certFile: cert.cert, keyFile: cert.key }] },
    },
  });
  return { gateway, port: gateway.address('websecure').port };
}

test('stop: an h2 stream in flight completes, idle connections of every kind are closed, nothing waits for graceTimeOut', async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  const inFlight = new Promise<void>((resolve) => (arrived = resolve));
  const backend = await startServer((req, res) => {
    req.resume();
    if (req.url !== '/slow') return void res.end('fast');
    arrived();
    void released.then(() => res.end('slow done'));
  });
  const { gateway, port } = await start(backend.url);
  const agent = new https.Agent({ keepAlive: true });
  try {
    // An idle HTTP/1.1 keep-alive connection, a handshake-only connection and a raw TCP connection that never says hello.
    assert.equal((await httpsRequest(port, { servername: 'app.test', path: '/', agent })).status, 200);
    const idleTLS = await handshake(port, { servername: 'app.test' });
    const silent = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => silent.once('connect', resolve));

    const session = http2.connect(`https://127.0.0.1:${port}`, { servername: 'app.test', rejectUnauthorized: false });
    const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
    const slow = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = session.request({ ':path': '/slow', ':authority': 'app.test' });
      let status = 0;
      let body = '';
      req.on('response', (h) => (status = Number(h[':status'])));
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => resolve({ status, body }));
      req.on('error', reject);
      req.end();
    });
    await inFlight;

    const stopped = gateway.stop();
    await goaway;
    release();
    assert.deepEqual(await slow, { status: 200, body: 'slow done' });
    await stopped;
    assert.ok(idleTLS.socket.destroyed || idleTLS.socket.readableEnded || (await new Promise((r) => idleTLS.socket.once('close', r)), true));
    silent.destroy();
    session.destroy();
  } finally {
    agent.destroy();
    await backend.close();
  }
});
