// chain and errors end to end: Docker labels (through the Engine API emulator) referring to middlewares and a
// service of the file provider (`name@file`); a chain cycle reported on its routers while the others serve; error
// pages from a real page server for an upstream 500, Wharf's 502 when the server is gone, and a 503 maintenance
// page while the container is unhealthy (allowEmptyServices keeps its router).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EmulatedStack } from './emulated.js';
import { get, routable, type TestGateway } from '@wharf/test/docker/harness.js';
import { closedPort, eventually, startServer, type Listening } from '@wharf/test-helpers';
import type { EngineEmulator } from '@wharf/test/docker/emulator.js';

const stack = new EmulatedStack('wharf-chain-errors-');
const servers: Listening[] = [];

/** The shop: /fail answers 500, anything else says what it received (path and X-Tag). */
function shop(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  if (req.url === '/fail') {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('stack trace the client must not see');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`shop ${req.url} tag=${String(req.headers['x-tag'])}`);
}

/** The error page server: /<status>.html. */
function pages(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const m = /^\/(\d{3})\.html$/.exec(req.url ?? '');
  res.writeHead(m ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
  res.end(m ? `<h1>${m[1]} page</h1>` : 'no such page');
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void, host: string): Promise<Listening> {
  const s = await startServer(handler, { host });
  servers.push(s);
  return s;
}

after(async () => {
  await stack.stop();
  await Promise.allSettled(servers.map((s) => s.close()));
});

describe('chain and errors across the file and docker providers', () => {
  let engine: EngineEmulator;
  let g: TestGateway;
  let sick: string;

  before(async () => {
    const pageServer = await serve(pages, '127.0.0.1');
    const file = join(stack.dir, 'dynamic.yml');
    writeFileSync(
      file,
      [
        'http:',
        '  middlewares:',
        '    strip-api: { stripPrefix: { prefixes: [/api] } }',
        '    maintenance: { errors: { status: ["500-599"], service: error-pages, query: "/{status}.html" } }',
        '  services:',
        `    error-pages: { loadBalancer: { servers: [{ url: "${pageServer.url}" }] } }`,
      ].join('\n'),
    );
    engine = await stack.emulator('engine');
    engine.addNetwork({ name: 'front', driver: 'bridge', scope: 'local' });
    const app = await serve(shop, '127.0.8.1');
    engine.runContainer({
      name: 'shop',
      network: { front: app.host },
      ports: [app.port],
      labels: {
        'wharf.http.routers.shop.rule': 'Host(`shop.test`)',
        'wharf.http.routers.shop.middlewares': 'secured',
        'wharf.http.middlewares.secured.chain.middlewares': 'strip-api@file,tag',
        'wharf.http.middlewares.tag.headers.customRequestHeaders.X-Tag': 'tagged',
        'wharf.http.middlewares.tag.headers.customResponseHeaders.X-Chain': 'yes',
        'wharf.http.routers.pages.rule': 'Host(`pages.test`)',
        'wharf.http.routers.pages.middlewares': 'maintenance@file',
        'wharf.http.routers.loop.rule': 'Host(`loop.test`)',
        'wharf.http.routers.loop.middlewares': 'loop-a',
        'wharf.http.middlewares.loop-a.chain.middlewares': 'tag,loop-b',
        'wharf.http.middlewares.loop-b.chain.middlewares': 'loop-a',
        'wharf.http.services.shop.loadbalancer.server.port': String(app.port),
      },
    });
    engine.runContainer({
      name: 'gone',
      network: { front: '127.0.8.2' },
      labels: {
        'wharf.http.routers.gone.rule': 'Host(`gone.test`)',
        'wharf.http.routers.gone.middlewares': 'maintenance@file',
        'wharf.http.services.gone.loadbalancer.server.port': String(await closedPort('127.0.8.2')),
      },
    });
    const sickApp = await serve(shop, '127.0.8.3');
    sick = engine.runContainer({
      name: 'sick',
      network: { front: sickApp.host },
      health: 'healthy',
      labels: {
        'wharf.http.routers.sick.rule': 'Host(`sick.test`)',
        'wharf.http.routers.sick.middlewares': 'maintenance@file',
        'wharf.http.services.sick.loadbalancer.server.port': String(sickApp.port),
      },
    });
    g = await stack.gateway([`--providers.file.filename=${file}`, `--providers.docker.endpoint=${engine.endpoint}`, '--providers.docker.allowEmptyServices=true']);
    await routable(g.port, 'shop.test');
  });

  it('a chain from a Docker label runs stripPrefix from the file provider, then its own headers middleware', async () => {
    const reply = await get(g.port, 'shop.test', '/api/items?id=1');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'shop /items?id=1 tag=tagged');
    assert.equal(reply.headers['x-chain'], 'yes');
    assert.deepEqual(g.gateway.info.middlewares['strip-api@file']!.usedBy, ['secured@docker']);
  });

  it('a chain cycle disables its router with the cycle in the API and the log; the other routers serve', async () => {
    const router = g.gateway.info.routers['loop@docker']!;
    assert.equal(router.status, 'disabled');
    assert.match(router.errors!.join('\n'), /middleware cycle: loop-a@docker → loop-b@docker → loop-a@docker/);
    assert.ok(g.lines.some((l) => l.level >= 50 && /router loop@docker: .*middleware cycle: loop-a@docker → loop-b@docker → loop-a@docker/.test(l.msg)), 'logged');
    assert.equal((await get(g.port, 'loop.test')).status, 404);
    assert.equal(g.gateway.info.routers['shop@docker']!.status, 'enabled');
    assert.equal((await get(g.port, 'shop.test', '/api/x')).status, 200);
  });

  it('errors@file on a Docker router: the upstream 500 becomes the 500 page', async () => {
    const reply = await get(g.port, 'pages.test', '/fail');
    assert.equal(reply.status, 500);
    assert.equal(reply.body, '<h1>500 page</h1>');
    assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal((await get(g.port, 'pages.test', '/ok')).body, 'shop /ok tag=undefined');
  });

  it("Wharf's 502 for a server that is gone becomes the 502 page", async () => {
    const reply = await get(g.port, 'gone.test');
    assert.equal(reply.status, 502);
    assert.equal(reply.body, '<h1>502 page</h1>');
  });

  it('an unhealthy container gets the 503 maintenance page, and serves again once healthy', async () => {
    assert.equal((await get(g.port, 'sick.test', '/')).body, 'shop / tag=undefined');
    engine.setHealth(sick, 'unhealthy');
    const down = await eventually(async () => {
      const r = await get(g.port, 'sick.test');
      return r.status === 503 && r;
    }, 'the maintenance page while the container is unhealthy', 5_000);
    assert.equal(down.body, '<h1>503 page</h1>');
    engine.setHealth(sick, 'healthy');
    await routable(g.port, 'sick.test', (body) => body.startsWith('shop'));
  });
});
