// Traefik v3's rule semantics and v2's syntax through a real gateway: wildcard hosts, the routing path's decoding,
// `ruleSyntax: v2` per router and `core.defaultRuleSyntax`, and a v2-only rule on a v3 router disabled alone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, httpConfig, type TestGateway } from './gateway.js';
import { startBackend, get, json, type Backend } from '@wharf/test-helpers';

describe('rule syntax through the gateway', () => {
  let backend: Backend;
  let v3: TestGateway;
  let v2: TestGateway;

  before(async () => {
    backend = await startBackend('rules');
    v3 = await startTestGateway(httpConfig({
      wildcard: { rule: 'Host(`*.example.com`)', service: 'b' },
      spaced: { rule: 'Host(`paths.test`) && PathPrefix(`/foo bar`)', service: 'b' },
      legacy: { rule: 'Host(`legacy.test`) && PathPrefix(`/users/{id:[0-9]+}`)', ruleSyntax: 'v2', service: 'b' },
      broken: { rule: 'Host(`a.test`, `b.test`)', service: 'b' },
      anyHost: { rule: 'Host(`*`) && PathPrefix(`/any`)', service: 'b' },
    }, { b: [backend.url] }));
    v2 = await startTestGateway(httpConfig({
      list: { rule: 'Host(`a.test`, `b.test`)', service: 'b' },
      modern: { rule: 'Host(`c.test`) && PathRegexp(`^/v[0-9]+/`)', ruleSyntax: 'v3', service: 'b' },
    }, { b: [backend.url] }), { args: ['--core.defaultRuleSyntax=v2'] });
  });

  after(async () => {
    await v3?.stop();
    await v2?.stop();
    await backend?.close();
  });

  test('Host(`*.example.com`) takes one label in front, no more and not the apex', async () => {
    assert.equal((await get(v3.port, '/', 'api.example.com')).status, 200);
    assert.equal((await get(v3.port, '/', 'a.b.example.com')).status, 404);
    assert.equal((await get(v3.port, '/', 'example.com')).status, 404);
    assert.equal((await get(v3.port, '/any', 'whatever.test')).status, 200);
  });

  test('paths are matched decoded, except reserved characters', async () => {
    const spaced = await get(v3.port, '/foo%20bar/x', 'paths.test');
    assert.equal(spaced.status, 200);
    assert.equal(json(spaced).url, '/foo%20bar/x', 'the service receives the path still encoded');
    assert.equal((await get(v3.port, '/foo%2Fbar', 'paths.test')).status, 404);
  });

  test('a router with ruleSyntax v2 reads gorilla/mux templates', async () => {
    assert.equal((await get(v3.port, '/users/42/profile', 'legacy.test')).status, 200);
    assert.equal((await get(v3.port, '/users/me', 'legacy.test')).status, 404);
  });

  test('a v2 list under v3 disables that router alone, saying how to write it', async () => {
    assert.equal((await get(v3.port, '/', 'a.test')).status, 404);
    const routers = v3.gateway.info.routers;
    const broken = routers['broken@inline'];
    assert.equal(broken?.status, 'disabled');
    assert.match(broken?.errors?.join() ?? '', /Host takes exactly 1 argument, got 2; .*ruleSyntax/);
    assert.equal(routers['wildcard@inline']?.status, 'enabled');
  });

  test('core.defaultRuleSyntax=v2 applies to routers without their own ruleSyntax', async () => {
    const reply = await get(v2.port, '/', 'b.test');
    assert.equal(reply.status, 200);
    assert.equal(json(reply).name, 'rules');
    assert.equal((await get(v2.port, '/v2/items', 'c.test')).status, 200);
    assert.equal((await get(v2.port, '/items', 'c.test')).status, 404);
  });
});
