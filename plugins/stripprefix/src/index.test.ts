import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '@wharf/core';
import { startServer, type Listening } from '@wharf/test-helpers';
import stripPrefix from './index.js';

/** A backend that answers with the path and the X-Forwarded-Prefix it received. */
function echoBackend(): Promise<Listening> {
  return startServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, prefix: req.headers['x-forwarded-prefix'] ?? null }));
  });
}

const backend = await echoBackend();
const gateway = await startGateway({
  plugins: [stripPrefix],
  args: ['--entrypoints.web.address=127.0.0.1:0'],
  dynamic: {
    http: {
      routers: { r: { rule: 'PathPrefix(`/`)', middlewares: ['strip'], service: 'b' } },
      middlewares: { strip: { stripPrefix: { prefixes: ['/api', '/v1/'] } } },
      services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } },
    },
  },
});
after(async () => {
  await gateway.stop();
  await backend.close();
});
const base = `http://127.0.0.1:${gateway.address('web').port}`;

test('stripPrefix removes the first matching prefix and reports it', async (t) => {
  const cases = [
    { desc: 'prefix with sub-path', path: '/api/users?x=1', expected: { url: '/users?x=1', prefix: '/api' } },
    { desc: 'exact prefix becomes /', path: '/api', expected: { url: '/', prefix: '/api' } },
    { desc: 'textual prefix match as Traefik does', path: '/apiv2', expected: { url: '/v2', prefix: '/api' } },
    { desc: 'prefix ending in slash keeps a leading slash', path: '/v1/items', expected: { url: '/items', prefix: '/v1/' } },
    { desc: 'no match leaves the path alone', path: '/other', expected: { url: '/other', prefix: null } },
  ];
  for (const c of cases) {
    await t.test(c.desc, async () => {
      const res = await fetch(base + c.path);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), c.expected);
    });
  }
});

test('stripPrefix options are validated: a prefix must start with /', () => {
  const problems = gateway.configure({
    http: {
      routers: { r: { rule: 'PathPrefix(`/`)', middlewares: ['bad'], service: 'b' } },
      middlewares: { bad: { stripPrefix: { prefixes: ['api'] } } },
      services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } },
    },
  }).problems;
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.messages[0]!, /http\.middlewares\.bad\.stripPrefix\.prefixes\.\[0\]|prefixes/);
  assert.equal(gateway.info.routers['r@inline']?.status, 'disabled');
  assert.match(gateway.info.routers['r@inline']!.errors!.join(), /middleware 'bad@inline' is disabled/);
});
