// The redis section over TLS against a real redis-server that only speaks TLS, with a private CA and a required
// client certificate: decisions are made in Redis (onStoreError deny would answer 503 otherwise).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startGateway } from '@wharf/core';
import { eventually, makeCA, makeCert, startRedisServer, startServer, tempDir } from '@wharf/test-helpers';
import rateLimit from './index.js';

const dir = tempDir('wharf-ratelimit-tls-');
const ca = await makeCA('Redis private CA');
const redis = await startRedisServer('127.0.0.1', { tls: { server: await makeCert(['127.0.0.1'], { ca }), ca } });
const client = await makeCert(['wharf'], { ca, usage: 'client' });
const backend = await startServer((_req, res) => res.end('ok'));
after(async () => {
  await backend.close();
  await redis.stop();
  dir.remove();
});

async function statuses(url: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await fetch(url)).status);
  return out;
}

test('redis.tls with a private CA and a client certificate: the bucket lives in the TLS-only Redis', async () => {
  const tls = { ca: dir.write('ca.pem', ca.cert), cert: dir.write('client.pem', client.cert), key: dir.write('client-key.pem', client.key) };
  const middlewares = {
    files: { rateLimit: { average: 1, period: '1m', burst: 1, onStoreError: 'deny', redis: { endpoints: [`127.0.0.1:${redis.port}`], db: 1, tls } } },
    inline: { rateLimit: { average: 1, period: '1m', burst: 1, onStoreError: 'deny', redis: { endpoints: [`127.0.0.1:${redis.port}`], db: 1, tls: { ca: ca.cert } } } },
  };
  const gateway = await startGateway({
    plugins: [rateLimit],
    args: ['--entrypoints.web.address=127.0.0.1:0'],
    dynamic: {
      http: {
        routers: { files: { rule: 'PathPrefix(`/files`)', middlewares: ['files'], service: 'b' }, inline: { rule: 'PathPrefix(`/inline`)', middlewares: ['inline'], service: 'b' } },
        middlewares,
        services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } },
      },
    },
  });
  const probe = new Redis({ port: redis.port, host: '127.0.0.1', db: 1, tls: { ca: ca.cert, cert: client.cert, key: client.key } });
  try {
    const base = `http://127.0.0.1:${gateway.address('web').port}`;
    // 503 (deny) until the TLS connection is up; then one token, then 429.
    await eventually(async () => (await fetch(`${base}/files`)).status === 200, 'a decision made in Redis over TLS');
    assert.deepEqual(await statuses(`${base}/files`, 2), [429, 429]);
    assert.ok((await probe.keys('wharf:rl:files@inline:*')).length > 0, 'the bucket is in Redis db 1');
    // Without a client certificate the server refuses the handshake: deny answers 503, never a decision.
    assert.deepEqual(await statuses(`${base}/inline`, 2), [503, 503]);
    assert.deepEqual(await probe.keys('wharf:rl:inline@inline:*'), []);
  } finally {
    probe.disconnect();
    await gateway.stop();
  }
});
