// PluginHost.routers.instrument: the hooks wrap a router's chain, each middleware it names and its service, with
// the router's facts; the wrapped parts run in chain order, and a generation built later is wrapped too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, startBackend } from '@wharf/test-helpers';
import { definePlugin, type InstrumentedRouter } from '../plugin/contract.js';
import { Type } from '../config/schema.js';
import { startGateway } from '../embed.js';
import type { Middleware } from '../context.js';

const pass = definePlugin({
  name: 'pass',
  schema: Type.Object({}),
  create: () => (_ctx, next) => next(),
});

/** Records what each hook was given and, per request, the order the wrapped parts ran in. */
function recorder() {
  const built: string[] = [];
  const ran: string[] = [];
  const around = (label: string, handler: Middleware): Middleware => async (ctx, next) => {
    ran.push(`${label}>`);
    await handler(ctx, next);
    ran.push(`<${label}`);
  };
  const describe = (r: InstrumentedRouter) => `${r.name}/${r.entrypoint}/${r.service}/${r.rule}/${JSON.stringify(r.observability ?? {})}`;
  const plugin = definePlugin({
    name: 'recorder',
    schema: Type.Object({}),
    setup(_config, host) {
      host.routers.instrument({
        router(router, chain) {
          built.push(`router ${describe(router)}`);
          return around('router', chain);
        },
        middleware(mw, router, handler) {
          built.push(`middleware ${mw.name}:${mw.type} of ${router.name}`);
          return around(mw.name, handler);
        },
        service(service, router, handler) {
          built.push(`service ${service.name} internal=${service.internal} of ${router.name}`);
          return around('service', handler);
        },
      });
    },
  });
  return { plugin, built, ran };
}

test('instrument: every part of a router’s chain is wrapped, in chain order, with the router’s facts', async () => {
  const backend = await startBackend('b');
  const { plugin, built, ran } = recorder();
  const gateway = await startGateway({
    plugins: [pass, plugin],
    args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.web.http.middlewares=first'],
    dynamic: {
      http: {
        routers: { r: { rule: 'PathPrefix(`/`)', service: 'svc', middlewares: ['second'], observability: { tracing: false } } },
        middlewares: { first: { pass: {} }, second: { pass: {} } },
        services: { svc: { loadBalancer: { servers: [{ url: backend.url }] } } },
      },
    },
  });
  try {
    assert.deepEqual(built, [
      'middleware first@inline:pass of r@inline',
      'middleware second@inline:pass of r@inline',
      'service svc@inline internal=false of r@inline',
      'router r@inline/web/svc@inline/PathPrefix(`/`)/{"tracing":false}',
    ]);
    assert.equal((await request(gateway.address('web').port, { path: '/x' })).status, 200);
    assert.deepEqual(ran, ['router>', 'first@inline>', 'second@inline>', 'service>', '<service', '<second@inline', '<first@inline', '<router']);
    built.length = 0;
    gateway.configure({
      http: {
        routers: { r: { rule: 'Path(`/y`)', service: 'svc' } },
        middlewares: { first: { pass: {} } },
        services: { svc: { loadBalancer: { servers: [{ url: backend.url }] } } },
      },
    });
    assert.deepEqual(built, ['middleware first@inline:pass of r@inline', 'service svc@inline internal=false of r@inline', 'router r@inline/web/svc@inline/Path(`/y`)/{}'], 'a new generation is wrapped again');
  } finally {
    await gateway.stop();
    await backend.close();
  }
});
