// addPrefix: options from labels (errors naming the field), Traefik's behaviour as a table of cases, each through
// a real gateway (one router per case) to a real echo backend that reports the request line it received.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import { get, json, startServer, type Listening, routerPerCase } from '@wharf/test-helpers';
import addPrefix, { schema } from './index.js';

describe('addPrefix options', () => {
  const cases: Array<{ desc: string; labels: Record<string, string>; expected?: unknown; issues?: string[] }> = [
    { desc: 'prefix from a label', labels: { prefix: '/api' }, expected: { prefix: '/api' } },
    { desc: 'keys are case-insensitive', labels: { PREFIX: '/api' }, expected: { prefix: '/api' } },
    { desc: 'prefix is required', labels: {}, issues: ['prefix: is required'] },
    { desc: 'unknown option named', labels: { prefix: '/a', prefixes: '/b' }, issues: ["prefixes: unknown field 'prefixes' (did you mean 'prefix'?)"] },
  ];
  for (const { desc, labels, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, flatToTree(Object.entries(labels)));
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected) assert.deepEqual(result.value, expected);
    });
  }

  test('an empty prefix is refused naming the field (Traefik: "prefix cannot be empty")', () => {
    assert.throws(() => addPrefix.validate!({ prefix: '' }), /^Error: prefix: cannot be empty$/);
  });
});

describe('addPrefix through a gateway', () => {
  // Traefik's add_prefix_test.go cases, plus what its code implies for encoded characters and the query.
  const cases = [
    { desc: 'regular path', prefix: '/a', path: '/b', expected: '/a/b' },
    { desc: 'missing leading slash is added', prefix: 'a', path: '/', expected: '/a/' },
    { desc: 'raw path: %2F stays encoded', prefix: '/a', path: '/b%2Fc', expected: '/a/b%2Fc' },
    { desc: '%20 stays encoded', prefix: '/a', path: '/b%20c', expected: '/a/b%20c' },
    { desc: 'the prefix is not decoded, a space in it is encoded', prefix: '/my app', path: '/x', expected: '/my%20app/x' },
    { desc: 'the query is kept as sent', prefix: '/a', path: '/b?x=1&y=%20', expected: '/a/b?x=1&y=%20' },
  ];
  let backend: Listening;
  let gateway: EmbeddedGateway;
  let port: number;

  before(async () => {
    backend = await startServer((req, res) => res.end(JSON.stringify({ url: req.url })));
    gateway = await startGateway({
      plugins: [addPrefix],
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: routerPerCase(cases, (c) => ({ addPrefix: { prefix: c.prefix } }), backend.url, { addPrefix: { prefix: '' } }),
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    await gateway.stop();
    await backend.close();
  });

  test('the backend receives the prefixed path', async (t) => {
    for (const [i, c] of cases.entries()) {
      await t.test(c.desc, async () => {
        const reply = await get(port, c.path, `c${i}.test`);
        assert.equal(reply.status, 200);
        assert.deepEqual(json(reply), { url: c.expected });
      });
    }
  });

  test('an empty prefix disables only the routers that use it, with the reason', async () => {
    assert.equal(gateway.info.routers['broken@inline']?.status, 'disabled');
    assert.match(gateway.info.routers['broken@inline']?.errors?.join('\n') ?? '', /prefix: cannot be empty/);
    assert.equal((await get(port, '/b', 'c0.test')).status, 200);
  });
});
