// replacePathRegex: options from labels (errors naming the field), Traefik's behaviour as a table of cases, each
// through a real gateway (one router per case) to a real echo backend that reports the request line and headers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import { get, json, startServer, type Listening, routerPerCase } from '@wharf/test-helpers';
import replacePathRegex, { schema } from './index.js';

describe('replacePathRegex options', () => {
  const cases: Array<{ desc: string; labels: Record<string, string>; expected?: unknown; issues?: string[] }> = [
    { desc: 'regex and replacement from labels', labels: { regex: '^/api/(.*)', replacement: '/$1' }, expected: { regex: '^/api/(.*)', replacement: '/$1' } },
    { desc: 'replacement defaults to empty', labels: { regex: '/x' }, expected: { regex: '/x', replacement: '' } },
    { desc: 'regex is required', labels: { replacement: '/' }, issues: ['regex: is required'] },
    { desc: 'unknown option named', labels: { regex: '/x', replacment: '/' }, issues: ["replacment: unknown field 'replacment' (did you mean 'replacement'?)"] },
  ];
  for (const { desc, labels, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, flatToTree(Object.entries(labels)));
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected) assert.deepEqual(result.value, expected);
    });
  }

  test('an invalid or RE2-unsupported regex is refused naming the field', () => {
    assert.throws(() => replacePathRegex.validate!({ regex: '^(?err)/invalid/regexp/([^/]+)$', replacement: '' }), /^Error: regex: invalid regular expression/);
    assert.throws(() => replacePathRegex.validate!({ regex: '^/(?!admin)', replacement: '' }), /^Error: regex: invalid regular expression `\^\/\(\?!admin\)`/);
  });
});

describe('replacePathRegex through a gateway', () => {
  // Traefik's replace_path_regex_test.go cases (the backspace case aside: core normalizes before any middleware),
  // plus Go's ${1} and named groups, the query, and the 400 for a rewritten path that is not clean.
  const cases: Array<{ desc: string; regex: string; replacement: string; path: string; expected: { status: number; url?: string; replaced?: string[] } }> = [
    { desc: 'simple regex', regex: '^/whoami/(.*)', replacement: '/who-am-i/$1', path: '/whoami/and/whoami', expected: { status: 200, url: '/who-am-i/and/whoami', replaced: ['/whoami/and/whoami'] } },
    { desc: 'every match is replaced', regex: '/whoami', replacement: '/who-am-i', path: '/whoami/and/whoami', expected: { status: 200, url: '/who-am-i/and/who-am-i', replaced: ['/whoami/and/whoami'] } },
    { desc: 'empty replacement', regex: '/whoami', replacement: '', path: '/whoami/and/whoami', expected: { status: 200, url: '/and', replaced: ['/whoami/and/whoami'] } },
    { desc: 'replacement of spaces only is empty', regex: '/whoami', replacement: ' ', path: '/whoami/and/whoami', expected: { status: 200, url: '/and', replaced: ['/whoami/and/whoami'] } },
    { desc: 'no match: untouched, no header', regex: '/no-match', replacement: '/whoami', path: '/whoami/and/whoami', expected: { status: 200, url: '/whoami/and/whoami', replaced: [] } },
    { desc: 'case-insensitive flag and two groups', regex: '^(?i)/downloads/([^/]+)/([^/]+)$', replacement: '/downloads/$1-$2', path: '/DOWNLOADS/src/source.go', expected: { status: 200, url: '/downloads/src-source.go', replaced: ['/DOWNLOADS/src/source.go'] } },
    { desc: 'replacement with escaped char is sent encoded', regex: '/aaa/bbb', replacement: '/foo%2Fbar', path: '/aaa/bbb', expected: { status: 200, url: '/foo%2Fbar', replaced: ['/aaa/bbb'] } },
    { desc: 'the regex sees the encoded path', regex: '/aaa%2Fbbb', replacement: '/foo/bar', path: '/aaa%2Fbbb', expected: { status: 200, url: '/foo/bar', replaced: ['/aaa%2Fbbb'] } },
    { desc: 'so a decoded pattern does not match %2F', regex: '/aaa/bbb', replacement: '/foo/bar', path: '/aaa%2Fbbb', expected: { status: 200, url: '/aaa%2Fbbb', replaced: [] } },
    { desc: '%20 kept through a group', regex: '^/old/(.*)', replacement: '/new/$1', path: '/old/a%20b', expected: { status: 200, url: '/new/a%20b', replaced: ['/old/a%20b'] } },
    { desc: '${1}x is group 1 then x; $1x would be the empty group 1x', regex: '^/(v[0-9])/(.*)', replacement: '/${1}x/$2x', path: '/v1/users', expected: { status: 200, url: '/v1x/', replaced: ['/v1/users'] } },
    { desc: 'named group', regex: '^/u/(?P<id>[0-9]+)$', replacement: '/users/${id}', path: '/u/42', expected: { status: 200, url: '/users/42', replaced: ['/u/42'] } },
    { desc: 'the query is kept', regex: '^/a', replacement: '/b', path: '/a?x=1', expected: { status: 200, url: '/b?x=1', replaced: ['/a'] } },
    { desc: 'a result that becomes empty is sent as /', regex: '^/.*', replacement: '', path: '/gone', expected: { status: 200, url: '/', replaced: ['/gone'] } },
    { desc: 'a result with a .. element is refused', regex: '^/foo(.*)', replacement: '/$1', path: '/foo../bar', expected: { status: 400 } },
    { desc: 'a result with // is refused', regex: '^/foo', replacement: '/', path: '/foo/bar', expected: { status: 400 } },
    { desc: 'a result that cannot be decoded: 500', regex: '^/p', replacement: '/%zz', path: '/p', expected: { status: 500 } },
  ];
  let backend: Listening;
  let gateway: EmbeddedGateway;
  let port: number;

  before(async () => {
    backend = await startServer((req, res) => res.end(JSON.stringify({ url: req.url, replaced: req.headersDistinct['x-replaced-path'] ?? [] })));
    gateway = await startGateway({
      plugins: [replacePathRegex],
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: routerPerCase(cases, (c) => ({ replacePathRegex: { regex: c.regex, replacement: c.replacement } }), backend.url, { replacePathRegex: { regex: '^(/a', replacement: '/' } }),
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    await gateway.stop();
    await backend.close();
  });

  test('the backend receives the rewritten path and the original in X-Replaced-Path', async (t) => {
    for (const [i, c] of cases.entries()) {
      await t.test(c.desc, async () => {
        const reply = await get(port, c.path, `c${i}.test`);
        assert.equal(reply.status, c.expected.status, reply.body);
        if (c.expected.status === 200) assert.deepEqual(json(reply), { url: c.expected.url, replaced: c.expected.replaced });
      });
    }
  });

  test('an invalid regex disables only the routers that use it, with the reason', async () => {
    assert.equal(gateway.info.routers['broken@inline']?.status, 'disabled');
    assert.match(gateway.info.routers['broken@inline']?.errors?.join('\n') ?? '', /regex: invalid regular expression `\^\(\/a`: missing closing \)/);
    assert.equal((await get(port, '/whoami/x', 'c0.test')).status, 200);
  });
});
