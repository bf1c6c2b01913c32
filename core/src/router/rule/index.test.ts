// Tests for compileRule: required-host extraction, compiled evaluation, and end-to-end matching of real requests.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRequestFacts, requestFacts } from '../request-facts.js';
import { rawRequest, startRawRequestServer, type RawRequestServer } from '../raw-request.test.helper.js';
import { compileRule, parseRule, ruleHostNames, RuleSyntaxError } from './index.js';

describe('compileRule hosts', () => {
  const cases: { desc: string; rule: string; expected: string[] | null }[] = [
    { desc: 'single Host', rule: 'Host(`a.example`)', expected: ['a.example'] },
    { desc: 'normalized like the request host', rule: 'Host(`A.Example.`)', expected: ['a.example'] },
    { desc: 'IPv6 brackets removed', rule: 'Host(`[::1]`)', expected: ['::1'] },
    { desc: 'Host && anything', rule: 'Host(`a`) && PathPrefix(`/x`)', expected: ['a'] },
    { desc: 'anything && Host', rule: 'PathPrefix(`/x`) && Method(`GET`) && Host(`a`)', expected: ['a'] },
    { desc: 'Host in a parenthesized conjunction', rule: '(Host(`a`) && Path(`/`)) && Method(`GET`)', expected: ['a'] },
    { desc: 'first Host of a conjunction', rule: 'Host(`a`) && (Host(`b`) || Path(`/`))', expected: ['a'] },
    { desc: 'wildcard Host is not exact', rule: 'Host(`*.a`)', expected: null },
    { desc: 'Host(`*`) is not exact', rule: 'Host(`*`) && Path(`/`)', expected: null },
    { desc: 'disjunction of Hosts is their union', rule: 'Host(`a`) || Host(`b`) && Path(`/`)', expected: ['a', 'b'] },
    { desc: 'Host || non-Host', rule: 'Host(`a`) || Path(`/`)', expected: null },
    { desc: 'negated Host', rule: '!Host(`a`)', expected: null },
    { desc: 'negated Host in a conjunction', rule: '!Host(`a`) && Path(`/`)', expected: null },
    { desc: 'HostRegexp is not exact', rule: 'HostRegexp(`^a$`)', expected: null },
    { desc: 'no Host', rule: 'PathPrefix(`/`)', expected: null },
  ];
  for (const { desc, rule, expected } of cases) {
    test(desc, () => assert.deepEqual(compileRule(rule).hosts, expected));
  }

  test('v2 Host and HostHeader lists are exact hosts', () => {
    assert.deepEqual(compileRule('Host(`a`, `b`, `a`)', 'v2').hosts, ['a', 'b']);
    assert.deepEqual(compileRule('HostHeader(`c`) && Path(`/`)', 'v2').hosts, ['c']);
  });

  test('compiled rule keeps its text and is immutable', () => {
    const compiled = compileRule('Host(`a`) && Path(`/`)');
    assert.equal(compiled.rule, 'Host(`a`) && Path(`/`)');
    assert.ok(Object.isFrozen(compiled));
    assert.ok(Object.isFrozen(compiled.hosts));
  });

  test('parseRule is re-exported', () => {
    assert.equal(parseRule('Host(`a`)').type, 'matcher');
  });

  test('invalid rules throw RuleSyntaxError', () => {
    assert.throws(() => compileRule('Host(`a`'), RuleSyntaxError);
    assert.throws(() => compileRule('Path(`a`)'), RuleSyntaxError);
  });
});

describe('compileRule evaluation', () => {
  test('long operator chains evaluate without deep recursion', () => {
    const conjuncts = Array.from({ length: 20_000 }, () => 'PathPrefix(`/a`)');
    const rule = compileRule(['Host(`h`)', ...conjuncts].join(' && '));
    assert.deepEqual(rule.hosts, ['h']);
    assert.equal(rule.match(createRequestFacts({ host: 'h', path: '/a/b' })), true);
    assert.equal(rule.match(createRequestFacts({ host: 'h', path: '/b' })), false);

    const disjuncts = Array.from({ length: 20_000 }, (_, i) => `Host(\`h${i}\`)`);
    const anyHost = compileRule(disjuncts.join(' || '));
    assert.equal(anyHost.hosts?.length, 20_000);
    assert.equal(anyHost.match(createRequestFacts({ host: 'h19999' })), true);
  });

  test('&& and || short-circuit', () => {
    let queried = 0;
    const facts = createRequestFacts({ host: 'a', rawQuery: 'q=1' });
    const spied = Object.create(facts, {
      query: {
        get() {
          queried++;
          return facts.query;
        },
      },
    });
    assert.equal(compileRule('Host(`b`) && Query(`q`, `1`)').match(spied), false);
    assert.equal(compileRule('Host(`a`) || Query(`q`, `1`)').match(spied), true);
    assert.equal(queried, 0);
  });
});

describe('compileRule against real requests', () => {
  let server: RawRequestServer;
  before(async () => {
    server = await startRawRequestServer();
  });
  after(() => server.close());

  const cases: { desc: string; rule: string; raw: string; expected: boolean }[] = [
    {
      desc: 'absolute-form target host wins over Host header',
      rule: 'Host(`target.example`)',
      raw: rawRequest('GET http://target.example/x HTTP/1.1', 'Host: other.example'),
      expected: true,
    },
    {
      desc: 'absolute-form: the Host header is ignored',
      rule: 'Host(`other.example`)',
      raw: rawRequest('GET http://target.example/x HTTP/1.1', 'Host: other.example'),
      expected: false,
    },
    {
      desc: 'absolute-form path is matched',
      rule: 'Host(`target.example`) && Path(`/xa`)',
      raw: rawRequest('GET http://target.example:8080/x%61 HTTP/1.1', 'Host: other.example'),
      expected: true,
    },
    {
      desc: '%61 decoded in path matching',
      rule: 'Path(`/admin`)',
      raw: rawRequest('GET /%61dmin HTTP/1.1', 'Host: h'),
      expected: true,
    },
    {
      desc: '%2F kept in path matching',
      rule: 'PathPrefix(`/api/`)',
      raw: rawRequest('GET /api%2Fsecret HTTP/1.1', 'Host: h'),
      expected: false,
    },
    {
      desc: 'dot segments resolved before matching',
      rule: 'PathPrefix(`/admin`)',
      raw: rawRequest('GET /public/../admin/panel HTTP/1.1', 'Host: h'),
      expected: true,
    },
    {
      desc: 'Host header with port and upper case',
      rule: 'Host(`example.com`) && Method(`POST`)',
      raw: rawRequest('POST / HTTP/1.1', 'Host: EXAMPLE.com:8443', 'Content-Length: 0'),
      expected: true,
    },
    {
      desc: 'repeated header lines',
      rule: 'Header(`X-Env`, `prod`)',
      raw: rawRequest('GET / HTTP/1.1', 'Host: h', 'X-Env: dev', 'X-Env: prod'),
      expected: true,
    },
    {
      desc: 'query key without value',
      rule: 'Query(`debug`) && Query(`v`, `2`)',
      raw: rawRequest('GET /?debug&v=2 HTTP/1.1', 'Host: h'),
      expected: true,
    },
    {
      desc: 'client IP of the TCP peer, not X-Forwarded-For',
      rule: 'ClientIP(`127.0.0.0/8`)',
      raw: rawRequest('GET / HTTP/1.1', 'Host: h', 'X-Forwarded-For: 203.0.113.9'),
      expected: true,
    },
  ];
  for (const { desc, rule, raw, expected } of cases) {
    test(desc, async () => {
      const compiled = compileRule(rule);
      const { req, peer } = await server.send(raw);
      assert.equal(compiled.match(requestFacts(req, peer)), expected);
    });
  }
});

describe("ruleHostNames (Traefik's ParseDomains: the domains a certificate resolver orders)", () => {
  const cases: { desc: string; rule: string; expected: string[] }[] = [
    { desc: 'every Host of an ||, in order, lower-cased', rule: 'Host(`B.example`) || Host(`a.example`)', expected: ['b.example', 'a.example'] },
    { desc: 'through && and !', rule: 'Host(`a.example`) && !Host(`b.example`)', expected: ['a.example', 'b.example'] },
    { desc: 'HostRegexp gives none', rule: 'HostRegexp(`^.+$`) && Path(`/`)', expected: [] },
  ];
  for (const { desc, rule, expected } of cases) test(desc, () => assert.deepEqual(ruleHostNames(rule), expected));
  test('v2 syntax: multi-value Host', () => assert.deepEqual(ruleHostNames('Host(`a.example`,`b.example`)', 'v2'), ['a.example', 'b.example']));
  test('an invalid rule throws', () => assert.throws(() => ruleHostNames('Host(`a`'), RuleSyntaxError));
});
