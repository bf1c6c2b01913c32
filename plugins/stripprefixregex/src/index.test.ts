// stripPrefixRegex: options from labels (errors naming the field), Traefik's behaviour as a table of cases, each
// through a real gateway (one router per case) to a real echo backend that reports the request line and headers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import { get, json, startServer, type Listening, routerPerCase } from '@wharf/test-helpers';
import stripPrefixRegex, { schema } from './index.js';

describe('stripPrefixRegex options', () => {
  const cases: Array<{ desc: string; labels: Record<string, string>; expected?: unknown; issues?: string[] }> = [
    { desc: 'a list from one label', labels: { regex: '/a/,/b/[0-9]+/' }, expected: { regex: ['/a/', '/b/[0-9]+/'] } },
    { desc: 'indexed labels', labels: { 'regex[0]': '/a/', 'regex[1]': '/b/' }, expected: { regex: ['/a/', '/b/'] } },
    { desc: 'regex is required', labels: {}, issues: ['regex: is required'] },
    { desc: 'unknown option named', labels: { regex: '/a', regexp: '/b' }, issues: ["regexp: unknown field 'regexp' (did you mean 'regex'?)"] },
  ];
  for (const { desc, labels, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, flatToTree(Object.entries(labels)));
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected) assert.deepEqual(result.value, expected);
    });
  }

  test('an invalid or RE2-unsupported expression is refused naming it by index', () => {
    assert.throws(() => stripPrefixRegex.validate!({ regex: ['/ok/', '/(a'] }), /^Error: regex\[1\]: invalid regular expression `\/\(a`: missing closing \)/);
    assert.throws(() => stripPrefixRegex.validate!({ regex: ['(?<=/)x'] }), /^Error: regex\[0\]: invalid regular expression/);
  });
});

describe('stripPrefixRegex through a gateway', () => {
  // Traefik's strip_prefix_regex_test.go cases (requests with a raw space aside: Node refuses them), plus the query,
  // a match that does not start the path and the order of the expressions.
  const cases: Array<{ desc: string; regex: string[]; path: string; expected: { status: number; url?: string; prefix?: string[] } }> = [
    { desc: 'no match', regex: ['/a/api/'], path: '/a/test', expected: { status: 200, url: '/a/test', prefix: [] } },
    { desc: 'no match, trailing slash', regex: ['/a/api/'], path: '/a/test/', expected: { status: 200, url: '/a/test/', prefix: [] } },
    { desc: 'the whole path: sent as /', regex: ['/a/api/'], path: '/a/api/', expected: { status: 200, url: '/', prefix: ['/a/api/'] } },
    { desc: 'prefix removed', regex: ['/a/api/'], path: '/a/api/test', expected: { status: 200, url: '/test', prefix: ['/a/api/'] } },
    { desc: 'trailing slash kept', regex: ['/a/api/'], path: '/a/api/test/', expected: { status: 200, url: '/test/', prefix: ['/a/api/'] } },
    { desc: 'group in the expression, whole path', regex: ['/b/([a-z0-9]+)/'], path: '/b/api/', expected: { status: 200, url: '/', prefix: ['/b/api/'] } },
    { desc: 'group in the expression, no trailing slash: no match', regex: ['/b/([a-z0-9]+)/'], path: '/b/api', expected: { status: 200, url: '/b/api', prefix: [] } },
    { desc: 'group in the expression', regex: ['/b/([a-z0-9]+)/'], path: '/b/api2/test2', expected: { status: 200, url: '/test2', prefix: ['/b/api2/'] } },
    { desc: 'two parts', regex: ['/c/[a-z0-9]+/[0-9]+/'], path: '/c/api/123/test3', expected: { status: 200, url: '/test3', prefix: ['/c/api/123/'] } },
    { desc: 'two parts, no match', regex: ['/c/[a-z0-9]+/[0-9]+/'], path: '/c/api/abc/test4', expected: { status: 200, url: '/c/api/abc/test4', prefix: [] } },
    { desc: '%2F after the prefix stays encoded', regex: ['/a/api/'], path: '/a/api/a%2Fb', expected: { status: 200, url: '/a%2Fb', prefix: ['/a/api/'] } },
    { desc: 'an escape inside the prefix counts as one character', regex: ['/b/a.i/'], path: '/b/a%20i/x%2Fy', expected: { status: 200, url: '/x%2Fy', prefix: ['/b/a i/'] } },
    { desc: 'the expression sees the decoded path: %20 matches a space, %2F after it stays', regex: ['/t /test'], path: '/t%20/test/a%2Fb', expected: { status: 200, url: '/a%2Fb', prefix: ['/t /test'] } },
    { desc: '%2F in the path matches a / in the expression', regex: ['/x/y/'], path: '/x%2Fy/z%20w', expected: { status: 200, url: '/z%20w', prefix: ['/x/y/'] } },
    { desc: 'a match that does not start the path is not a prefix', regex: ['/api/'], path: '/v1/api/x', expected: { status: 200, url: '/v1/api/x', prefix: [] } },
    { desc: 'expressions tried in order, the first that strips wins', regex: ['/nope/', '/a/', '/a/b/'], path: '/a/b/c', expected: { status: 200, url: '/b/c', prefix: ['/a/'] } },
    { desc: 'a non-ASCII prefix goes out as its UTF-8 bytes, as Go writes it', regex: ['/c.{1,2}/'], path: '/c%E2%82%AC/x', expected: { status: 200, url: '/x', prefix: ['/c€/'] } },
    { desc: 'the query is kept', regex: ['/api'], path: '/api/x?q=%20', expected: { status: 200, url: '/x?q=%20', prefix: ['/api'] } },
    { desc: 'a result with a . element is refused', regex: ['/api'], path: '/api./foo', expected: { status: 400 } },
    { desc: 'a result with a .. element is refused', regex: ['/api'], path: '/api../foo', expected: { status: 400 } },
  ];
  let backend: Listening;
  let gateway: EmbeddedGateway;
  let port: number;

  before(async () => {
    // Node reads header bytes as latin1: turned back into the UTF-8 text a Go backend would read.
    const utf8 = (values: string[] = []) => values.map((v) => Buffer.from(v, 'latin1').toString('utf8'));
    backend = await startServer((req, res) => res.end(JSON.stringify({ url: req.url, prefix: utf8(req.headersDistinct['x-forwarded-prefix']) })));
    gateway = await startGateway({
      plugins: [stripPrefixRegex],
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: routerPerCase(cases, (c) => ({ stripPrefixRegex: { regex: c.regex } }), backend.url, { stripPrefixRegex: { regex: ['/a', '(?=x)'] } }),
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    await gateway.stop();
    await backend.close();
  });

  test('the backend receives the stripped path and the prefix in X-Forwarded-Prefix', async (t) => {
    for (const [i, c] of cases.entries()) {
      await t.test(c.desc, async () => {
        const reply = await get(port, c.path, `c${i}.test`);
        assert.equal(reply.status, c.expected.status, reply.body);
        if (c.expected.status === 200) assert.deepEqual(json(reply), { url: c.expected.url, prefix: c.expected.prefix });
      });
    }
  });

  test('an invalid expression disables only the routers that use it, with the reason', async () => {
    assert.equal(gateway.info.routers['broken@inline']?.status, 'disabled');
    assert.match(gateway.info.routers['broken@inline']?.errors?.join('\n') ?? '', /regex\[1\]: invalid regular expression `\(\?=x\)`/);
    assert.equal((await get(port, '/a/test', 'c0.test')).status, 200);
  });
});
