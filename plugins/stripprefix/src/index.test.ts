// stripPrefix through a real gateway and echo backend: Traefik's rules (decoded match, encoded rest, 400 for an
// unclean result), X-Forwarded-Prefix, and what forceSlash changes for the middleware after it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import pino from 'pino';
import { get, json, startServer, type Listening } from '@wharf/test-helpers';
import addPrefix from '@wharf/plugin-addprefix';
import stripPrefix, { schema } from './index.js';

/** A backend that answers with the path and the X-Forwarded-Prefix lines it received. */
function echoBackend(): Promise<Listening> {
  return startServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    const prefix = req.headersDistinct['x-forwarded-prefix'];
    res.end(JSON.stringify({ url: req.url, prefix: prefix === undefined ? null : prefix.join(' | ') }));
  });
}

const backend = await echoBackend();
const warnings: string[] = [];
const gateway = await startGateway({
  plugins: [stripPrefix, addPrefix],
  log: pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) }),
  args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.web.forwardedHeaders.trustedIPs=127.0.0.1'],
  dynamic: {
    http: {
      routers: {
        r: { rule: 'PathPrefix(`/`)', middlewares: ['strip'], service: 'b' },
        unset: { rule: 'Host(`unset.test`)', middlewares: ['strip-all', 'add-v2'], service: 'b' },
        off: { rule: 'Host(`off.test`)', middlewares: ['strip-all-off', 'add-v2'], service: 'b' },
        on: { rule: 'Host(`on.test`)', middlewares: ['strip-all-on', 'add-v2'], service: 'b' },
      },
      middlewares: {
        strip: { stripPrefix: { prefixes: ['/api', '/v1/'] } },
        'strip-all': { stripPrefix: { prefixes: ['/api'] } },
        'strip-all-off': { stripPrefix: { prefixes: ['/api'], forceSlash: false } },
        'strip-all-on': { stripPrefix: { prefixes: ['/api'], forceSlash: true } },
        'add-v2': { addPrefix: { prefix: '/v2' } },
      },
      services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } },
    },
  },
});
after(async () => {
  await gateway.stop();
  await backend.close();
});
const port = gateway.address('web').port;

test('stripPrefix removes the first matching prefix and reports it', async (t) => {
  const cases = [
    { desc: 'prefix with sub-path', path: '/api/users?x=1', expected: { url: '/users?x=1', prefix: '/api' } },
    { desc: 'exact prefix becomes /', path: '/api', expected: { url: '/', prefix: '/api' } },
    { desc: 'textual prefix match as Traefik does', path: '/apiv2', expected: { url: '/v2', prefix: '/api' } },
    { desc: 'prefix ending in slash keeps a leading slash', path: '/v1/items', expected: { url: '/items', prefix: '/v1/' } },
    { desc: 'no match leaves the path alone', path: '/other', expected: { url: '/other', prefix: null } },
    { desc: 'what follows the prefix keeps its encoding', path: '/api/a%2Fb%20c', expected: { url: '/a%2Fb%20c', prefix: '/api' } },
    { desc: 'the match is on the decoded path: %2F is a slash', path: '/v1%2Fitems', expected: { url: '/items', prefix: '/v1/' } },
    { desc: "a trusted proxy's X-Forwarded-Prefix is kept, ours follows", path: '/api/x', headers: { 'x-forwarded-prefix': '/outer' }, expected: { url: '/x', prefix: '/outer | /api' } },
  ];
  for (const c of cases) {
    await t.test(c.desc, async () => {
      const reply = await get(port, c.path, 'localhost', c.headers);
      assert.equal(reply.status, 200);
      assert.deepEqual(json(reply), c.expected);
    });
  }
});

test('a result that is not a clean path is refused with 400, as Traefik does', async () => {
  const reply = await get(port, '/api./foo');
  assert.equal(reply.status, 400);
  assert.equal(reply.body, 'Bad Request\n');
});

test('forceSlash: a path stripped to nothing is empty for the next middleware (default, false) or / (true)', async (t) => {
  const cases = [
    { desc: 'unset (Traefik v3 default false)', host: 'unset.test', expected: '/v2' },
    { desc: 'false', host: 'off.test', expected: '/v2' },
    { desc: 'true', host: 'on.test', expected: '/v2/' },
  ];
  for (const c of cases) {
    await t.test(c.desc, async () => {
      assert.deepEqual(json(await get(port, '/api', c.host)), { url: c.expected, prefix: '/api' });
      // A path that is not stripped to nothing is the same either way.
      assert.deepEqual(json(await get(port, '/api/x', c.host)), { url: '/v2/x', prefix: '/api' });
    });
  }
});

test('options from labels: prefixes comma-split, forceSlash a boolean, errors naming the label', () => {
  const cases: Array<{ desc: string; labels: Record<string, string>; expected?: unknown; issues?: string[] }> = [
    { desc: 'a list from one label', labels: { prefixes: '/api,/v1/' }, expected: { prefixes: ['/api', '/v1/'] } },
    { desc: 'forceSlash, keys case-insensitive', labels: { Prefixes: '/api', forceslash: 'true' }, expected: { prefixes: ['/api'], forceSlash: true } },
    { desc: 'forceSlash not a boolean', labels: { prefixes: '/api', forceSlash: 'maybe' }, issues: ['forceSlash: expected true or false (got "maybe")'] },
    { desc: 'prefixes is required', labels: { forceSlash: 'false' }, issues: ['prefixes: is required'] },
  ];
  for (const { desc, labels, expected, issues } of cases) {
    const result = decode(schema, flatToTree(Object.entries(labels)));
    assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? [], desc);
    if (expected) assert.deepEqual(result.value, expected, desc);
  }
});

test('forceSlash set, true or false, is warned about as deprecated, as in Traefik v3; unset is not', () => {
  const deprecated = warnings.filter((w) => w.includes('`forceSlash` is deprecated'));
  assert.equal(deprecated.length, 2, `the two middlewares that set it, once each:\n${warnings.join('\n')}`);
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
