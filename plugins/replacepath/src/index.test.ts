// replacePath: options from labels (errors naming the field), Traefik's behaviour as a table of cases, each through
// a real gateway (one router per case) to a real echo backend that reports the request line and headers it received.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import { get, json, startServer, type Listening, routerPerCase } from '@wharf/test-helpers';
import replacePath, { schema } from './index.js';

describe('replacePath options', () => {
  const cases: Array<{ desc: string; labels: Record<string, string>; expected?: unknown; issues?: string[] }> = [
    { desc: 'path from a label', labels: { path: '/health' }, expected: { path: '/health' } },
    { desc: 'an empty path is allowed (sends /)', labels: { path: '' }, expected: { path: '' } },
    { desc: 'path is required', labels: {}, issues: ['path: is required'] },
    { desc: 'unknown option named', labels: { path: '/a', paths: '/b' }, issues: ["paths: unknown field 'paths' (did you mean 'path'?)"] },
  ];
  for (const { desc, labels, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, flatToTree(Object.entries(labels)));
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected) assert.deepEqual(result.value, expected);
    });
  }

  test('a path that cannot be decoded is refused naming the field', () => {
    assert.throws(() => replacePath.validate!({ path: '/a%zz' }), /^Error: path: invalid URL escape "%zz"$/);
  });
});

describe('replacePath through a gateway', () => {
  // Traefik's replace_path_test.go cases, plus the query and an X-Replaced-Path already present.
  const cases: Array<{ desc: string; replacement: string; path: string; headers?: Record<string, string>; expected: { url: string; replaced: string[] } }> = [
    { desc: 'simple path', replacement: '/replacement-path', path: '/example', expected: { url: '/replacement-path', replaced: ['/example'] } },
    { desc: 'long path', replacement: '/replacement-path', path: '/some/really/long/path', expected: { url: '/replacement-path', replaced: ['/some/really/long/path'] } },
    { desc: 'path with escaped value: the header keeps it encoded', replacement: '/replacement-path', path: '/foo%2Fbar', expected: { url: '/replacement-path', replaced: ['/foo%2Fbar'] } },
    { desc: 'replacement with escaped value is sent encoded', replacement: '/foo%2Fbar', path: '/path', expected: { url: '/foo%2Fbar', replaced: ['/path'] } },
    { desc: 'replacement with percent-encoded backspace', replacement: '/path/%08bar', path: '/path/%08bar', expected: { url: '/path/%08bar', replaced: ['/path/%08bar'] } },
    { desc: 'a space in the replacement is encoded', replacement: '/a b', path: '/x', expected: { url: '/a%20b', replaced: ['/x'] } },
    { desc: 'an empty replacement sends /', replacement: '', path: '/x', expected: { url: '/', replaced: ['/x'] } },
    { desc: 'the query is kept', replacement: '/new', path: '/old?a=1&b=%20', expected: { url: '/new?a=1&b=%20', replaced: ['/old'] } },
    { desc: 'an X-Replaced-Path the request has is kept, ours follows (Header.Add; not a forwarded header Traefik drops)', replacement: '/new', path: '/mid', headers: { 'x-replaced-path': '/outer' }, expected: { url: '/new', replaced: ['/outer', '/mid'] } },
  ];
  let backend: Listening;
  let gateway: EmbeddedGateway;
  let port: number;

  before(async () => {
    backend = await startServer((req, res) => res.end(JSON.stringify({ url: req.url, replaced: req.headersDistinct['x-replaced-path'] ?? [] })));
    gateway = await startGateway({
      plugins: [replacePath],
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: routerPerCase(cases, (c) => ({ replacePath: { path: c.replacement } }), backend.url, { replacePath: { path: '/a%zz' } }),
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    await gateway.stop();
    await backend.close();
  });

  test('the backend receives the new path and the original in X-Replaced-Path', async (t) => {
    for (const [i, c] of cases.entries()) {
      await t.test(c.desc, async () => {
        const reply = await get(port, c.path, `c${i}.test`, c.headers);
        assert.equal(reply.status, 200);
        assert.deepEqual(json(reply), c.expected);
      });
    }
  });

  test('an undecodable path disables only the routers that use it, with the reason', async () => {
    assert.equal(gateway.info.routers['broken@inline']?.status, 'disabled');
    assert.match(gateway.info.routers['broken@inline']?.errors?.join('\n') ?? '', /path: invalid URL escape "%zz"/);
    assert.equal((await get(port, '/example', 'c0.test')).status, 200);
  });
});
