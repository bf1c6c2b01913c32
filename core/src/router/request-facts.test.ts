// Tests for request normalization: host, matching path, sanitization and facts built from real Node requests.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  createRequestFacts,
  matchingPath,
  canonicalPath,
  normalizeHost,
  requestFacts,
  sanitizePath,
  unwrapMappedIPv4,
} from './request-facts.js';
import { rawRequest, startRawRequestServer, type RawRequestServer } from './raw-request.test.helper.js';

describe('normalizeHost', () => {
  const cases: { desc: string; value: string | undefined; expected: string }[] = [
    { desc: 'lower-cases', value: 'Example.COM', expected: 'example.com' },
    { desc: 'strips the port', value: 'example.com:8080', expected: 'example.com' },
    { desc: 'strips an empty port', value: 'example.com:', expected: 'example.com' },
    { desc: 'strips one trailing dot', value: 'example.com.', expected: 'example.com' },
    { desc: 'strips trailing dot and port', value: 'Example.com.:443', expected: 'example.com' },
    { desc: 'strips only one trailing dot', value: 'example.com..', expected: 'example.com.' },
    { desc: 'unwraps a bracketed IPv6 literal with port', value: '[::1]:8080', expected: '::1' },
    { desc: 'unwraps a bracketed IPv6 literal without port', value: '[2001:DB8::1]', expected: '2001:db8::1' },
    { desc: 'keeps a bare IPv6 literal whole', value: '2001:db8::1', expected: '2001:db8::1' },
    { desc: 'strips the port of an IPv4 literal', value: '127.0.0.1:80', expected: '127.0.0.1' },
    { desc: 'trims surrounding space', value: ' a.example ', expected: 'a.example' },
    { desc: 'empty stays empty', value: '', expected: '' },
    { desc: 'undefined is empty', value: undefined, expected: '' },
  ];
  for (const { desc, value, expected } of cases) {
    test(desc, () => assert.equal(normalizeHost(value), expected));
  }
});

describe('matchingPath', () => {
  const cases: { desc: string; rawPath: string; expected: string }[] = [
    { desc: 'plain path is untouched', rawPath: '/plain/path', expected: '/plain/path' },
    { desc: 'decodes unreserved letters', rawPath: '/%61%62c', expected: '/abc' },
    { desc: 'decodes unreserved marks, either hex case', rawPath: '/%7e%2D%2e%5F%30', expected: '/~-._0' },
    { desc: 'keeps %2F encoded, upper-casing its hex', rawPath: '/a%2fb', expected: '/a%2Fb' },
    { desc: 'keeps other reserved characters encoded', rawPath: '/%3a%3F%23%40', expected: '/%3A%3F%23%40' },
    { desc: 'decodes characters that need no encoding in a path (space), as Traefik', rawPath: '/foo%20bar', expected: '/foo bar' },
    { desc: 'decodes UTF-8 sequences', rawPath: '/caf%c3%a9', expected: '/café' },
    { desc: 'keeps bytes that are not UTF-8 encoded', rawPath: '/x%ff%C3', expected: '/x%FF%C3' },
    { desc: 'a reserved character splits decoded runs', rawPath: '/%C3%A9%2F%C3%A9', expected: '/é%2Fé' },
    { desc: "keeps sub-delims encoded (Traefik's reserved set)", rawPath: "/%21%24%26%27%28%29%2a%2B%2C%3B%3D", expected: '/%21%24%26%27%28%29%2A%2B%2C%3B%3D' },
    { desc: 'keeps the percent sign encoded', rawPath: '/a%25b', expected: '/a%25b' },
    { desc: 'never decodes twice', rawPath: '/%2561', expected: '/%2561' },
    { desc: 'leaves a lone percent', rawPath: '/100%', expected: '/100%' },
    { desc: 'leaves an invalid escape', rawPath: '/%zz%4', expected: '/%zz%4' },
  ];
  for (const { desc, rawPath, expected } of cases) {
    test(desc, () => assert.equal(matchingPath(rawPath), expected));
  }
});

describe('canonicalPath (what the service receives)', () => {
  const cases: { desc: string; rawPath: string; expected: string }[] = [
    { desc: 'decodes unreserved characters only', rawPath: '/%61%7e', expected: '/a~' },
    { desc: 'keeps a space encoded, upper-casing its hex', rawPath: '/foo%20bar%c3%a9', expected: '/foo%20bar%C3%A9' },
    { desc: 'keeps reserved characters encoded', rawPath: '/a%2fb', expected: '/a%2Fb' },
  ];
  for (const { desc, rawPath, expected } of cases) {
    test(desc, () => assert.equal(canonicalPath(rawPath), expected));
  }
});

describe('sanitizePath', () => {
  const cases: { desc: string; path: string; expected: string }[] = [
    { desc: 'merges a leading double slash', path: '//admin', expected: '/admin' },
    { desc: 'drops a dot segment', path: '/./admin', expected: '/admin' },
    { desc: 'resolves a dot-dot segment', path: '/public/../admin', expected: '/admin' },
    { desc: 'cannot climb above the root', path: '/a/b/../../..', expected: '/' },
    { desc: 'keeps a trailing slash', path: '/a/b/', expected: '/a/b/' },
    { desc: 'merges repeated slashes, keeping one trailing', path: '/a//b///', expected: '/a/b/' },
    { desc: 'trailing dot segment leaves no slash', path: '/a/b/.', expected: '/a/b' },
    { desc: 'trailing dot-dot segment', path: '/a/..', expected: '/' },
    { desc: 'dot-dot then slash', path: '/a/../', expected: '/' },
    { desc: 'dot then slash', path: '/a/./', expected: '/a/' },
    { desc: 'root stays root', path: '/', expected: '/' },
    { desc: 'empty becomes root', path: '', expected: '/' },
    { desc: 'relative gets a leading slash', path: 'a/b', expected: '/a/b' },
    { desc: 'dots inside names are not segments', path: '/.well-known/..x/...', expected: '/.well-known/..x/...' },
  ];
  for (const { desc, path, expected } of cases) {
    test(desc, () => assert.equal(sanitizePath(path), expected));
  }
});

describe('unwrapMappedIPv4', () => {
  const cases = [
    { desc: 'unwraps mapped IPv4', ip: '::ffff:10.1.2.3', expected: '10.1.2.3' },
    { desc: 'unwraps upper-case mapped IPv4', ip: '::FFFF:10.1.2.3', expected: '10.1.2.3' },
    { desc: 'keeps IPv4', ip: '10.1.2.3', expected: '10.1.2.3' },
    { desc: 'keeps IPv6', ip: '::ffff:a01:203', expected: '::ffff:a01:203' },
  ];
  for (const { desc, ip, expected } of cases) {
    test(desc, () => assert.equal(unwrapMappedIPv4(ip), expected));
  }
});

describe('requestFacts from real HTTP/1 requests', () => {
  let server: RawRequestServer;
  before(async () => {
    server = await startRawRequestServer();
  });
  after(() => server.close());

  interface Expected {
    method?: string;
    host?: string;
    path?: string;
    rawQuery?: string;
    clientIP?: string;
  }
  const cases: { desc: string; raw: string; sanitize?: boolean; expected: Expected }[] = [
    {
      desc: 'origin-form: host from the Host header, path and query split',
      raw: rawRequest('GET /a/b?x=1&y HTTP/1.1', 'Host: Example.COM:8080'),
      expected: { method: 'GET', host: 'example.com', path: '/a/b', rawQuery: 'x=1&y', clientIP: '127.0.0.1' },
    },
    {
      desc: 'absolute-form: the target host wins over the Host header',
      raw: rawRequest('GET http://Target.Example:9000/x%61/?q=1 HTTP/1.1', 'Host: other.example'),
      expected: { host: 'target.example', path: '/xa/', rawQuery: 'q=1' },
    },
    {
      desc: 'absolute-form without a path routes as /',
      raw: rawRequest('GET http://t.example HTTP/1.1', 'Host: other.example'),
      expected: { host: 't.example', path: '/', rawQuery: '' },
    },
    {
      desc: 'absolute-form https with IPv6 authority',
      raw: rawRequest('GET https://[2001:db8::1]:8443/v HTTP/1.1', 'Host: other.example'),
      expected: { host: '2001:db8::1', path: '/v' },
    },
    {
      desc: 'bracketed IPv6 Host header',
      raw: rawRequest('GET / HTTP/1.1', 'Host: [::1]:8080'),
      expected: { host: '::1', path: '/' },
    },
    {
      desc: 'Host header with trailing dot',
      raw: rawRequest('GET / HTTP/1.1', 'Host: example.com.'),
      expected: { host: 'example.com' },
    },
    {
      desc: 'HTTP/1.0 without Host has an empty host',
      raw: rawRequest('GET /x HTTP/1.0'),
      expected: { host: '', path: '/x' },
    },
    {
      desc: '%2F stays encoded while %61 and %7E are decoded',
      raw: rawRequest('GET /a%2fb/%61%7E HTTP/1.1', 'Host: h'),
      expected: { path: '/a%2Fb/a~' },
    },
    {
      desc: 'sanitized by default',
      raw: rawRequest('GET //admin/./x/../y/?k=v HTTP/1.1', 'Host: h'),
      expected: { path: '/admin/y/', rawQuery: 'k=v' },
    },
    {
      desc: 'encoded dot segments are decoded before sanitizing',
      raw: rawRequest('GET /public/%2e%2E/admin HTTP/1.1', 'Host: h'),
      expected: { path: '/admin' },
    },
    {
      desc: 'encoded slashes do not form segments for sanitizing',
      raw: rawRequest('GET /public%2F..%2Fadmin HTTP/1.1', 'Host: h'),
      expected: { path: '/public%2F..%2Fadmin' },
    },
    {
      desc: 'sanitize: false keeps dot segments and repeated slashes',
      raw: rawRequest('GET //admin/./x/../y/ HTTP/1.1', 'Host: h'),
      sanitize: false,
      expected: { path: '//admin/./x/../y/' },
    },
    {
      desc: 'asterisk-form is left alone',
      raw: rawRequest('OPTIONS * HTTP/1.1', 'Host: h'),
      expected: { method: 'OPTIONS', path: '*' },
    },
    {
      desc: 'query with question marks inside keeps everything after the first one',
      raw: rawRequest('GET /p?a=1?b=2 HTTP/1.1', 'Host: h'),
      expected: { path: '/p', rawQuery: 'a=1?b=2' },
    },
  ];
  for (const { desc, raw, sanitize, expected } of cases) {
    test(desc, async () => {
      const { req, peer } = await server.send(raw);
      const facts = requestFacts(req, peer, sanitize === undefined ? undefined : { sanitize });
      const actual = Object.fromEntries(Object.keys(expected).map((key) => [key, facts[key as keyof Expected]]));
      assert.deepEqual(actual, expected);
    });
  }

  test('repeated header lines are kept apart', async () => {
    const { req, peer } = await server.send(rawRequest('GET / HTTP/1.1', 'Host: h', 'X-A: 1', 'X-A: 2, 3', 'x-b: B'));
    const facts = requestFacts(req, peer);
    assert.deepEqual(facts.headers['x-a'], ['1', '2, 3']);
    assert.deepEqual(facts.headers['x-b'], ['B']);
    assert.equal(facts.headers['x-missing'], undefined);
  });

  test('query is parsed lazily, once', async () => {
    const { req, peer } = await server.send(rawRequest('GET /?a=1&a=2&b HTTP/1.1', 'Host: h'));
    const RealURLSearchParams = globalThis.URLSearchParams;
    let constructed = 0;
    globalThis.URLSearchParams = class extends RealURLSearchParams {
      constructor(init?: string) {
        super(init);
        constructed++;
      }
    };
    try {
      const facts = requestFacts(req, peer);
      assert.equal(constructed, 0, 'building facts must not parse the query');
      assert.deepEqual(facts.query.getAll('a'), ['1', '2']);
      assert.equal(facts.query.get('b'), '');
      assert.equal(facts.query, facts.query);
      assert.equal(constructed, 1);
    } finally {
      globalThis.URLSearchParams = RealURLSearchParams;
    }
  });
});

describe('requestFacts client address', () => {
  test('an IPv4 peer on a dual-stack socket is unwrapped', async (t) => {
    let server: RawRequestServer;
    try {
      server = await startRawRequestServer('::', '127.0.0.1');
    } catch {
      t.skip('no IPv6 dual-stack socket on this host');
      return;
    }
    try {
      const { req, peer } = await server.send(rawRequest('GET / HTTP/1.1', 'Host: h'));
      assert.equal(peer, '::ffff:127.0.0.1');
      assert.equal(requestFacts(req, peer).clientIP, '127.0.0.1');
    } finally {
      await server.close();
    }
  });
});

describe('requestFacts from a real HTTP/2 request', () => {
  test('host falls back to :authority and headers come without pseudo-headers', async () => {
    let received: IncomingMessage | undefined;
    const server = http2.createServer((req, res) => {
      received = req as unknown as IncomingMessage;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = http2.connect(`http://127.0.0.1:${port}`);
    try {
      await new Promise<void>((resolve, reject) => {
        const stream = client.request({ ':authority': `H2.Example:${port}`, ':path': '/h2/%61?x=1', 'x-a': 'v' });
        stream.on('response', () => stream.resume());
        stream.on('end', resolve);
        stream.on('error', reject);
        stream.end();
      });
      const facts = requestFacts(received!, '127.0.0.1');
      assert.equal(facts.host, 'h2.example');
      assert.equal(facts.path, '/h2/a');
      assert.equal(facts.rawQuery, 'x=1');
      assert.deepEqual(facts.headers['x-a'], ['v']);
      assert.equal(facts.headers[':path'], undefined);
    } finally {
      client.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('createRequestFacts', () => {
  test('fills missing fields with empty values', () => {
    const facts = createRequestFacts({});
    assert.deepEqual(
      [facts.method, facts.host, facts.path, facts.rawQuery, facts.clientIP, facts.headers, [...facts.query]],
      ['', '', '', '', '', {}, []],
    );
  });

  test('treats ; as a query separator like Traefik', () => {
    const facts = createRequestFacts({ rawQuery: 'a=1;b=2' });
    assert.equal(facts.query.get('b'), '2');
  });
});
