// Where the API is served: nowhere unless configured; api.insecure on `traefik` only (with a warning);
// secured mode through a user router on api@internal behind the user's own middleware.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { definePlugin, Type, type EmbeddedGateway } from '@wharf/core';
import { decodeStatic, PluginRegistry, readStaticSources } from '@wharf/core/config';
import { startGateway } from 'wharf';
import api from '@wharf/plugin-api';
import { request, spawnWharf } from '@wharf/test-helpers';

const API_PATHS = ['/api/overview', '/api/version', '/api/rawdata', '/api/http/routers', '/api/entrypoints', '/api/events', '/dashboard/', '/dashboard'];

/** Every entrypoint of the gateway answers 404 (no router) for every API and dashboard path. */
async function assertNoApi(gateway: EmbeddedGateway, entrypoints: string[]): Promise<void> {
  for (const ep of entrypoints) {
    const port = gateway.address(ep).port;
    for (const path of API_PATHS) {
      const reply = await request(port, { path, headers: { host: '127.0.0.1' } });
      assert.equal(reply.status, 404, `${ep} ${path}`);
      assert.equal(reply.body, '404 page not found\n', `${ep} ${path}`);
    }
  }
}

/** A stand-in for basicAuth: 401 unless the request carries the token. */
const requireToken = definePlugin({
  name: 'requireToken',
  schema: Type.Object({ token: Type.String() }, { additionalProperties: false }),
  create: (options) => async function requireToken(ctx, next) {
    if (ctx.get('authorization') !== `Bearer ${options.token}`) {
      ctx.status = 401;
      ctx.body = 'unauthorized\n';
      return;
    }
    await next();
  },
});

describe('api: not exposed unless configured', () => {
  test('without api.insecure (the default) no entrypoint serves the API or the dashboard', async () => {
    const gateway = await startGateway({
      args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.traefik.address=127.0.0.1:0', '--api', '--api.dashboard=true'],
    });
    try {
      await assertNoApi(gateway, ['web', 'traefik']);
      assert.equal((await request(gateway.address('traefik').port, { path: '/', headers: { host: 'x' } })).status, 404, 'no redirect to the dashboard either');
    } finally {
      await gateway.stop();
    }
  });

  test('without an api section there is no API and no api@internal service', async () => {
    const gateway = await startGateway({
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: { http: { routers: { dash: { rule: 'PathPrefix(`/api`)', service: 'api@internal' } } } },
    });
    try {
      await assertNoApi(gateway, ['web']);
      assert.equal(gateway.info.routers['dash@inline']!.status, 'disabled');
      assert.deepEqual(gateway.info.routers['dash@inline']!.errors, ["service 'api@internal' does not exist"]);
    } finally {
      await gateway.stop();
    }
  });

  test('api.insecure creates the traefik entrypoint on :8080 when it is missing, as Traefik does; --api alone does not', () => {
    const registry = new PluginRegistry().register(api);
    const decode = (...args: string[]) => decodeStatic(readStaticSources(args, {}), registry);
    const insecure = decode('--entrypoints.web.address=:80', '--api.insecure=true');
    assert.equal(insecure.entryPoints.traefik?.address, ':8080');
    assert.deepEqual((insecure as Record<string, unknown>).api, { insecure: true, dashboard: true, basePath: '/' });
    const secure = decode('--entrypoints.web.address=:80', '--api');
    assert.deepEqual(Object.keys(secure.entryPoints), ['web']);
    assert.equal((secure.api as { insecure: boolean }).insecure, false, 'api.insecure is off by default');
    const declared = decode('--entrypoints.traefik.address=127.0.0.1:9999', '--api.insecure');
    assert.equal(declared.entryPoints.traefik?.address, '127.0.0.1:9999', 'a declared traefik entrypoint is kept');
  });

  test('api.insecure serves on the traefik entrypoint only, and the wharf command logs a warning', async () => {
    const wharf = spawnWharf(['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.traefik.address=127.0.0.1:0', '--api.insecure=true']);
    try {
      await wharf.waitFor(/api\.insecure: the API and dashboard are served WITHOUT authentication on entrypoint traefik/);
      const traefik = await wharf.port('traefik');
      const web = await wharf.port('web');
      const version = await request(traefik, { path: '/api/version' });
      assert.equal(version.status, 200);
      assert.equal(JSON.parse(version.body).Codename, 'wharf');
      assert.equal((await request(traefik, { path: '/dashboard/' })).status, 200);
      assert.equal((await request(web, { path: '/api/version' })).status, 404);
      assert.equal((await request(web, { path: '/dashboard/' })).status, 404);
    } finally {
      await wharf.stop();
    }
  });
});

describe('api: secured mode, api@internal behind a user router and middleware', () => {
  test('the router decides where, the middleware who; other hosts and paths are not the API', async () => {
    const gateway = await startGateway({
      args: ['--entrypoints.web.address=127.0.0.1:0', '--api'],
      plugins: [requireToken],
      dynamic: {
        http: {
          routers: {
            dash: { rule: 'Host(`gw.example`) && (PathPrefix(`/api`) || PathPrefix(`/dashboard`))', service: 'api@internal', middlewares: ['auth'] },
          },
          middlewares: { auth: { requireToken: { token: 'letmein' } } },
        },
      },
    });
    try {
      const web = gateway.address('web').port;
      const call = (path: string, host = 'gw.example', token?: string) =>
        request(web, { path, headers: { host, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
      assert.equal((await call('/api/overview')).status, 401);
      assert.equal((await call('/dashboard/')).status, 401);
      assert.equal((await call('/api/overview', 'gw.example', 'wrong')).status, 401);
      const overview = await call('/api/overview', 'gw.example', 'letmein');
      assert.equal(overview.status, 200);
      assert.deepEqual(JSON.parse(overview.body).http.routers, { total: 1, warnings: 0, errors: 0 });
      const services = JSON.parse((await call('/api/http/services/api@internal', 'gw.example', 'letmein')).body);
      assert.deepEqual(services, { status: 'enabled', usedBy: ['dash@inline'], name: 'api@internal', provider: 'internal' });
      const page = await call('/dashboard/', 'gw.example', 'letmein');
      assert.equal(page.status, 200);
      assert.match(page.body, /Wharf dashboard/);
      const redirect = await call('/dashboard', 'gw.example', 'letmein');
      assert.equal(redirect.status, 302);
      assert.equal(redirect.headers.location, '/dashboard/');
      assert.equal((await call('/api/overview', 'other.example', 'letmein')).status, 404, 'another host is not routed to the API');
      assert.equal((await call('/', 'gw.example', 'letmein')).status, 404, 'only /api and /dashboard are routed');
    } finally {
      await gateway.stop();
    }
  });

  test('api.basePath moves /api and /dashboard under a prefix', async () => {
    const gateway = await startGateway({
      args: ['--entrypoints.traefik.address=127.0.0.1:0', '--api.insecure', '--api.basePath=/gw'],
    });
    try {
      const port = gateway.address('traefik').port;
      assert.equal((await request(port, { path: '/gw/api/version' })).status, 200);
      assert.equal((await request(port, { path: '/gw/dashboard/' })).status, 200);
      const redirect = await request(port, { path: '/gw/dashboard' });
      assert.equal(redirect.headers.location, '/gw/dashboard/');
      assert.equal((await request(port, { path: '/api/version' })).status, 404);
    } finally {
      await gateway.stop();
    }
  });

  test('api.dashboard=false serves the API without the dashboard', async () => {
    const gateway = await startGateway({ args: ['--entrypoints.traefik.address=127.0.0.1:0', '--api.insecure', '--api.dashboard=false'] });
    try {
      const port = gateway.address('traefik').port;
      assert.equal((await request(port, { path: '/api/overview' })).status, 200);
      assert.equal((await request(port, { path: '/dashboard/' })).status, 404);
      assert.equal((await request(port, { path: '/' })).status, 404);
    } finally {
      await gateway.stop();
    }
  });
});
