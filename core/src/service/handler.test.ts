// Tests for the service handlers: weighted balancing, connect-failure retry, 503, weighted services.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Middleware, WharfState } from '../context.js';
import type { IncomingMessage } from 'node:http';
import { closedPort, startServer, type Listening } from '@wharf/test-helpers';
import { createLoadBalancerHandler, createWeightedHandler, retryDelayMs, type LoadBalancerOptions } from './handler.js';
import { generated, request, silentTcpServer, startGateway } from './harness.test.helper.js';
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
  const listening = await startServer(async (req, res) => {
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
    refused = `http://127.0.0.1:${await closedPort()}`;
    refused2 = `http://127.0.0.1:${await closedPort()}`;
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

describe('createLoadBalancerHandler with a retry policy (ctx.wharf.retry)', () => {
  const pools = new PoolRegistry();
  let good: Listening & { requests: Array<{ method: string; bytes: number }> };
  /** Reads the request head, then closes the connection without answering. */
  let closer: Listening & { hits: number };
  let refused: string;
  let refused2: string;

  before(async () => {
    const requests: Array<{ method: string; bytes: number }> = [];
    good = Object.assign(
      await startServer(async (req, res) => {
        let bytes = 0;
        for await (const chunk of req) bytes += (chunk as Buffer).length;
        requests.push({ method: req.method!, bytes });
        res.end(`good ${bytes}`);
      }),
      { requests },
    );
    const hits = { hits: 0 };
    closer = Object.assign(
      await startServer((req: IncomingMessage) => {
        hits.hits++;
        req.socket.destroy();
      }),
      hits,
    );
    Object.defineProperty(closer, 'hits', { get: () => hits.hits });
    refused = `http://127.0.0.1:${await closedPort()}`;
    refused2 = `http://127.0.0.1:${await closedPort()}`;
  });
  after(async () => {
    await pools.closeAll();
    await good.close();
    await closer.close();
  });

  async function gatewayFor(options: Partial<LoadBalancerOptions> & Pick<LoadBalancerOptions, 'servers'>, retry?: WharfState['retry']) {
    const handler = createLoadBalancerHandler({ service: 'api@test', pools, ...options });
    const gateway = await startGateway(handler, retry === undefined ? {} : { retry });
    return { handler, gateway };
  }

  const cases: Array<{ desc: string; policy: NonNullable<WharfState['retry']>; delays: number[] }> = [
    { desc: 'doubles from initialInterval, capped at 2 × initialInterval by default', policy: { attempts: 5, initialIntervalMs: 100 }, delays: [100, 200, 200, 200] },
    { desc: 'doubles up to maxInterval', policy: { attempts: 5, initialIntervalMs: 100, maxIntervalMs: 1000 }, delays: [100, 200, 400, 800, 1000] },
    { desc: 'no wait without initialInterval', policy: { attempts: 3, initialIntervalMs: 0 }, delays: [0, 0, 0] },
  ];
  for (const { desc, policy, delays } of cases) {
    it(`retry delays: ${desc}`, () => {
      assert.deepEqual(delays.map((_, i) => retryDelayMs(policy, i + 1)), delays);
    });
  }

  it('retries a POST whose body has not started streaming, and the next server gets the whole body', async () => {
    const { handler, gateway } = await gatewayFor({ servers: [{ url: refused }, { url: good.url }] }, { attempts: 2, initialIntervalMs: 0 });
    const before = good.requests.length;
    try {
      const reply = await request(gateway.url, { method: 'POST', body: generated(300_000, 1000) });
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), 'good 300000');
      await Promise.all(gateway.finished);
      assert.equal(gateway.states[0]!.retryAttempts, 1);
      assert.deepEqual(good.requests.slice(before), [{ method: 'POST', bytes: 300_000 }]);
    } finally {
      await gateway.close();
      handler.release();
    }
  });

  it('retries a GET whose connection the server closed before answering; without a policy that is a 502', async () => {
    const withPolicy = await gatewayFor({ servers: [{ url: closer.url }, { url: good.url }] }, { attempts: 2, initialIntervalMs: 0 });
    const without = await gatewayFor({ servers: [{ url: closer.url }, { url: good.url }] });
    const hitsBefore = closer.hits;
    try {
      const retried = await request(withPolicy.gateway.url);
      assert.equal(retried.status, 200);
      assert.equal(retried.body.toString(), 'good 0');
      await Promise.all(withPolicy.gateway.finished);
      assert.equal(withPolicy.gateway.states[0]!.retryAttempts, 1);
      assert.equal((await request(without.gateway.url)).status, 502);
      assert.equal(closer.hits, hitsBefore + 2);
    } finally {
      await withPolicy.gateway.close();
      await without.gateway.close();
      withPolicy.handler.release();
      without.handler.release();
    }
  });

  it('does not resend a request with a body once the server received it: 502, with or without a policy', async () => {
    // undici destroys the uploaded request stream when the server closes; the client must still get its 502.
    const withPolicy = await gatewayFor({ servers: [{ url: closer.url }, { url: good.url }] }, { attempts: 3, initialIntervalMs: 0 });
    const without = await gatewayFor({ servers: [{ url: closer.url }, { url: good.url }] });
    const hitsBefore = closer.hits;
    const goodBefore = good.requests.length;
    try {
      for (const { gateway } of [withPolicy, without]) {
        const reply = await request(gateway.url, { method: 'POST', body: 'payload' });
        assert.equal(reply.status, 502);
        assert.equal(reply.body.toString(), 'Bad Gateway');
        await Promise.all(gateway.finished);
        assert.equal(gateway.states[0]!.retryAttempts, 0);
      }
      assert.equal(closer.hits, hitsBefore + 2);
      assert.equal(good.requests.length, goodBefore);
    } finally {
      await withPolicy.gateway.close();
      await without.gateway.close();
      withPolicy.handler.release();
      without.handler.release();
    }
  });

  it('makes at most `attempts` tries, reusing servers once every one was tried, then answers 502', async () => {
    const failures: string[] = [];
    const { handler, gateway } = await gatewayFor(
      { servers: [{ url: refused }, { url: refused2 }], onServerFailure: (url) => failures.push(url) },
      { attempts: 5, initialIntervalMs: 1 },
    );
    try {
      const reply = await request(gateway.url);
      assert.equal(reply.status, 502);
      await Promise.all(gateway.finished);
      assert.equal(gateway.states[0]!.retryAttempts, 4);
      assert.equal(failures.length, 5);
      assert.deepEqual(failures.slice(0, 2), [refused, refused2], 'every server once before any twice');
      assert.deepEqual(new Set(failures.slice(2)), new Set([refused, refused2]));
    } finally {
      await gateway.close();
      handler.release();
    }
  });

  it('attempts: 1 turns retries off, even the default connect-failure retry', async () => {
    const { handler, gateway } = await gatewayFor({ servers: [{ url: refused }, { url: good.url }] }, { attempts: 1, initialIntervalMs: 0 });
    try {
      assert.equal((await request(gateway.url)).status, 502);
      await Promise.all(gateway.finished);
      assert.equal(gateway.states[0]!.retryAttempts, 0);
    } finally {
      await gateway.close();
      handler.release();
    }
  });

  it('sends a body a middleware held (ctx.wharf.requestBody) with its Content-Length, and again after a reset', async () => {
    const held = Buffer.alloc(50_000, 'x');
    const opened: number[] = [];
    const requestBody = { length: held.length, open: () => (opened.push(1), held) };
    const handler = createLoadBalancerHandler({ service: 'api@test', pools, servers: [{ url: closer.url }, { url: good.url }] });
    // The state is spread into each request's ctx.wharf: the client itself sends no body.
    const gateway = await startGateway(handler, { retry: { attempts: 2, initialIntervalMs: 0 }, requestBody });
    const goodBefore = good.requests.length;
    try {
      const reply = await request(gateway.url, { method: 'PUT' });
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), `good ${held.length}`);
      await Promise.all(gateway.finished);
      assert.equal(gateway.states[0]!.retryAttempts, 1);
      assert.equal(opened.length, 2, 'opened once per try');
      assert.deepEqual(good.requests.slice(goodBefore), [{ method: 'PUT', bytes: held.length }]);
    } finally {
      await gateway.close();
      handler.release();
    }
  });

  it('holds back an answer retryOn accepts and sends the next try; networkErrors: false leaves failures alone', async () => {
    const unavailable = await startServer((_req, res) => {
      res.writeHead(503, { 'x-from': 'unavailable' });
      res.end('unavailable');
    });
    const asked: Array<[number, number, string]> = [];
    const retryOn = (status: number, attempt: number, method: string) => (asked.push([status, attempt, method]), status === 503 || status === 502);
    const held = await gatewayFor({ servers: [{ url: unavailable.url }, { url: good.url }] }, { attempts: 3, initialIntervalMs: 0, retryOn });
    const noNetwork = await gatewayFor({ servers: [{ url: refused }, { url: good.url }] }, { attempts: 3, initialIntervalMs: 0, networkErrors: false, retryOn: () => false });
    try {
      const reply = await request(held.gateway.url);
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['x-from'], undefined, 'nothing of the held answer reached the client');
      assert.deepEqual(asked, [
        [503, 1, 'GET'],
        [200, 2, 'GET'],
      ]);
      assert.equal((await request(noNetwork.gateway.url)).status, 502);
      await Promise.all(noNetwork.gateway.finished);
      assert.equal(noNetwork.gateway.states[0]!.retryAttempts, 0);
    } finally {
      await held.gateway.close();
      await noNetwork.gateway.close();
      held.handler.release();
      noNetwork.handler.release();
      await unavailable.close();
    }
  });

  it('skips servers that went down during the back-off', async () => {
    const down = new Set<string>();
    const failures: string[] = [];
    const { handler, gateway } = await gatewayFor(
      {
        servers: [{ url: refused }, { url: refused2 }, { url: good.url }],
        isServerUp: (url) => !down.has(url),
        // As a health check would: the failure takes refused out, and refused2 was found down meanwhile.
        onServerFailure: (url) => {
          failures.push(url);
          down.add(refused).add(refused2);
        },
      },
      { attempts: 3, initialIntervalMs: 1 },
    );
    try {
      const reply = await request(gateway.url);
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), 'good 0');
      await Promise.all(gateway.finished);
      assert.equal(gateway.states[0]!.retryAttempts, 1);
      assert.deepEqual(failures, [refused]);
    } finally {
      await gateway.close();
      handler.release();
    }
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
