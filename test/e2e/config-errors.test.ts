// End-to-end configuration errors: each bad element is disabled with an error naming it, the rest keeps serving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { definePlugin, startGateway as startCoreGateway, Type, type RouterInfo, type WharfContext, type Next } from '@wharf/core';
import stripPrefix from '@wharf/plugin-stripprefix';
import { get, startBackend, type Backend } from '@wharf/test-helpers';
import { startTestGateway, type TestGateway } from './gateway.js';

/** Stands in for a rate limiter so a typo of its name has something to be suggested. */
const rateLimit = definePlugin({
  name: 'rateLimit',
  schema: Type.Object({ average: Type.Integer({ minimum: 0, default: 0 }) }, { additionalProperties: false }),
  create: () => async function rateLimit(_ctx: WharfContext, next: Next) {
    await next();
  },
});

/** A plugin whose create always fails, as a plugin with a broken dependency would. */
const exploding = definePlugin({
  name: 'exploding',
  schema: Type.Object({}, { additionalProperties: false }),
  create() {
    throw new Error('cannot reach the license server');
  },
});

describe('configuration errors are isolated', () => {
  let backend: Backend;
  let gw: TestGateway;

  before(async () => {
    backend = await startBackend('ok');
    const route = (path: string, extra: Record<string, unknown> = {}) => ({ rule: `PathPrefix(\`${path}\`)`, service: 'ok', ...extra });
    gw = await startTestGateway(
      {
        http: {
          routers: {
            good: route('/good', { middlewares: ['fine'] }),
            badRule: { rule: 'PathPrefix(`/bad-rule`', service: 'ok' },
            badPriority: route('/bad-priority', { priority: 'high' }),
            noService: { rule: 'PathPrefix(`/no-service`)', service: 'missing' },
            typo: route('/typo', { middlewares: ['limit'] }),
            badOptions: route('/bad-options', { middlewares: ['strip'] }),
            boomA: route('/boom-a', { middlewares: ['boom'] }),
            boomB: route('/boom-b', { middlewares: ['fine', 'boom'] }),
          },
          services: { ok: { loadBalancer: { servers: [{ url: backend.url }] } } },
          middlewares: {
            fine: { rateLimit: { average: 100 } },
            limit: { ratelimt: { average: 100 } },
            strip: { stripPrefix: { prefixes: ['no-leading-slash'] } },
            boom: { exploding: {} },
          },
        },
      },
      { builtins: false, plugins: [stripPrefix, rateLimit, exploding] },
    );
  });

  after(async () => {
    await gw.stop();
    await backend.close();
  });

  function router(name: string): RouterInfo {
    const info = gw.gateway.info.routers[`${name}@inline`];
    assert.ok(info, `router ${name}@inline is listed`);
    return info;
  }

  function errorsOf(kind: 'routers' | 'middlewares', name: string): string {
    const info = gw.gateway.info[kind][`${name}@inline`];
    assert.ok(info, `${kind} ${name}@inline is listed`);
    assert.equal(info.status, 'disabled', `${name}@inline should be disabled`);
    assert.equal(info.provider, 'inline');
    return (info.errors ?? []).join('\n');
  }

  test('the good router keeps serving', async () => {
    assert.equal((await get(gw.port, '/good')).status, 200);
    assert.equal(router('good').status, 'enabled');
  });

  test('a router with a bad rule is disabled with the rule in the error', async () => {
    assert.match(errorsOf('routers', 'badRule'), /invalid rule "PathPrefix\(`\/bad-rule`"/);
    assert.equal((await get(gw.port, '/bad-rule')).status, 404);
  });

  test('a router with a field of the wrong type is disabled with the field named', async () => {
    assert.match(errorsOf('routers', 'badPriority'), /http\.routers\.badPriority\.priority: expected a whole number \(got "high"\)/);
    assert.equal((await get(gw.port, '/bad-priority')).status, 404);
  });

  test('a router whose service does not exist is disabled naming the service', async () => {
    assert.match(errorsOf('routers', 'noService'), /service 'missing@inline' does not exist/);
    assert.equal((await get(gw.port, '/no-service')).status, 404);
  });

  test('an unknown middleware type is disabled with a suggestion, and so is its router', async () => {
    assert.match(errorsOf('middlewares', 'limit'), /http\.middlewares\.limit\.ratelimt: unknown field 'ratelimt' \(did you mean 'rateLimit'\?\)/);
    assert.match(errorsOf('routers', 'typo'), /middleware 'limit@inline' is disabled/);
    assert.equal((await get(gw.port, '/typo')).status, 404);
  });

  test('middleware options that fail the plugin schema name the field', async () => {
    assert.match(errorsOf('middlewares', 'strip'), /http\.middlewares\.strip\.stripPrefix\.prefixes\[0\]: must match pattern/);
    assert.match(errorsOf('routers', 'badOptions'), /middleware 'strip@inline' is disabled/);
    assert.equal((await get(gw.port, '/bad-options')).status, 404);
  });

  test('a plugin whose create throws disables only the routers that use it', async () => {
    assert.match(errorsOf('middlewares', 'boom'), /cannot reach the license server/);
    for (const name of ['boomA', 'boomB']) {
      assert.match(errorsOf('routers', name), /middleware 'boom@inline' is disabled: cannot reach the license server/);
    }
    assert.equal((await get(gw.port, '/boom-a')).status, 404);
    assert.equal((await get(gw.port, '/boom-b')).status, 404);
    // The other middleware of boomB is fine and still serves the good router.
    assert.equal(gw.gateway.info.middlewares['fine@inline']?.status, 'enabled');
    assert.equal((await get(gw.port, '/good')).status, 200);
  });
});

test('a router with tls where no plugin terminates TLS is disabled with an error saying how to fix it', async () => {
  // The core alone, without the tls plugin: nothing would answer the router's TLS connections.
  const gw = await startCoreGateway({
    args: ['--entrypoints.web.address=127.0.0.1:0'],
    dynamic: {
      http: {
        routers: { secure: { rule: 'Host(`s.test`)', service: 's', tls: {} }, plain: { rule: 'Host(`p.test`)', service: 's' } },
        services: { s: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9' }] } } },
      },
    },
  });
  try {
    const info = gw.info.routers['secure@inline']!;
    assert.equal(info.status, 'disabled');
    assert.match(info.errors!.join(), /has tls set, but no plugin terminates TLS on entrypoint web \(register the tls plugin\)/);
    assert.equal(gw.info.routers['plain@inline']!.status, 'enabled');
  } finally {
    await gw.stop();
  }
});
