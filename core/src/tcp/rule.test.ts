// TCP rule matchers, cases from Traefik's pkg/muxer/tcp/matcher_test.go and mux_test.go.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTCPRule, tcpRouterPriority, type ConnectionFacts } from './rule.js';

const facts = (over: Partial<ConnectionFacts>): ConnectionFacts => ({ serverName: '', clientIP: '10.0.0.1', alpn: [], ...over });

describe('TCP rules', () => {
  test('invalid rules are refused with the column and the reason', () => {
    for (const rule of [
      'HostSNI(``)',
      'HostSNI(`example.com`, `example.org`)',
      'HostSNI(`🦭.com`)',
      'HostSNI(`*.*.example.com`)',
      'HostSNIRegexp(``)',
      'HostSNIRegexp(`🦭.com`)',
      'HostSNIRegexp(`(example.com`)',
      'HostSNIRegexp(`example.com`, `example.org`)',
      'ClientIP(``)',
      'ClientIP(`🦭/32`)',
      'ClientIP(`127.0.0.1`, `127.0.0.2`)',
      'ALPN(`acme-tls/1`)',
      'ALPN(``)',
      'ALPN(`h2`, `mqtt`)',
      'Host(`example.com`)',
      '',
    ]) {
      assert.throws(() => compileTCPRule(rule), /rule syntax error at column \d+/, rule);
    }
  });

  test('HostSNI', () => {
    const cases: Array<[string, string, boolean]> = [
      ['HostSNI(`xn--9t9h.com`)', 'xn--9t9h.com', true],
      ['HostSNI(`xn--9t9h.com`)', '🦭.com', false],
      ['HostSNI(`example.com`)', 'example.com', true],
      ['HostSNI(`example.com`)', 'example.org', false],
      ['HostSNI(`*`)', 'example.com', true],
      ['HostSNI(`*`)', '', true],
      ['HostSNI(`example.com.`)', 'example.com', true],
      ['HostSNI(`foo.example.com`)', 'foo.example.com', true],
      ['HostSNI(`foo_bar.example.com`)', 'foo_bar.example.com', true],
      ['HostSNI(`*.example.com`)', 'foo.example.com', true],
      ['HostSNI(`*.example.com`)', 'example.com', false],
      ['HostSNI(`*.example.com`)', 'a.b.example.com', false],
      ['HostSNI(`Example.COM`)', 'example.com', true],
      ['HostSNI(`example.com`)', '', false],
    ];
    for (const [rule, serverName, expected] of cases) assert.equal(compileTCPRule(rule).match(facts({ serverName })), expected, `${rule} on ${serverName}`);
  });

  test('HostSNIRegexp', () => {
    const rule = compileTCPRule('HostSNIRegexp(`^example\\.(com|org)$`)');
    assert.deepEqual(['example.com', 'example.com.', 'example.org', 'exampleuorg'].map((serverName) => rule.match(facts({ serverName }))), [true, false, true, false]);
    const v2Template = compileTCPRule('HostSNIRegexp(`example.{tld:(com|org)}`)');
    assert.deepEqual(['example.com', 'example.org'].map((serverName) => v2Template.match(facts({ serverName }))), [false, false]);
  });

  test('ClientIP', () => {
    const exact = compileTCPRule('ClientIP(`20.20.20.20`)');
    assert.deepEqual(['20.20.20.20', '10.10.10.10'].map((clientIP) => exact.match(facts({ clientIP }))), [true, false]);
    const cidr = compileTCPRule('ClientIP(`20.20.20.20/24`)');
    assert.deepEqual(['20.20.20.20', '20.20.20.40', '10.10.10.10'].map((clientIP) => cidr.match(facts({ clientIP }))), [true, true, false]);
    const v6 = compileTCPRule('ClientIP(`2001:db8::/32`)');
    assert.equal(v6.match(facts({ clientIP: '2001:db8::1' })), true);
  });

  test('ALPN', () => {
    const rule = compileTCPRule('ALPN(`h2`)');
    assert.deepEqual([['h2'], ['mqtt'], []].map((alpn) => rule.match(facts({ alpn }))), [true, false, false]);
  });

  test('operators combine matchers', () => {
    const rule = compileTCPRule('HostSNI(`db.example`) && (ClientIP(`10.0.0.0/8`) || !ALPN(`h2`))');
    assert.equal(rule.match(facts({ serverName: 'db.example', clientIP: '10.1.2.3', alpn: ['h2'] })), true);
    assert.equal(rule.match(facts({ serverName: 'db.example', clientIP: '192.168.0.1', alpn: ['h2'] })), false);
    assert.equal(rule.match(facts({ serverName: 'db.example', clientIP: '192.168.0.1', alpn: [] })), true);
    assert.equal(rule.match(facts({ serverName: 'other', clientIP: '10.1.2.3' })), false);
  });

  test('only exactly HostSNI(`*`) is the catch-all, with priority -1', () => {
    assert.equal(compileTCPRule('HostSNI(`*`)').catchAll, true);
    assert.equal(compileTCPRule('HostSNI(`example.com`)').catchAll, false);
    assert.equal(compileTCPRule('HostSNIRegexp(`.*`)').catchAll, false);
    assert.equal(compileTCPRule('HostSNI(`*`) && ClientIP(`10.0.0.1`)').catchAll, false);
    assert.equal(tcpRouterPriority(undefined, compileTCPRule('HostSNI(`*`)')), -1);
    assert.equal(tcpRouterPriority(undefined, compileTCPRule('HostSNI(`example.com`)')), 'HostSNI(`example.com`)'.length);
    assert.equal(tcpRouterPriority(7, compileTCPRule('HostSNI(`*`)')), 7);
  });

  test('ruleSyntax v2 takes lists of values', () => {
    const rule = compileTCPRule('HostSNI(`a.example`, `b.example`)', 'v2');
    assert.deepEqual(['a.example', 'b.example', 'c.example'].map((serverName) => rule.match(facts({ serverName }))), [true, true, false]);
  });
});
