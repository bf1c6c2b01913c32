// redirectRegex: options from labels (errors naming the field), Traefik's cases as a table over the URL it builds,
// and the README recipes through a real gateway in front of a real echo backend.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import { compileGoRegexp } from '@wharf/gourl';
import { get, request, startServer, type Listening } from '@wharf/test-helpers';
import redirectRegex, { decide, goLocation, redirectStatus, requestURL, schema } from './index.js';

describe('redirectRegex options', () => {
  const cases: Array<{ desc: string; labels: Record<string, string>; expected?: unknown; issues?: string[] }> = [
    { desc: 'defaults filled in', labels: { regex: '^http://(.*)' }, expected: { regex: '^http://(.*)', replacement: '', permanent: false } },
    { desc: 'booleans coerced, keys case-insensitive', labels: { Regex: 'a', REPLACEMENT: 'https://$1', permanent: 'true' }, expected: { regex: 'a', replacement: 'https://$1', permanent: true } },
    { desc: 'regex is required', labels: { replacement: 'x' }, issues: ['regex: is required'] },
    { desc: 'permanent must be a boolean', labels: { regex: 'a', permanent: 'yes' }, issues: ['permanent: expected true or false (got "yes")'] },
  ];
  for (const { desc, labels, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, flatToTree(Object.entries(labels)));
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected) assert.deepEqual(result.value, expected);
    });
  }

  test('an invalid or RE2-unsupported regex is refused naming the field', () => {
    assert.throws(() => redirectRegex.validate!({ regex: '^(.*', replacement: '$1', permanent: false }), /^Error: regex: invalid regular expression `\^\(\.\*`: missing closing \)/);
    assert.throws(() => redirectRegex.validate!({ regex: '^https?://(?!www)', replacement: '', permanent: false }), /^Error: regex: invalid regular expression/);
  });
});

describe('redirectRegex decisions (Traefik redirect_regex_test.go)', () => {
  // Traefik's tests send absolute-form targets (http://foo:80), whose scheme, host and port Traefik reads itself.
  const cases: Array<{ desc: string; regex: string; replacement: string; url: string; tls?: boolean; method?: string; permanent?: boolean; expected: { status: number; location?: string } }> = [
    { desc: 'simple redirection', regex: '^(?:http?:\\/\\/)(foo)(\\.com)(:\\d+)(.*)$', replacement: 'https://${1}bar$2:443$4', url: 'http://foo.com:80', expected: { status: 302, location: 'https://foobar.com:443' } },
    { desc: "URL doesn't match regex", regex: '^(?:http?:\\/\\/)(foo)(\\.com)(:\\d+)(.*)$', replacement: 'https://${1}bar$2:443$4', url: 'http://bar.com:80', expected: { status: 200 } },
    { desc: 'invalid rewritten URL', regex: '^(.*)$', replacement: 'http://192.168.0.%31/', url: 'http://foo.com:80', expected: { status: 502 } },
    { desc: 'HTTP to HTTPS permanent', regex: '^http://', replacement: 'https://$1', permanent: true, url: 'http://foo', expected: { status: 301, location: 'https://foo' } },
    { desc: 'HTTPS to HTTP permanent', regex: 'https://foo', replacement: 'http://foo', permanent: true, tls: true, url: 'https://foo', expected: { status: 301, location: 'http://foo' } },
    { desc: 'HTTP to HTTPS', regex: 'http://foo:80', replacement: 'https://foo:443', url: 'http://foo:80', expected: { status: 302, location: 'https://foo:443' } },
    { desc: 'HTTPS to HTTP', regex: 'https://foo:443', replacement: 'http://foo:80', tls: true, url: 'https://foo:443', expected: { status: 302, location: 'http://foo:80' } },
    { desc: 'HTTP to HTTP', regex: 'http://foo:80', replacement: 'http://foo:88', url: 'http://foo:80', expected: { status: 302, location: 'http://foo:88' } },
    { desc: 'HTTP to HTTP POST', regex: '^http://', replacement: 'https://$1', method: 'POST', url: 'http://foo', expected: { status: 307, location: 'https://foo' } },
    { desc: 'HTTP to HTTP POST permanent', regex: '^http://', replacement: 'https://$1', method: 'POST', permanent: true, url: 'http://foo', expected: { status: 308, location: 'https://foo' } },
    { desc: 'www-redirect without port', regex: '(https?)://[^/:]+(:[0-9]+)?/(.*)', replacement: '$1://example.com$2/$3', permanent: true, url: 'http://www.example.com/path', expected: { status: 301, location: 'http://example.com/path' } },
    { desc: 'www-redirect with port', regex: '(https?)://[^/:]+(:[0-9]+)?/(.*)', replacement: '$1://example.com$2/$3', permanent: true, url: 'http://www.example.com:8080/path', expected: { status: 301, location: 'http://example.com:8080/path' } },
    { desc: 'www-redirect HTTPS without port', regex: '(https?)://[^/:]+(:[0-9]+)?/(.*)', replacement: '$1://example.com$2/$3', permanent: true, tls: true, url: 'https://www.example.com/path', expected: { status: 301, location: 'https://example.com/path' } },
    { desc: 'HEAD is not GET: 307', regex: '^http://', replacement: 'https://', method: 'HEAD', url: 'http://foo/', expected: { status: 307, location: 'https://foo/' } },
    { desc: 'an unchanged URL is not redirected', regex: '^(http://foo)(/.*)$', replacement: '$1$2', url: 'http://foo/x', expected: { status: 200 } },
  ];
  for (const c of cases) {
    test(c.desc, () => {
      const decision = decide(compileGoRegexp('regex', c.regex), c.replacement, requestURL({ tls: c.tls ?? false, host: '', requestURI: c.url }));
      const got =
        decision.kind === 'pass' ? { status: 200 } : decision.kind === 'invalid' ? { status: 502 } : { status: redirectStatus(c.method ?? 'GET', c.permanent ?? false), location: decision.location };
      assert.deepEqual(got, c.expected);
    });
  }

  test('the URL Traefik builds: scheme from TLS only, the Host header as sent, the target as forwarded', () => {
    assert.equal(requestURL({ tls: false, host: 'Example.com:8080', requestURI: '/a%2Fb?q=1' }), 'http://Example.com:8080/a%2Fb?q=1');
    assert.equal(requestURL({ tls: true, host: 'example.com', requestURI: '/' }), 'https://example.com/');
    assert.equal(requestURL({ tls: true, host: 'ignored', requestURI: 'http://abs.test:81/p' }), 'https://abs.test:81/p');
  });

  test('Location is the new URL as Go parses and prints it', () => {
    assert.equal(goLocation('HTTPS://Example.com/a b?x=1#f'), 'https://Example.com/a%20b?x=1#f');
    assert.equal(goLocation('/relative/path'), '/relative/path');
    assert.throws(() => goLocation('http://a b/'), /invalid character " " in host name/);
    assert.throws(() => goLocation('http://h/%zz'), /invalid URL escape "%zz"/);
    assert.throws(() => goLocation(':nope'), /missing protocol scheme/);
  });
});

describe('redirectRegex through a gateway', () => {
  let backend: Listening;
  let gateway: EmbeddedGateway;
  let port: number;

  before(async () => {
    backend = await startServer((req, res) => res.end(JSON.stringify({ url: req.url, host: req.headers.host })));
    gateway = await startGateway({
      plugins: [redirectRegex],
      args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.web.forwardedHeaders.insecure=true'],
      dynamic: {
        http: {
          routers: {
            www: { rule: 'HostRegexp(`^(www\\.)?example\\.test$`)', middlewares: ['www-to-apex'], service: 'b' },
            secure: { rule: 'Host(`app.test`)', middlewares: ['to-https'], service: 'b' },
            moved: { rule: 'Host(`moved.test`)', middlewares: ['old-to-new'], service: 'b' },
            same: { rule: 'Host(`same.test`)', middlewares: ['identity'], service: 'b' },
            invalid: { rule: 'Host(`invalid.test`)', middlewares: ['invalid-url'], service: 'b' },
            broken: { rule: 'Host(`broken.test`)', middlewares: ['broken'], service: 'b' },
          },
          middlewares: {
            'www-to-apex': { redirectRegex: { regex: '^(https?)://www\\.([^/]+)(.*)$', replacement: '${1}://${2}${3}', permanent: true } },
            'to-https': { redirectRegex: { regex: '^http://([^/:]+)(?::[0-9]+)?(.*)$', replacement: 'https://${1}${2}' } },
            'old-to-new': { redirectRegex: { regex: '^(https?://[^/]+)/old/(.*)$', replacement: '${1}/new/${2}', permanent: true } },
            identity: { redirectRegex: { regex: '^(.*)$', replacement: '$1' } },
            'invalid-url': { redirectRegex: { regex: '^(.*)$', replacement: 'http://192.168.0.%31/' } },
            broken: { redirectRegex: { regex: '(?<name>x' } },
          },
          services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } },
        },
      },
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    await gateway.stop();
    await backend.close();
  });

  test('README recipes and statuses', async (t) => {
    const cases: Array<{ desc: string; host: string; path: string; method?: string; headers?: Record<string, string>; expected: { status: number; location?: string } }> = [
      { desc: 'www → apex, permanent, port, path and query kept', host: 'www.example.test:8080', path: '/a/b?x=1', expected: { status: 301, location: 'http://example.test:8080/a/b?x=1' } },
      { desc: 'www → apex, POST keeps its method: 308', host: 'www.example.test', path: '/form', method: 'POST', expected: { status: 308, location: 'http://example.test/form' } },
      { desc: 'the apex itself passes', host: 'example.test', path: '/a', expected: { status: 200 } },
      { desc: 'http → https, the port dropped', host: 'app.test:8080', path: '/p?q=%20', expected: { status: 302, location: 'https://app.test/p?q=%20' } },
      { desc: 'http → https: HEAD gets 307 as in Traefik', host: 'app.test', path: '/p', method: 'HEAD', expected: { status: 307, location: 'https://app.test/p' } },
      { desc: 'X-Forwarded-Proto is not read, even trusted (as Traefik)', host: 'app.test', path: '/p', headers: { 'x-forwarded-proto': 'https' }, expected: { status: 302, location: 'https://app.test/p' } },
      { desc: 'path rewrite, encoded characters kept', host: 'moved.test', path: '/old/a%2Fb%20c', expected: { status: 301, location: 'http://moved.test/new/a%2Fb%20c' } },
      { desc: 'path rewrite, no match passes', host: 'moved.test', path: '/other', expected: { status: 200 } },
      { desc: 'an unchanged URL is not redirected', host: 'same.test', path: '/x', expected: { status: 200 } },
      { desc: 'a new URL Go cannot parse: 502', host: 'invalid.test', path: '/x', expected: { status: 502 } },
    ];
    for (const c of cases) {
      await t.test(c.desc, async () => {
        const reply = await request(port, { method: c.method ?? 'GET', path: c.path, headers: { host: c.host, ...c.headers } });
        assert.deepEqual({ status: reply.status, ...(reply.headers.location ? { location: reply.headers.location } : {}) }, c.expected);
        if (c.expected.status === 200) assert.deepEqual(JSON.parse(reply.body), { url: c.path, host: c.host });
      });
    }
  });

  test('the answer body is the status text, as Traefik writes it', async () => {
    const reply = await get(port, '/', 'www.example.test');
    assert.equal(reply.body, 'Moved Permanently');
    assert.match(String(reply.headers['content-type']), /^text\/plain/);
  });

  test('an invalid regex disables only the routers that use it, with the reason', async () => {
    assert.equal(gateway.info.routers['broken@inline']?.status, 'disabled');
    assert.match(gateway.info.routers['broken@inline']?.errors?.join('\n') ?? '', /regex: invalid regular expression `\(\?<name>x`/);
    assert.equal((await get(port, '/', 'example.test')).status, 200);
  });
});
