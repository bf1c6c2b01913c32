// chain: options from labels and files (errors naming the field), and behaviour through a real gateway with real
// stripPrefix and headers middlewares: order, nesting, references in the chain's provider, cycles and missing
// references reported on the chain and its routers while every other router keeps serving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import headers from '@wharf/plugin-headers';
import stripPrefix from '@wharf/plugin-stripprefix';
import { echo, json, request, startBackend, type Backend, type EchoBody } from '@wharf/test-helpers';
import chain, { schema } from './index.js';

describe('chain options', () => {
  const cases: Array<{ desc: string; labels?: Record<string, string>; file?: unknown; expected?: unknown; issues?: string[] }> = [
    { desc: 'a label list is comma-separated', labels: { middlewares: 'https-only,known-ips,auth-users@file' }, expected: { middlewares: ['https-only', 'known-ips', 'auth-users@file'] } },
    { desc: 'keys are case-insensitive', labels: { MiddleWares: 'a' }, expected: { middlewares: ['a'] } },
    { desc: 'indexed labels', labels: { 'middlewares[0]': 'a', 'middlewares[1]': 'b@docker' }, expected: { middlewares: ['a', 'b@docker'] } },
    { desc: 'a file list', file: { middlewares: ['a', 'b@file'] }, expected: { middlewares: ['a', 'b@file'] } },
    { desc: 'middlewares is required', file: {}, issues: ['middlewares: is required'] },
    { desc: 'a comma-separated string in a file is a list too', file: { middlewares: 'a,b@file' }, expected: { middlewares: ['a', 'b@file'] } },
    { desc: 'a file list of names, not lists', file: { middlewares: [['a']] }, issues: ['middlewares[0]: expected a string'] },
    { desc: 'a map is not a list', file: { middlewares: { a: 1 } }, issues: ['middlewares.a: expected a list index such as [0]'] },
    { desc: 'unknown option named', labels: { middlewares: 'a', middleware: 'b' }, issues: ["middleware: unknown field 'middleware' (did you mean 'middlewares'?)"] },
  ];
  for (const { desc, labels, file, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, labels ? flatToTree(Object.entries(labels)) : file);
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected) assert.deepEqual(result.value, expected);
    });
  }

  const invalid: Array<{ desc: string; middlewares: string[]; error: RegExp }> = [
    { desc: 'an empty name (stray comma)', middlewares: ['a', ''], error: /^Error: middlewares\[1\]: a middleware name is required, got ""/ },
    { desc: 'a provider without a name', middlewares: ['@file'], error: /^Error: middlewares\[0\]: a middleware name is required, got "@file"/ },
  ];
  for (const { desc, middlewares, error } of invalid) {
    test(`validate: ${desc}`, () => assert.throws(() => chain.validate!({ middlewares }), error));
  }
});

describe('chain through a gateway', () => {
  let backend: Backend;
  let gateway: EmbeddedGateway;
  let port: number;

  before(async () => {
    backend = await startBackend('app', echo('app'));
    gateway = await startGateway({
      plugins: [chain, headers, stripPrefix],
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: {
        http: {
          routers: {
            api: { rule: 'PathPrefix(`/api`)', middlewares: ['api-stack'], service: 'app' },
            nested: { rule: 'PathPrefix(`/nested`)', middlewares: ['outer'], service: 'app' },
            empty: { rule: 'PathPrefix(`/empty`)', middlewares: ['empty'], service: 'app' },
            loop: { rule: 'PathPrefix(`/loop`)', middlewares: ['loop-a'], service: 'app' },
            'loop-too': { rule: 'PathPrefix(`/loop-too`)', middlewares: ['tag', 'loop-b'], service: 'app' },
            missing: { rule: 'PathPrefix(`/missing`)', middlewares: ['missing'], service: 'app' },
            plain: { rule: 'PathPrefix(`/plain`)', middlewares: ['tag'], service: 'app' },
          },
          middlewares: {
            'strip-api': { stripPrefix: { prefixes: ['/api'] } },
            tag: { headers: { customRequestHeaders: { 'X-Tag': 'tagged' }, customResponseHeaders: { 'X-Chain': 'yes' } } },
            'api-stack': { chain: { middlewares: ['strip-api', 'tag'] } },
            'strip-nested': { stripPrefix: { prefixes: ['/nested'] } },
            outer: { chain: { middlewares: ['strip-nested', 'api-stack'] } },
            empty: { chain: { middlewares: [] } },
            'loop-a': { chain: { middlewares: ['tag', 'loop-b'] } },
            'loop-b': { chain: { middlewares: ['loop-a'] } },
            missing: { chain: { middlewares: ['tag', 'nowhere'] } },
          },
          services: { app: { loadBalancer: { servers: [{ url: backend.url }] } } },
        },
      },
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    await gateway.stop();
    await backend.close();
  });

  test('runs its middlewares in order: stripPrefix, then headers, on request and response', async () => {
    const reply = await request(port, { path: '/api/users?x=1' });
    assert.equal(reply.status, 200);
    const seen = json<EchoBody>(reply);
    assert.equal(seen.url, '/users?x=1');
    assert.equal(seen.headers['x-tag'], 'tagged');
    assert.equal(seen.headers['x-forwarded-prefix'], '/api');
    assert.equal(reply.headers['x-chain'], 'yes');
  });

  test('a chain inside a chain', async () => {
    // outer strips /nested, then api-stack strips /api: both prefixes are gone.
    const seen = json<EchoBody>(await request(port, { path: '/nested/api/x' }));
    assert.equal(seen.url, '/x');
    assert.equal(seen.headers['x-tag'], 'tagged');
  });

  test('an empty chain passes requests through', async () => {
    assert.equal(json<EchoBody>(await request(port, { path: '/empty/x' })).url, '/empty/x');
  });

  test('a cycle disables the chains in it and the routers using them, naming the path; other routers serve', async () => {
    for (const name of ['loop@inline', 'loop-too@inline']) {
      const router = gateway.info.routers[name]!;
      assert.equal(router.status, 'disabled', name);
      assert.match(router.errors!.join('\n'), /middleware cycle: loop-(a|b)@inline → loop-(a|b)@inline → loop-(a|b)@inline/, name);
    }
    assert.equal(gateway.info.middlewares['loop-a@inline']!.status, 'disabled');
    assert.equal(gateway.info.middlewares['loop-b@inline']!.status, 'disabled');
    assert.equal((await request(port, { path: '/loop' })).status, 404);
    assert.equal(gateway.info.middlewares['tag@inline']!.status, 'enabled');
    assert.equal(json<EchoBody>(await request(port, { path: '/plain' })).headers['x-tag'], 'tagged');
  });

  test('a missing member disables the chain and its routers, naming the entry', async () => {
    const router = gateway.info.routers['missing@inline']!;
    assert.equal(router.status, 'disabled');
    assert.match(router.errors!.join('\n'), /middleware 'missing@inline' is disabled: middlewares\[1\]: middleware 'nowhere@inline' does not exist/);
    assert.match(gateway.info.middlewares['missing@inline']!.errors!.join('\n'), /^middlewares\[1\]: middleware 'nowhere@inline' does not exist/);
    assert.equal((await request(port, { path: '/missing' })).status, 404);
  });

  test('members list the chains using them', () => {
    assert.deepEqual(gateway.info.middlewares['strip-api@inline']!.usedBy, ['api-stack@inline']);
    assert.deepEqual(gateway.info.middlewares['api-stack@inline']!.usedBy.sort(), ['api@inline', 'outer@inline']);
    assert.equal(gateway.info.middlewares['api-stack@inline']!.type, 'chain');
  });
});
