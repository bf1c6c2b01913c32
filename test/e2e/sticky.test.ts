// Sticky sessions: loadBalancer.sticky.cookie pins a client to one server, from files and from labels alike.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decode, dynamicSchema, flatToTree, PluginRegistry } from '@wharf/core/config';
import { json, request, startBackends, type Backend } from '@wharf/test-helpers';
import { startTestGateway, type TestGateway } from './gateway.js';

let backends: Backend[];
let gw: TestGateway;

function config(cookie: Record<string, unknown>) {
  return {
    http: {
      routers: { r: { rule: 'PathPrefix(`/`)', service: 's' } },
      services: { s: { loadBalancer: { servers: backends.map((b) => ({ url: b.url })), sticky: { cookie } } } },
    },
  };
}

before(async () => {
  backends = await startBackends('one', 'two', 'three');
  gw = await startTestGateway(config({ name: 'pin', httpOnly: true, secure: true, sameSite: 'lax', maxAge: 60 }));
});
after(async () => {
  await gw.stop();
  for (const b of backends) await b.close();
});

test('the first answer sets the cookie; requests carrying it stay on that server', async () => {
  const first = await request(gw.port, { headers: { host: 'a' } });
  const setCookie = first.headers['set-cookie']?.[0] ?? '';
  assert.match(setCookie, /^pin=[0-9a-f]{16}; Path=\/; Max-Age=60; HttpOnly; Secure; SameSite=Lax$/);
  assert.ok(!setCookie.includes('127.0.0.1'), 'the cookie does not disclose server addresses');
  const server = json<{ name: string }>(first).name;
  const cookie = setCookie.split(';')[0]!;
  for (let i = 0; i < 9; i++) {
    const again = await request(gw.port, { headers: { host: 'a', cookie: `other=1; ${cookie}` } });
    assert.equal(json<{ name: string }>(again).name, server);
    assert.equal(again.headers['set-cookie'], undefined, 'no new cookie while the pinned server answers');
  }
  const fresh = new Set<string>();
  for (let i = 0; i < 6; i++) fresh.add(json<{ name: string }>(await request(gw.port, { headers: { host: 'a' } })).name);
  assert.equal(fresh.size, 3, 'clients without the cookie are still balanced');
});

test('a cookie naming a server that left rotation is replaced by a live one', async () => {
  const first = await request(gw.port, { headers: { host: 'a' } });
  const cookie = (first.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
  const pinned = json<{ name: string }>(first).name;
  const target = backends.find((b) => b.name === pinned)!;
  gw.gateway.health.set('s@inline', target.url, false, 'test');
  try {
    const moved = await request(gw.port, { headers: { host: 'a', cookie } });
    assert.notEqual(json<{ name: string }>(moved).name, pinned);
    assert.match(moved.headers['set-cookie']?.[0] ?? '', /^pin=[0-9a-f]{16};/);
    assert.notEqual(moved.headers['set-cookie']![0]!.split(';')[0], cookie);
  } finally {
    gw.gateway.health.set('s@inline', target.url, true);
  }
});

test('sticky.cookie from labels decodes like the file form; bare sticky.cookie=true uses a default name', async () => {
  const schema = dynamicSchema(new PluginRegistry());
  const labels = flatToTree(Object.entries({
    'http.services.s.loadbalancer.server.url': 'http://127.0.0.1:1',
    'http.services.s.loadbalancer.sticky.cookie.name': 'pin',
    'http.services.s.loadbalancer.sticky.cookie.httponly': 'true',
    'http.services.s.loadbalancer.sticky.cookie.samesite': 'LAX',
    'http.services.s.loadbalancer.sticky.cookie.maxage': '60',
  }).map(([k, v]) => [k.replace('server.url', 'servers[0].url'), v] as [string, string]));
  const { value, issues, disabled } = decode<{ http: { services: Record<string, { loadBalancer: { sticky: unknown } }> } }>(schema, labels);
  assert.deepEqual(issues, []);
  assert.deepEqual([...disabled.keys()], []);
  assert.deepEqual(value.http.services.s!.loadBalancer.sticky, { cookie: { name: 'pin', httpOnly: true, sameSite: 'lax', maxAge: 60 } });

  gw.gateway.configure(config({}));
  const res = await request(gw.port, { headers: { host: 'a' } });
  assert.match(res.headers['set-cookie']?.[0] ?? '', /^_[0-9a-f]{6}=[0-9a-f]{16}; Path=\//);
  gw.gateway.configure(config({ name: 'pin', httpOnly: true, secure: true, sameSite: 'lax', maxAge: 60 }));
});
