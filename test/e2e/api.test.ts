// API shapes (Traefik's): every endpoint, search, status filter, pagination, errors of broken elements, secrets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { definePlugin, Duration, Secret, Type, type EmbeddedGateway } from '@wharf/core';
import { startGateway } from 'wharf';
import { request, startBackend, type Backend, type Reply } from '@wharf/test-helpers';

const SECRET_TOKEN = 's3cr3t-t0ken';
const coreVersion = (createRequire(import.meta.url)('@wharf/core/package.json') as { version: string }).version;

/** A middleware with a secret option, a plain one and a duration: what the API must hide and format. */
const vault = definePlugin({
  name: 'vault',
  schema: Type.Object(
    { token: Secret({ description: 'never shown' }), realm: Type.String(), timeout: Duration({ default: '30s' }) },
    { additionalProperties: false },
  ),
  create: () => async function vault(_ctx, next) {
    await next();
  },
});

// API answers are read field by field in the assertions, which check their shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const ZERO = { total: 0, warnings: 0, errors: 0 };

async function get(port: number, path: string, options: { method?: string } = {}): Promise<Reply & { json: Json }> {
  const reply = await request(port, { path, method: options.method, headers: { host: '127.0.0.1' } });
  let json: unknown;
  try {
    json = reply.body === '' ? undefined : JSON.parse(reply.body);
  } catch {
    json = undefined;
  }
  return { ...reply, json: json as Json };
}

describe('api: endpoints and shapes (api.insecure on the traefik entrypoint)', () => {
  let shop: Backend;
  let blog: Backend;
  let gateway: EmbeddedGateway;
  let api: number;

  before(async () => {
    shop = await startBackend('shop');
    blog = await startBackend('blog');
    gateway = await startGateway({
      args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.traefik.address=127.0.0.1:0', '--api.insecure=true'],
      plugins: [vault],
      dynamic: {
        http: {
          routers: {
            shop: { rule: 'Host(`shop.test`)', entryPoints: ['web'], middlewares: ['guard', 'strip'], service: 'shop' },
            blog: { rule: 'PathPrefix(`/blog`)', entryPoints: ['web'], service: 'blog', priority: 5 },
            broken: { rule: 'Host(`broken.test`', entryPoints: ['web'], service: 'shop' },
            orphan: { rule: 'Path(`/orphan`)', entryPoints: ['web'], service: 'nowhere' },
            halfway: { rule: 'Path(`/halfway`)', entryPoints: ['web', 'nosuch'], service: 'blog' },
          },
          services: {
            shop: { loadBalancer: { servers: [{ url: shop.url }] } },
            blog: { loadBalancer: { servers: [{ url: blog.url }], passHostHeader: false } },
          },
          middlewares: {
            guard: { vault: { token: SECRET_TOKEN, realm: 'shop', timeout: '1500ms' } },
            strip: { stripPrefix: { prefixes: ['/shop'] } },
            typo: { stripPrefix: { prefixs: ['/x'] } },
          },
        },
      },
    });
    api = gateway.address('traefik').port;
  });

  after(async () => {
    await gateway.stop();
    await Promise.all([shop.close(), blog.close()]);
  });

  test('GET /api/overview: counts per kind (errors = disabled, warnings), features, providers', async () => {
    const { status, headers, json } = await get(api, '/api/overview');
    assert.equal(status, 200);
    assert.match(String(headers['content-type']), /^application\/json/);
    assert.deepEqual(json, {
      http: {
        routers: { total: 5, warnings: 1, errors: 2 },
        // shop, blog, and the internal api@internal and ping@internal when ping is on (it is not here)
        services: { total: 3, warnings: 0, errors: 0 },
        middlewares: { total: 3, warnings: 0, errors: 1 },
      },
      tcp: { routers: ZERO, services: ZERO, middlewares: ZERO },
      udp: { routers: ZERO, services: ZERO },
      features: { tracing: '', metrics: '', accessLog: false },
      providers: ['Inline'],
    });
  });

  test('GET /api/entrypoints[/{name}]: static configuration with durations as text, name last', async () => {
    const list = await get(api, '/api/entrypoints');
    assert.equal(list.status, 200);
    assert.equal(list.headers['x-next-page'], '1');
    assert.deepEqual(list.json.map((e: Json) => e.name), ['traefik', 'web']);
    const web = await get(api, '/api/entrypoints/web');
    assert.equal(web.status, 200);
    assert.equal(web.json.name, 'web');
    assert.equal(web.json.address, '127.0.0.1:0');
    assert.deepEqual(web.json.transport.respondingTimeouts, { readTimeout: '1m', writeTimeout: '0s', idleTimeout: '3m' });
    assert.deepEqual(web.json.forwardedHeaders, { trustedIPs: [], insecure: false });
    assert.equal(Object.keys(web.json).at(-1), 'name');
    const missing = await get(api, '/api/entrypoints/nope');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { message: 'entry point not found: nope' });
  });

  test('GET /api/http/routers: Traefik router items sorted by name', async () => {
    const { status, headers, json } = await get(api, '/api/http/routers');
    assert.equal(status, 200);
    assert.equal(headers['x-next-page'], '1');
    assert.deepEqual(json.map((r: Json) => r.name), ['blog@inline', 'broken@inline', 'halfway@inline', 'orphan@inline', 'shop@inline']);
    assert.deepEqual(json[4], {
      entryPoints: ['web'],
      middlewares: ['guard@inline', 'strip@inline'],
      service: 'shop@inline',
      rule: 'Host(`shop.test`)',
      priority: 'Host(`shop.test`)'.length,
      status: 'enabled',
      using: ['web'],
      name: 'shop@inline',
      provider: 'inline',
    });
    assert.equal(json[0].priority, 5);
  });

  test('GET /api/http/routers/{name}: a broken router carries status and the reason', async () => {
    const broken = await get(api, '/api/http/routers/broken@inline');
    assert.equal(broken.status, 200);
    assert.equal(broken.json.status, 'disabled');
    assert.equal(broken.json.name, 'broken@inline');
    assert.equal(broken.json.provider, 'inline');
    assert.equal(broken.json.rule, 'Host(`broken.test`');
    assert.equal(broken.json.error.length, 1);
    assert.match(broken.json.error[0], /invalid rule/);
    assert.equal(broken.json.using, undefined);

    const orphan = await get(api, `/api/http/routers/${encodeURIComponent('orphan@inline')}`);
    assert.equal(orphan.json.status, 'disabled');
    assert.deepEqual(orphan.json.error, ["service 'nowhere@inline' does not exist"]);

    const halfway = await get(api, '/api/http/routers/halfway@inline');
    assert.equal(halfway.json.status, 'warning');
    assert.deepEqual(halfway.json.using, ['web']);
    assert.match(halfway.json.error[0], /entrypoint 'nosuch' does not exist/);

    const missing = await get(api, '/api/http/routers/ghost@inline');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { message: 'router not found: ghost@inline' });
  });

  test('GET /api/http/services[/{name}]: configuration, serverStatus, usedBy, lowercase type; internal services listed', async () => {
    const list = await get(api, '/api/http/services');
    assert.deepEqual(list.json.map((s: Json) => s.name), ['api@internal', 'blog@inline', 'shop@inline']);
    assert.deepEqual(list.json[0], { status: 'enabled', name: 'api@internal', provider: 'internal' });
    const one = await get(api, '/api/http/services/blog@inline');
    assert.deepEqual(one.json, {
      loadBalancer: { servers: [{ url: blog.url }], passHostHeader: false },
      status: 'enabled',
      usedBy: ['blog@inline', 'halfway@inline'],
      serverStatus: { [blog.url]: 'UP' },
      name: 'blog@inline',
      provider: 'inline',
      type: 'loadbalancer',
    });
    const missing = await get(api, '/api/http/services/nowhere@inline');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { message: 'service not found: nowhere@inline' });
  });

  test('GET /api/http/middlewares[/{name}]: options by type, secrets hidden, durations as text, decode errors name the field', async () => {
    const guard = await get(api, '/api/http/middlewares/guard@inline');
    assert.deepEqual(guard.json, {
      vault: { token: 'xxxx', realm: 'shop', timeout: '1.5s' },
      status: 'enabled',
      usedBy: ['shop@inline'],
      name: 'guard@inline',
      provider: 'inline',
      type: 'vault',
    });
    const typo = await get(api, '/api/http/middlewares/typo@inline');
    assert.equal(typo.json.status, 'disabled');
    assert.equal(typo.json.type, undefined);
    assert.match(typo.json.error.join('\n'), /http\.middlewares\.typo\.stripPrefix\.prefixs: unknown field 'prefixs' \(did you mean 'prefixes'\?\)/);
    const list = await get(api, '/api/http/middlewares');
    assert.deepEqual(list.json.map((m: Json) => [m.name, m.type ?? null]), [['guard@inline', 'vault'], ['strip@inline', 'stripprefix'], ['typo@inline', null]]);
    const missing = await get(api, '/api/http/middlewares/ghost@inline');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { message: 'middleware not found: ghost@inline' });
  });

  test('no endpoint returns a secret', async () => {
    for (const path of ['/api/rawdata', '/api/http/middlewares', '/api/http/middlewares/guard@inline', '/api/http/routers', '/api/overview', '/api/entrypoints']) {
      const { status, body } = await get(api, path);
      assert.equal(status, 200, path);
      assert.ok(!body.includes(SECRET_TOKEN), `${path} leaks the secret`);
    }
  });

  test('?search= matches names case-insensitively (and router rules); ?status= filters; bad values are 400', async () => {
    const names = async (path: string) => ((await get(api, path)).json as Json[]).map((e) => e.name);
    assert.deepEqual(await names('/api/http/routers?search=SHOP'), ['shop@inline']);
    assert.deepEqual(await names('/api/http/routers?search=' + encodeURIComponent('/blog')), ['blog@inline'], 'router rules are searched');
    assert.deepEqual(await names('/api/http/routers?status=disabled'), ['broken@inline', 'orphan@inline']);
    assert.deepEqual(await names('/api/http/routers?status=warning'), ['halfway@inline']);
    assert.deepEqual(await names('/api/http/routers?status=enabled&search=b'), ['blog@inline']);
    assert.deepEqual(await names('/api/http/routers?serviceName=blog@inline'), ['blog@inline', 'halfway@inline']);
    assert.deepEqual(await names('/api/http/routers?middlewareName=strip@inline'), ['shop@inline']);
    assert.deepEqual(await names('/api/http/services?search=internal'), ['api@internal']);
    assert.deepEqual(await names('/api/http/services?status=disabled'), []);
    assert.deepEqual(await names('/api/http/middlewares?status=disabled'), ['typo@inline']);
    assert.deepEqual(await names('/api/http/middlewares?search=ST'), ['strip@inline']);
    assert.deepEqual(await names('/api/entrypoints?search=tra'), ['traefik']);
    const bad = await get(api, '/api/http/routers?status=broken');
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /status/);
  });

  test('pagination: per_page, page and X-Next-Page (1 on the last page); a page past the end is 400', async () => {
    const pages: string[][] = [];
    const nexts: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const reply = await get(api, `/api/http/routers?per_page=2&page=${page}`);
      assert.equal(reply.status, 200);
      pages.push((reply.json as Json[]).map((r) => r.name));
      nexts.push(String(reply.headers['x-next-page']));
    }
    assert.deepEqual(pages, [['blog@inline', 'broken@inline'], ['halfway@inline', 'orphan@inline'], ['shop@inline']]);
    assert.deepEqual(nexts, ['2', '3', '1']);
    const filtered = await get(api, '/api/http/routers?status=disabled&per_page=1');
    assert.deepEqual(filtered.json.map((r: Json) => r.name), ['broken@inline']);
    assert.equal(filtered.headers['x-next-page'], '2');
    for (const query of ['per_page=2&page=4', 'page=0', 'per_page=x']) {
      const reply = await get(api, `/api/http/routers?${query}`);
      assert.equal(reply.status, 400, query);
      assert.match(reply.json.message, /^invalid request/, query);
    }
    const services = await get(api, '/api/http/services?per_page=1&page=3');
    assert.deepEqual(services.json.map((s: Json) => s.name), ['shop@inline']);
    assert.equal(services.headers['x-next-page'], '1');
  });

  test('GET /api/rawdata: routers, middlewares and services by name, without name/provider inside', async () => {
    const { status, json } = await get(api, '/api/rawdata');
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(json), ['routers', 'middlewares', 'services']);
    assert.deepEqual(Object.keys(json.routers), ['blog@inline', 'broken@inline', 'halfway@inline', 'orphan@inline', 'shop@inline']);
    assert.deepEqual(json.routers['shop@inline'], {
      entryPoints: ['web'],
      middlewares: ['guard@inline', 'strip@inline'],
      service: 'shop@inline',
      rule: 'Host(`shop.test`)',
      priority: 17,
      status: 'enabled',
      using: ['web'],
    });
    assert.equal(json.routers['broken@inline'].status, 'disabled');
    assert.equal(json.middlewares['guard@inline'].vault.token, 'xxxx');
    assert.deepEqual(json.services['shop@inline'].serverStatus, { [shop.url]: 'UP' });
  });

  test('GET /api/version', async () => {
    const { status, json } = await get(api, '/api/version');
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(json), ['Version', 'Codename', 'startDate']);
    assert.equal(json.Version, coreVersion);
    assert.equal(json.Codename, 'wharf');
    assert.ok(!Number.isNaN(Date.parse(json.startDate)));
  });

  test('unknown API paths are 404 JSON, other methods 405; the dashboard is served with a CSP', async () => {
    const unknown = await get(api, '/api/nothing/here');
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.message, /not found/);
    const post = await get(api, '/api/overview', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');

    const redirect = await get(api, '/dashboard');
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.location, '/dashboard/');
    const root = await get(api, '/');
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, '/dashboard/');
    const page = await get(api, '/dashboard/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    assert.match(page.body, /<script type="module" src="app.js">/);
    const script = await get(api, '/dashboard/app.js');
    assert.equal(script.status, 200);
    assert.match(String(script.headers['content-type']), /^text\/javascript/);
    assert.equal((await get(api, '/dashboard/app.css')).status, 200);
    assert.equal((await get(api, '/dashboard/../package.json')).status, 404);
    assert.equal((await get(api, '/dashboard/nope.js')).status, 404);
  });

  test('the API is only on the traefik entrypoint: /api on web is routed like any path', async () => {
    const web = gateway.address('web').port;
    const reply = await request(web, { path: '/api/overview', headers: { host: 'elsewhere.test' } });
    assert.equal(reply.status, 404);
    assert.equal(reply.body, '404 page not found\n');
  });
});
