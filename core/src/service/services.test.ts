// mirroring, failover, strategies and weighted.sticky in a real gateway, with real backends on 127.0.0.1.
import assert from 'node:assert/strict';
import type http from 'node:http';
import https from 'node:https';
import { after, afterEach, before, describe, it } from 'node:test';
import { closedPort, eventually, listen, makeCA, makeCert, request, startBackend, type Backend, type Listening, type Pem } from '@wharf/test-helpers';
import { startGateway, type EmbeddedGateway } from '../embed.js';
import { Type } from '../config/schema.js';
import { definePlugin, type PluginContext } from '../plugin/contract.js';
import type { Middleware } from '../context.js';

let gateway: EmbeddedGateway | undefined;

async function gatewayWith(services: Record<string, unknown>, routerService = 'front'): Promise<number> {
  gateway = await startGateway({
    args: ['--entrypoints.web.address=127.0.0.1:0'],
    dynamic: { http: { routers: { r: { rule: 'PathPrefix(`/`)', service: routerService } }, services } },
  });
  return gateway.address('web').port;
}

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

function lb(...urls: string[]): Record<string, unknown> {
  return { loadBalancer: { servers: urls.map((url) => ({ url })) } };
}

/** A backend that answers its name at once, counting requests and body bytes. */
async function named(name: string): Promise<Backend> {
  return startBackend(name, (req, res) => {
    req.resume();
    req.on('end', () => res.end(name));
  });
}

describe('mirroring', () => {
  let main: Backend;
  let mirror: Backend;
  before(async () => {
    main = await named('main');
    mirror = await named('mirror');
  });
  after(async () => {
    await main.close();
    await mirror.close();
  });
  afterEach(() => {
    main.requests.length = 0;
    mirror.requests.length = 0;
  });

  it('sends percent % of the requests to the mirror, after the main answer', async () => {
    const port = await gatewayWith({
      front: { mirroring: { service: 'main', mirrors: [{ name: 'copy', percent: 25 }] } },
      main: lb(main.url),
      copy: lb(mirror.url),
    });
    for (let i = 0; i < 40; i++) assert.equal((await request(port, { path: `/n${i}` })).body, 'main');
    await eventually(() => mirror.requests.length === 10, 'ten mirrored requests (25 % of 40)');
    assert.equal(main.requests.length, 40);
    // The mirror got copies of the same requests (path, method), every fourth one.
    assert.deepEqual(
      mirror.requests.map((r) => r.url),
      main.requests.filter((_r, i) => i % 4 === 0).map((r) => r.url),
    );
  });

  it('answers with the main service while the mirror hangs or is down', async () => {
    const hanging = await startBackend('hang', () => {
      // never answers
    });
    const down = `http://127.0.0.1:${await closedPort()}`;
    try {
      const port = await gatewayWith({
        front: { mirroring: { service: 'main', mirrors: [{ name: 'slow', percent: 100 }, { name: 'gone', percent: 100 }] } },
        main: lb(main.url),
        slow: lb(hanging.url),
        gone: lb(down),
      });
      for (let i = 0; i < 3; i++) {
        const reply = await request(port, { timeoutMs: 5000 });
        assert.equal(reply.status, 200);
        assert.equal(reply.body, 'main');
      }
      await eventually(() => hanging.requests.length === 3, 'three requests at the hanging mirror');
    } finally {
      await hanging.close();
    }
  });

  it('mirrors the body (mirrorBody) up to maxBodySize', async () => {
    const port = await gatewayWith({
      front: { mirroring: { service: 'main', maxBodySize: 10, mirrors: [{ name: 'copy', percent: 100 }] } },
      main: lb(main.url),
      copy: lb(mirror.url),
    });
    await request(port, { method: 'POST', body: 'small body' });
    await eventually(() => mirror.requests[0]?.completed, 'the small body at the mirror');
    assert.equal(mirror.requests[0]!.bodyBytes, 10);
    assert.equal(main.requests[0]!.bodyBytes, 10);
    // Larger than maxBodySize: the main service gets it whole, the mirror nothing.
    const reply = await request(port, { method: 'POST', body: 'x'.repeat(100_000) });
    assert.equal(reply.body, 'main');
    assert.equal(main.requests[1]!.bodyBytes, 100_000);
    await request(port, { method: 'POST', body: 'again' });
    await eventually(() => mirror.requests.length === 2 && mirror.requests[1]!.completed, 'the next small body at the mirror');
    assert.equal(mirror.requests[1]!.bodyBytes, 5);
  });

  it('has the status of its main service for a weighted parent with healthCheck', async () => {
    const port = await gatewayWith({
      front: { weighted: { healthCheck: {}, services: [{ name: 'shadowed' }, { name: 'copy' }] } },
      shadowed: { mirroring: { service: 'main', healthCheck: {}, mirrors: [] } },
      main: lb(main.url),
      copy: lb(mirror.url),
    });
    gateway!.health.set('main@inline', main.url, false, 'test');
    const seen = [(await request(port)).body, (await request(port)).body];
    assert.deepEqual(seen, ['mirror', 'mirror']);
    gateway!.health.set('main@inline', main.url, true);
    const again = [(await request(port)).body, (await request(port)).body].sort();
    assert.deepEqual(again, ['main', 'mirror']);
  });

  it('sends the mirror no body with mirrorBody: false', async () => {
    const port = await gatewayWith({
      front: { mirroring: { service: 'main', mirrorBody: false, mirrors: [{ name: 'copy', percent: 100 }] } },
      main: lb(main.url),
      copy: lb(mirror.url),
    });
    await request(port, { method: 'POST', body: 'payload' });
    await eventually(() => mirror.requests[0]?.completed, 'the mirrored request');
    assert.equal(mirror.requests[0]!.method, 'POST');
    assert.equal(mirror.requests[0]!.bodyBytes, 0);
    assert.equal(main.requests[0]!.bodyBytes, 7);
  });
});

describe('failover', () => {
  let main: Backend;
  let spare: Backend;
  before(async () => {
    main = await named('main');
    spare = await named('spare');
  });
  after(async () => {
    await main.close();
    await spare.close();
  });

  it('uses the fallback while the main service has no server up, and the main one again once it has', async () => {
    const port = await gatewayWith({
      front: { failover: { service: 'main', fallback: 'spare' } },
      main: lb(main.url),
      spare: lb(spare.url),
    });
    assert.equal((await request(port)).body, 'main');
    gateway!.health.set('main@inline', main.url, false, 'test');
    assert.equal((await request(port)).body, 'spare');
    gateway!.health.set('main@inline', main.url, true);
    assert.equal((await request(port)).body, 'main');
  });

  it('answers 503 with healthCheck when the fallback is down too', async () => {
    const port = await gatewayWith({
      front: { failover: { service: 'main', fallback: 'spare', healthCheck: {} } },
      main: lb(main.url),
      spare: lb(spare.url),
    });
    gateway!.health.set('main@inline', main.url, false, 'test');
    gateway!.health.set('spare@inline', spare.url, false, 'test');
    assert.equal((await request(port)).status, 503);
    gateway!.health.set('spare@inline', spare.url, true);
    assert.equal((await request(port)).body, 'spare');
  });
});

describe('failover.errors', () => {
  let flaky: Backend;
  let spare: Backend;
  /** Status flaky answers with. */
  let status = 200;
  before(async () => {
    flaky = await startBackend('flaky', (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(status, { 'set-cookie': 'from=flaky' });
        res.end('flaky');
      });
    });
    spare = await named('spare');
  });
  after(async () => {
    await flaky.close();
    await spare.close();
  });

  async function start(maxRequestBodyBytes?: number): Promise<number> {
    return gatewayWith({
      front: { failover: { service: 'flaky', fallback: 'spare', errors: { status: ['500-504'], ...(maxRequestBodyBytes === undefined ? {} : { maxRequestBodyBytes }) } } },
      flaky: lb(flaky.url),
      spare: lb(spare.url),
    });
  }

  it('sends the request, body included, to the fallback when the main answer has a listed status', async () => {
    const port = await start();
    status = 200;
    assert.equal((await request(port, { method: 'POST', body: 'hello' })).body, 'flaky');
    status = 503;
    const reply = await request(port, { method: 'POST', body: 'hello' });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'spare');
    assert.equal(reply.headers['set-cookie'], undefined);
    assert.equal(spare.requests.at(-1)!.bodyBytes, 5);
    status = 404;
    assert.equal((await request(port)).status, 404);
  });

  it('answers 413 to a body over maxRequestBodyBytes', async () => {
    const port = await start(4);
    status = 200;
    assert.equal((await request(port, { method: 'POST', body: 'four' })).body, 'flaky');
    assert.equal((await request(port, { method: 'POST', body: 'longer' })).status, 413);
  });

  it('refuses a bad status entry, naming it', async () => {
    await gatewayWith({ front: { failover: { service: 'ok', fallback: 'ok', errors: { status: ['5xx'] } } }, ok: lb(spare.url) });
    assert.match(gateway!.info.services['front@inline']!.errors!.join(), /failover\.errors\.status\[0\]: expected a status code or a range such as 502 or 500-504, got "5xx"/);
  });
});

describe('configuration errors', () => {
  it('reports a cycle through mirroring, failover and weighted services on the router', async () => {
    const b = await named('b');
    try {
      await gatewayWith({
        front: { mirroring: { service: 'fo', mirrors: [] } },
        fo: { failover: { service: 'w', fallback: 'ok' } },
        w: { weighted: { services: [{ name: 'front' }] } },
        ok: lb(b.url),
      });
      const router = gateway!.info.routers['r@inline']!;
      assert.equal(router.status, 'disabled');
      assert.match(router.errors!.join('\n'), /service cycle: front@inline → fo@inline → w@inline → front@inline/);
    } finally {
      await b.close();
    }
  });

  it('names the field of a missing mirror or fallback', async () => {
    const b = await named('b');
    try {
      gateway = await startGateway({
        args: ['--entrypoints.web.address=127.0.0.1:0'],
        dynamic: {
          http: {
            routers: { m: { rule: 'Path(`/m`)', service: 'm' }, f: { rule: 'Path(`/f`)', service: 'f' }, ok: { rule: 'Path(`/ok`)', service: 'ok' } },
            services: {
              m: { mirroring: { service: 'ok', mirrors: [{ name: 'ok', percent: 5 }, { name: 'nope', percent: 5 }] } },
              f: { failover: { service: 'ok', fallback: 'absent' } },
              ok: lb(b.url),
            },
          },
        },
      });
      const { services, routers } = gateway.info;
      assert.match(services['m@inline']!.errors!.join(), /mirroring\.mirrors\[1\]\.name 'nope@inline' does not exist/);
      assert.match(services['f@inline']!.errors!.join(), /failover\.fallback 'absent@inline' does not exist/);
      assert.equal(routers['m@inline']!.status, 'disabled');
      assert.equal(routers['ok@inline']!.status, 'enabled');
      assert.equal((await request(gateway.address('web').port, { path: '/ok' })).body, 'b');
    } finally {
      await b.close();
    }
  });

  it('refuses an unknown strategy and a percent over 100, naming the field', async () => {
    gateway = await startGateway({ args: ['--entrypoints.web.address=127.0.0.1:0'] });
    const decoded = gateway.configure({
      http: {
        services: {
          s: { loadBalancer: { strategy: 'fastest', servers: [{ url: 'http://127.0.0.1:1' }] } },
          m: { mirroring: { service: 's', mirrors: [{ name: 's', percent: 101 }] } },
        },
      },
    });
    const messages = decoded.problems.flatMap((p) => p.messages).join('\n');
    assert.match(messages, /strategy/);
    assert.match(messages, /fastest/);
    assert.match(messages, /percent/);
  });
});

describe('strategies', () => {
  let a: Backend;
  let b: Backend;
  /** Requests to /hold wait here until released. */
  const held: http.ServerResponse[] = [];
  before(async () => {
    const handler = (name: string) => (req: http.IncomingMessage, res: http.ServerResponse) => {
      req.resume();
      if (req.url === '/hold') held.push(res);
      else res.end(name);
    };
    a = await startBackend('a', handler('a'));
    b = await startBackend('b', handler('b'));
  });
  after(async () => {
    for (const res of held) res.end();
    await a.close();
    await b.close();
  });

  async function names(port: number, count: number, headers?: http.OutgoingHttpHeaders): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push((await request(port, { headers })).body);
    return out;
  }

  it('wrr: weights exact over each cycle', async () => {
    const port = await gatewayWith({
      front: { loadBalancer: { strategy: 'wrr', servers: [{ url: a.url, weight: 3 }, { url: b.url, weight: 1 }] } },
    });
    const seen = await names(port, 12);
    for (let cycle = 0; cycle < 3; cycle++) {
      const part = seen.slice(cycle * 4, cycle * 4 + 4);
      assert.equal(part.filter((n) => n === 'a').length, 3, `cycle ${cycle}: ${part.join(' ')}`);
    }
  });

  it('p2c: requests go to the server with fewer requests in flight', async () => {
    const port = await gatewayWith({ front: { loadBalancer: { strategy: 'p2c', servers: [{ url: a.url }, { url: b.url }] } } });
    const busy = request(port, { path: '/hold' });
    await eventually(() => held.length === 1, 'one request held by a server');
    const holder = a.requests.some((r) => r.url === '/hold') ? 'a' : 'b';
    const seen = await names(port, 10);
    assert.deepEqual(seen, Array(10).fill(holder === 'a' ? 'b' : 'a'));
    held.shift()!.end('done');
    await busy;
  });

  it('hrw: one client address keeps its server; weights share the addresses', async () => {
    const port = await gatewayWith({ front: { loadBalancer: { strategy: 'hrw', servers: [{ url: a.url }, { url: b.url }] } } });
    const seen = await names(port, 10);
    assert.equal(new Set(seen).size, 1, seen.join(' '));
  });

  it('leasttime: the faster server gets the traffic', async () => {
    const slow = await startBackend('slow', (req, res) => {
      req.resume();
      setTimeout(() => res.end('slow'), 200);
    });
    try {
      const port = await gatewayWith({ front: { loadBalancer: { strategy: 'leasttime', servers: [{ url: slow.url }, { url: a.url }] } } });
      const seen = await names(port, 12);
      // Each server is tried while it has no time recorded; after that only the faster one is chosen.
      assert.equal(seen.filter((n) => n === 'slow').length, 1, seen.join(' '));
    } finally {
      await slow.close();
    }
  });
});

describe('highestRandomWeight', () => {
  let a: Backend;
  let b: Backend;
  before(async () => {
    a = await named('a');
    b = await named('b');
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  it('keeps a client address on one child service; with healthCheck it moves while that child is down', async () => {
    const port = await gatewayWith({
      front: { highestRandomWeight: { services: [{ name: 'sa' }, { name: 'sb' }], healthCheck: {} } },
      sa: lb(a.url),
      sb: lb(b.url),
    });
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await request(port)).body);
    assert.equal(seen.size, 1);
    const [kept] = [...seen];
    const [service, url] = kept === 'a' ? ['sa@inline', a.url] : ['sb@inline', b.url];
    gateway!.health.set(service, url, false, 'test');
    assert.notEqual((await request(port)).body, kept);
    gateway!.health.set(service, url, true);
    assert.equal((await request(port)).body, kept);
  });
});

describe('weighted.sticky', () => {
  let a: Backend;
  let b: Backend;
  before(async () => {
    a = await named('a');
    b = await named('b');
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  it('pins a client to the child service its cookie names, while that child is up', async () => {
    const port = await gatewayWith({
      front: { weighted: { services: [{ name: 'sa' }, { name: 'sb' }], sticky: { cookie: { name: 'pin' } }, healthCheck: {} } },
      sa: lb(a.url),
      sb: lb(b.url),
    });
    const first = await request(port);
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    assert.match(cookie, /^pin=/);
    for (let i = 0; i < 4; i++) assert.equal((await request(port, { headers: { cookie } })).body, first.body);
    // Without the cookie, round-robin goes on.
    assert.notEqual((await request(port)).body, first.body);
    // The pinned child goes down: the client moves, and gets a new cookie.
    const [pinnedService, pinnedUrl] = first.body === 'a' ? ['sa@inline', a.url] : ['sb@inline', b.url];
    gateway!.health.set(pinnedService, pinnedUrl, false, 'test');
    const moved = await request(port, { headers: { cookie } });
    assert.notEqual(moved.body, first.body);
    assert.notEqual(String(moved.headers['set-cookie']).split(';')[0], cookie);
  });
});

describe('static serversTransport', () => {
  let backend: Listening<https.Server>;
  let ca: Pem;
  before(async () => {
    ca = await makeCA();
    backend = await listen(https.createServer(await makeCert(['localhost'], { ca }), (_req, res) => res.end('secure')));
  });
  after(async () => {
    await backend.close();
  });

  async function start(config: Record<string, unknown>, transport?: string): Promise<number> {
    gateway = await startGateway({
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      config,
      dynamic: {
        http: {
          routers: { r: { rule: 'PathPrefix(`/`)', service: 's' } },
          services: { s: { loadBalancer: { servers: [{ url: `https://localhost:${backend.port}` }], ...(transport ? { serversTransport: transport } : {}) } } },
          serversTransports: { own: { maxIdleConnsPerHost: 1 } },
        },
      },
    });
    return gateway.address('web').port;
  }

  it('is the transport of services that name none: its rootCAs verify the https server', async () => {
    const port = await start({ serversTransport: { rootCAs: [ca.cert], maxIdleConnsPerHost: 4 } });
    const reply = await request(port);
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'secure');
    assert.deepEqual(gateway!.info.services['s@inline']!.transport?.maxIdleConnsPerHost, 4);
  });

  it('does not apply to a service naming its own serversTransport', async () => {
    const port = await start({ serversTransport: { rootCAs: [ca.cert] } }, 'own');
    assert.equal((await request(port)).status, 502);
  });

  it('without it, the server\'s certificate is not trusted', async () => {
    const port = await start({});
    assert.equal((await request(port)).status, 502);
  });

  it('refuses spiffe at start, naming the option', async () => {
    await assert.rejects(
      startGateway({ args: ['--entrypoints.web.address=127.0.0.1:0', '--serversTransport.spiffe.trustDomain=example.org'] }),
      /serversTransport\.spiffe: SPIFFE is not supported/,
    );
  });
});

/** Appends its name to X-Trail, so the upstream sees which middlewares ran, in order. */
const trail = definePlugin({
  name: 'trail',
  schema: Type.Object({ mark: Type.String() }, { additionalProperties: false }),
  create: ({ mark }) =>
    async function trail(ctx, next) {
      ctx.req.headers['x-trail'] = `${ctx.req.headers['x-trail'] ?? ''}/${mark}`;
      await next();
    },
});

/** Sends every request to a service it names (as the errors plugin reaches its page service). */
const via = definePlugin({
  name: 'via',
  schema: Type.Object({ service: Type.String() }, { additionalProperties: false }),
  create: ({ service }, context: PluginContext) => {
    const target: Middleware = context.service(service);
    return (ctx, next) => target(ctx, next);
  },
});

describe('service middlewares (Traefik 3.7)', () => {
  let backend: Backend;
  before(async () => {
    backend = await startBackend('b', (req, res) => {
      req.resume();
      res.end(String(req.headers['x-trail'] ?? ''));
    });
  });
  after(async () => {
    await backend.close();
  });

  async function start(http: Record<string, unknown>): Promise<number> {
    gateway = await startGateway({ plugins: [trail, via], args: ['--entrypoints.web.address=127.0.0.1:0'], dynamic: { http } });
    return gateway.address('web').port;
  }

  it('run after the router\'s, also for a service reached as a child', async () => {
    const port = await start({
      routers: {
        direct: { rule: 'Path(`/direct`)', service: 'app', middlewares: ['r'] },
        nested: { rule: 'Path(`/nested`)', service: 'split', middlewares: ['r'] },
      },
      middlewares: { r: { trail: { mark: 'router' } }, s: { trail: { mark: 'service' } }, w: { trail: { mark: 'weighted' } } },
      services: {
        app: { middlewares: ['s'], loadBalancer: { servers: [{ url: backend.url }] } },
        split: { middlewares: ['w'], weighted: { services: [{ name: 'app' }] } },
      },
    });
    assert.equal((await request(port, { path: '/direct' })).body, '/router/service');
    assert.equal((await request(port, { path: '/nested' })).body, '/router/weighted/service');
  });

  it('a missing one disables the service, naming the field; a cycle through a middleware is reported; two kinds are refused', async () => {
    const port = await start({
      routers: {
        broken: { rule: 'Path(`/broken`)', service: 'broken' },
        loop: { rule: 'Path(`/loop`)', service: 'app', middlewares: ['to-loop'] },
        ok: { rule: 'Path(`/ok`)', service: 'plain' },
        two: { rule: 'Path(`/two`)', service: 'both' },
      },
      middlewares: { 'to-loop': { via: { service: 'looping' } } },
      services: {
        broken: { middlewares: ['nope'], loadBalancer: { servers: [{ url: backend.url }] } },
        looping: { middlewares: ['to-loop'], loadBalancer: { servers: [{ url: backend.url }] } },
        app: { loadBalancer: { servers: [{ url: backend.url }] } },
        plain: { loadBalancer: { servers: [{ url: backend.url }] } },
        both: { loadBalancer: { servers: [{ url: backend.url }] }, weighted: { services: [{ name: 'app' }] } },
      },
    });
    const { services, routers } = gateway!.info;
    assert.match(services['broken@inline']!.errors!.join(), /middlewares\[0\]: middleware 'nope@inline' does not exist/);
    assert.equal(routers['broken@inline']!.status, 'disabled');
    assert.match(services['looping@inline']!.errors!.join(), /middleware cycle: to-loop@inline → to-loop@inline/);
    assert.equal(routers['loop@inline']!.status, 'disabled');
    assert.equal((await request(port, { path: '/ok' })).status, 200);
    assert.match(services['both@inline']!.errors!.join(), /a service is exactly one of loadBalancer, weighted, highestRandomWeight, mirroring, failover; this one has loadBalancer and weighted/);
  });
});
