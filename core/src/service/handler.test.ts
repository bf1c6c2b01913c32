// Tests for the service handlers: weighted balancing, connect-failure retry, 503, weighted services.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Middleware } from '../context.js';
import { createLoadBalancerHandler, createWeightedHandler, type LoadBalancerOptions } from './handler.js';
import { generated, refusedPort, request, silentTcpServer, startBackend, startGateway, type Listening } from './harness.test.helper.js';
import { PoolRegistry } from './pool.js';
import type { ProxyLogger } from './proxy.js';

interface Warning {
  obj: Record<string, unknown>;
  msg: string;
}

function recordingLogger(): ProxyLogger & { warnings: Warning[] } {
  const warnings: Warning[] = [];
  return { warnings, warn: (obj, msg) => warnings.push({ obj: obj as Record<string, unknown>, msg }) };
}

/** Backend that answers with its name and counts the requests it got. */
async function namedBackend(name: string): Promise<Listening & { hits: number }> {
  const backend = { hits: 0 } as Listening & { hits: number };
  const listening = await startBackend(async (req, res) => {
    backend.hits++;
    for await (const _chunk of req) {
      // Drain the body.
    }
    res.end(name);
  });
  return Object.assign(backend, listening);
}

describe('createLoadBalancerHandler', () => {
  const pools = new PoolRegistry();
  let a: Listening & { hits: number };
  let b: Listening & { hits: number };
  let refused: string;
  let refused2: string;

  before(async () => {
    a = await namedBackend('a');
    b = await namedBackend('b');
    refused = `http://127.0.0.1:${await refusedPort()}`;
    refused2 = `http://127.0.0.1:${await refusedPort()}`;
  });
  after(async () => {
    await pools.closeAll();
    await a.close();
    await b.close();
  });

  async function gatewayFor(options: Partial<LoadBalancerOptions> & Pick<LoadBalancerOptions, 'servers'>) {
    const handler = createLoadBalancerHandler({ service: 'api@test', pools, ...options });
    const gateway = await startGateway(handler);
    return { handler, gateway };
  }

  it('spreads requests by smooth weighted round-robin', async () => {
    const { handler, gateway } = await gatewayFor({
      servers: [
        { url: a.url, weight: 2 },
        { url: b.url, weight: 1 },
        { url: refused, weight: 0 },
      ],
    });
    try {
      const names: string[] = [];
      for (let i = 0; i < 6; i++) names.push((await request(gateway.url)).body.toString());
      assert.deepEqual(names, ['a', 'b', 'a', 'a', 'b', 'a']);
    } finally {
      await gateway.close();
      handler.release();
    }
  });

  it('retries a GET on another server when the connection is refused', async () => {
    const log = recordingLogger();
    const { handler, gateway } = await gatewayFor({ servers: [{ url: refused }, { url: a.url }], log });
    try {
      const reply = await request(gateway.url);
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), 'a');
      await Promise.all(gateway.finished);
      assert.equal(gateway.states[0]!.retryAttempts, 1);
      assert.equal(gateway.states[0]!.upstream!.url, a.url);
      assert.equal(log.warnings.length, 1);
      assert.deepEqual(log.warnings[0]!.obj.failedServers, [refused]);
    } finally {
      await gateway.close();
      handler.release();
    }
  });

  it('retries on another server when connecting times out', async () => {
    const silent = await silentTcpServer();
    const vanished = `https://127.0.0.1:${silent.port}`;
    const { handler, gateway } = await gatewayFor({
      servers: [{ url: vanished }, { url: a.url }],
      transport: { dialTimeoutMs: 100 },
    });
    try {
      const reply = await request(gateway.url);
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), 'a');
      await Promise.all(gateway.finished);
      assert.equal(gateway.states[0]!.retryAttempts, 1);
    } finally {
      await gateway.close();
      handler.release();
      await silent.close();
    }
  });

  it('retries a POST without a body', async () => {
    const { handler, gateway } = await gatewayFor({ servers: [{ url: refused }, { url: b.url }] });
    try {
      const reply = await request(gateway.url, { method: 'POST', headers: { 'content-length': 0 } });
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), 'b');
      await Promise.all(gateway.finished);
      assert.equal(gateway.states[0]!.retryAttempts, 1);
    } finally {
      await gateway.close();
      handler.release();
    }
  });

  it('does not retry a POST with a streamed body', async () => {
    const log = recordingLogger();
    const { handler, gateway } = await gatewayFor({ servers: [{ url: refused }, { url: b.url }], log });
    const hitsBefore = b.hits;
    try {
      const reply = await request(gateway.url, { method: 'POST', body: generated(100_000, 1000) });
      assert.equal(reply.status, 502);
      assert.equal(reply.body.toString(), 'Bad Gateway');
      await Promise.all(gateway.finished);
      assert.equal(gateway.states[0]!.retryAttempts, 0);
      assert.equal(b.hits, hitsBefore);
      assert.equal(log.warnings.length, 1);
      assert.equal(log.warnings[0]!.obj.service, 'api@test');
      assert.equal(log.warnings[0]!.obj.server, refused);
    } finally {
      await gateway.close();
      handler.release();
    }
  });

  it('tries each other server once, then answers 502 and logs once', async () => {
    const log = recordingLogger();
    const { handler, gateway } = await gatewayFor({ servers: [{ url: refused }, { url: refused2 }], log });
    try {
      const reply = await request(gateway.url);
      assert.equal(reply.status, 502);
      await Promise.all(gateway.finished);
      assert.equal(gateway.states[0]!.retryAttempts, 1);
      assert.equal(log.warnings.length, 1);
      assert.equal(log.warnings[0]!.obj.router, 'r@test');
    } finally {
      await gateway.close();
      handler.release();
    }
  });

  it('skips servers that isServerUp rejects, 503 when none is up', async () => {
    let up = new Set([b.url]);
    const { handler, gateway } = await gatewayFor({
      servers: [{ url: a.url }, { url: b.url }],
      isServerUp: (url) => up.has(url),
    });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await request(gateway.url)).body.toString(), 'b');
      up = new Set();
      const reply = await request(gateway.url);
      assert.equal(reply.status, 503);
      assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
      assert.match(reply.body.toString(), /no available server/);
    } finally {
      await gateway.close();
      handler.release();
    }
  });

  it('holds one pool lease per weighted server until released', async () => {
    const registry = new PoolRegistry();
    const handler = createLoadBalancerHandler({
      service: 'x@test',
      pools: registry,
      servers: [{ url: a.url }, { url: `${a.url}/other-path` }, { url: b.url }, { url: refused, weight: 0 }],
    });
    assert.equal(registry.size, 2, 'same origin shares a pool; weight 0 gets none');
    assert.equal(handler.middleware, handler);
    handler.release();
    handler.release();
    assert.equal(registry.size, 0);
    await registry.drained();
  });

  it('rejects unusable server URLs before acquiring anything', () => {
    const registry = new PoolRegistry();
    assert.throws(() => createLoadBalancerHandler({ service: 'x@test', pools: registry, servers: [{ url: 'ftp://x' }] }));
    assert.throws(() => createLoadBalancerHandler({ service: 'x@test', pools: registry, servers: [{ url: a.url, weight: -2 }] }));
    assert.equal(registry.size, 0);
  });
});

describe('createWeightedHandler', () => {
  const answer = (name: string): Middleware => async (ctx) => {
    ctx.body = name;
  };

  it('picks child services by smooth weighted round-robin', async () => {
    const handler = createWeightedHandler([
      { name: 'blue@test', weight: 3, handler: answer('blue') },
      { name: 'green@test', weight: 1, handler: answer('green') },
    ]);
    const gateway = await startGateway(handler);
    try {
      const names: string[] = [];
      for (let i = 0; i < 8; i++) names.push((await request(gateway.url)).body.toString());
      assert.deepEqual(names, ['blue', 'blue', 'green', 'blue', 'blue', 'blue', 'green', 'blue']);
    } finally {
      await gateway.close();
    }
  });

  it('skips children that are down and answers 503 when all are', async () => {
    let down = new Set(['blue@test']);
    const handler = createWeightedHandler(
      [
        { name: 'blue@test', weight: 3, handler: answer('blue') },
        { name: 'green@test', handler: answer('green') },
      ],
      { isServiceUp: (name) => !down.has(name) },
    );
    const gateway = await startGateway(handler);
    try {
      assert.equal((await request(gateway.url)).body.toString(), 'green');
      down = new Set(['blue@test', 'green@test']);
      assert.equal((await request(gateway.url)).status, 503);
    } finally {
      await gateway.close();
    }
  });
});
