// Tests for upstream pools: registry reuse across generations, graceful close, keep-alive, TLS server name.
import assert from 'node:assert/strict';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { closedPort, eventually, listen, makeCert, startServer, type Listening } from '@wharf/test-helpers';
import { createLoadBalancerHandler } from './handler.js';
import { request, startGateway } from './harness.test.helper.js';
import { PoolRegistry, poolKey } from './pool.js';
import type { ProxyLogger } from './proxy.js';

describe('PoolRegistry', () => {
  it('shares a pool per origin and transport, and closes it with the last lease', async () => {
    const registry = new PoolRegistry();
    const first = registry.acquire('http://127.0.0.1:1/a');
    const second = registry.acquire('http://127.0.0.1:1/b');
    const otherTransport = registry.acquire('http://127.0.0.1:1', { responseHeaderTimeoutMs: 5 });
    assert.equal(first.pool, second.pool);
    assert.notEqual(first.pool, otherTransport.pool);
    assert.equal(registry.size, 2);

    first.release();
    first.release();
    assert.equal(first.pool.closed, false, 'a second release of one lease is a no-op');
    second.release();
    assert.equal(first.pool.closed, true);
    otherTransport.release();
    assert.equal(registry.size, 0);
    await registry.drained();
    assert.equal(first.pool.destroyed, true);

    const fresh = registry.acquire('http://127.0.0.1:1');
    assert.notEqual(fresh.pool, first.pool, 'a retired pool is never handed out again');
    await registry.closeAll();
    assert.equal(fresh.pool.closed, true);
  });

  it('keys pools by effective transport (defaults applied)', () => {
    assert.equal(poolKey('http://h:80'), poolKey('http://h', { dialTimeoutMs: 30_000, maxIdleConnsPerHost: 200 }));
    assert.notEqual(poolKey('http://h'), poolKey('http://h', { insecureSkipVerify: true }));
    assert.notEqual(poolKey('http://h'), poolKey('https://h'));
    assert.throws(() => poolKey('http://h', { dialTimeoutMs: -1 }));
  });
});

describe('pools across configuration generations', () => {
  let slow: Listening;
  let slowRequests = 0;
  let fast: Listening;
  before(async () => {
    slow = await startServer((_req, res) => {
      slowRequests++;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('slow ');
      setTimeout(() => res.end('done'), 300);
    });
    fast = await startServer((_req, res) => res.end('fast'));
  });
  after(async () => {
    await slow.close();
    await fast.close();
  });

  it('keeps unchanged servers\' pools and closes the others gracefully', async () => {
    const registry = new PoolRegistry();
    const gen1 = createLoadBalancerHandler({ service: 'a@test', pools: registry, servers: [{ url: slow.url }, { url: fast.url }] });
    const gateway = await startGateway(gen1);
    try {
      // An in-flight slow response on generation 1...
      const inflight = request(gateway.url);
      await eventually(() => slowRequests === 1, 'the first request in flight on the slow server');

      // ...while generation 2 (fast only) is built, swapped in, and generation 1 retired.
      const fastBefore = registry.acquire(fast.url);
      const gen2 = createLoadBalancerHandler({ service: 'a@test', pools: registry, servers: [{ url: fast.url }] });
      gen1.release();
      assert.equal(registry.size, 1, 'only the fast server\'s pool is still referenced');

      const reply = await inflight;
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), 'slow done', 'the closing pool let its request finish');
      await registry.drained();

      const fastAfter = registry.acquire(fast.url);
      assert.equal(fastAfter.pool, fastBefore.pool, 'unchanged server kept its pool');
      assert.equal(fastAfter.pool.closed, false);
      fastBefore.release();
      fastAfter.release();
      gen2.release();
      assert.equal(registry.size, 0);
    } finally {
      await gateway.close();
      await registry.closeAll();
    }
  });

  it('reuses upstream connections (keep-alive) unless disabled', async () => {
    const ports: number[] = [];
    const backend = await startServer((req, res) => {
      ports.push(req.socket.remotePort!);
      res.end('ok');
    });
    const registry = new PoolRegistry();
    try {
      for (const maxIdleConnsPerHost of [undefined, -1]) {
        ports.length = 0;
        const handler = createLoadBalancerHandler({
          service: 'k@test',
          pools: registry,
          servers: [{ url: backend.url }],
          transport: { maxIdleConnsPerHost },
        });
        const gateway = await startGateway(handler);
        for (let i = 0; i < 3; i++) assert.equal((await request(gateway.url)).body.toString(), 'ok');
        await gateway.close();
        handler.release();
        const distinct = new Set(ports).size;
        if (maxIdleConnsPerHost === undefined) assert.equal(distinct, 1, 'one kept-alive connection');
        else assert.equal(distinct, 3, 'one connection per request');
      }
    } finally {
      await registry.closeAll();
      await backend.close();
    }
  });
});

describe('https upstreams', () => {
  let backend: Listening<https.Server>;
  const seen: { servername: string | false | null; host: string | undefined; port: number }[] = [];

  before(async () => {
    // Self-signed for CN/SAN localhost.
    const certificate = await makeCert(['localhost']);
    backend = await listen(
      https.createServer(certificate, (req, res) => {
        seen.push({
          servername: (req.socket as TLSSocket).servername,
          host: req.headers.host,
          port: req.socket.remotePort!,
        });
        res.end('secure');
      }),
    );
  });
  after(async () => {
    await backend?.close();
  });

  it('sends the server URL\'s name as SNI while passing the client Host, on one connection', async () => {
    const registry = new PoolRegistry();
    const handler = createLoadBalancerHandler({
      service: 'tls@test',
      pools: registry,
      servers: [{ url: `https://localhost:${backend.port}` }],
      transport: { insecureSkipVerify: true },
    });
    const gateway = await startGateway(handler);
    try {
      seen.length = 0;
      assert.equal((await request(gateway.url, { headers: { host: 'client.example' } })).body.toString(), 'secure');
      assert.equal((await request(gateway.url, { headers: { host: 'other.example' } })).body.toString(), 'secure');
      assert.deepEqual(seen.map((s) => [s.servername, s.host]), [
        ['localhost', 'client.example'],
        ['localhost', 'other.example'],
      ]);
      assert.equal(seen[0]!.port, seen[1]!.port, 'a changing Host header does not force a reconnect');
    } finally {
      await gateway.close();
      handler.release();
      await registry.closeAll();
    }
  });

  it('sends no SNI to an IP address, or serverName when configured', async () => {
    const registry = new PoolRegistry();
    const byIP = createLoadBalancerHandler({
      service: 'tls@test',
      pools: registry,
      servers: [{ url: `https://127.0.0.1:${backend.port}` }],
      transport: { insecureSkipVerify: true },
    });
    const named = createLoadBalancerHandler({
      service: 'tls@test',
      pools: registry,
      servers: [{ url: `https://127.0.0.1:${backend.port}` }],
      transport: { insecureSkipVerify: true, serverName: 'localhost' },
    });
    const ipGateway = await startGateway(byIP);
    const namedGateway = await startGateway(named);
    try {
      seen.length = 0;
      await request(ipGateway.url, { headers: { host: 'client.example' } });
      await request(namedGateway.url, { headers: { host: 'client.example' } });
      assert.deepEqual(seen.map((s) => s.servername), [false, 'localhost']);
    } finally {
      await ipGateway.close();
      await namedGateway.close();
      byIP.release();
      named.release();
      await registry.closeAll();
    }
  });

  it('verifies upstream certificates unless insecureSkipVerify', async () => {
    const registry = new PoolRegistry();
    const warnings: unknown[] = [];
    const log: ProxyLogger = { warn: (obj) => warnings.push(obj) };
    const handler = createLoadBalancerHandler({
      service: 'tls@test',
      pools: registry,
      servers: [{ url: `https://localhost:${backend.port}` }],
      log,
    });
    const gateway = await startGateway(handler);
    try {
      const reply = await request(gateway.url);
      assert.equal(reply.status, 502);
      assert.equal(warnings.length, 1);
    } finally {
      await gateway.close();
      handler.release();
      await registry.closeAll();
    }
  });

  it('answers 502 for a server that refuses connections over https too', async () => {
    const registry = new PoolRegistry();
    const handler = createLoadBalancerHandler({
      service: 'tls@test',
      pools: registry,
      servers: [{ url: `https://127.0.0.1:${await closedPort()}` }],
    });
    const gateway = await startGateway(handler);
    try {
      assert.equal((await request(gateway.url)).status, 502);
    } finally {
      await gateway.close();
      handler.release();
      await registry.closeAll();
    }
  });
});
