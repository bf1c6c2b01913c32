// Tests for every matcher's Traefik v3 semantics, argument validation, and ReDoS immunity via re2js.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createRequestFacts,
  matchingPath,
  normalizeHost,
  sanitizePath,
  unwrapMappedIPv4,
  type RequestFacts,
} from '../request-facts.js';
import { buildMatcher, clientIP, host, pathRegexp } from './matchers.js';
import { compileRule } from './index.js';
import { RuleSyntaxError, type RuleSyntax } from './parser.js';

/** Raw request parts, normalized the way requestFacts() normalizes a real request. */
interface TestRequest {
  method?: string;
  /** Raw Host header value. */
  host?: string;
  /** Raw path as sent on the wire. */
  path?: string;
  query?: string;
  headers?: Record<string, string[]>;
  clientIP?: string;
}

function factsOf(request: TestRequest): RequestFacts {
  return createRequestFacts({
    method: request.method ?? 'GET',
    host: normalizeHost(request.host ?? 'example.com'),
    path: sanitizePath(matchingPath(request.path ?? '/')),
    rawQuery: request.query ?? '',
    headers: request.headers ?? {},
    clientIP: unwrapMappedIPv4(request.clientIP ?? '192.0.2.10'),
  });
}

interface MatchCase {
  desc: string;
  rule: string;
  request: TestRequest;
  expected: boolean;
  /** Default v3. */
  syntax?: RuleSyntax;
}

function runMatchCases(cases: MatchCase[]): void {
  for (const { desc, rule, request, expected, syntax } of cases) {
    test(`${desc}: ${rule}`, () => assert.equal(compileRule(rule, syntax).match(factsOf(request)), expected));
  }
}

describe('Host', () => {
  runMatchCases([
    { desc: 'exact host', rule: 'Host(`example.com`)', request: { host: 'example.com' }, expected: true },
    { desc: 'host header with port', rule: 'Host(`example.com`)', request: { host: 'example.com:8080' }, expected: true },
    { desc: 'upper-case host header', rule: 'Host(`example.com`)', request: { host: 'EXAMPLE.COM' }, expected: true },
    { desc: 'host header with trailing dot', rule: 'Host(`example.com`)', request: { host: 'example.com.' }, expected: true },
    { desc: 'rule with upper case and trailing dot', rule: 'Host(`EXAMPLE.COM.`)', request: { host: 'example.com' }, expected: true },
    { desc: 'other host', rule: 'Host(`example.com`)', request: { host: 'example.org' }, expected: false },
    { desc: 'subdomain is not the host', rule: 'Host(`example.com`)', request: { host: 'www.example.com' }, expected: false },
    { desc: 'suffix is not the host', rule: 'Host(`example.com`)', request: { host: 'badexample.com' }, expected: false },
    { desc: 'no host at all', rule: 'Host(`example.com`)', request: { host: '' }, expected: false },
    { desc: 'IPv6 in brackets with port', rule: 'Host(`[::1]`)', request: { host: '[::1]:8080' }, expected: true },
    { desc: 'bare IPv6 rule value', rule: 'Host(`2001:db8::1`)', request: { host: '[2001:DB8::1]' }, expected: true },
    { desc: 'IPv4 literal with port', rule: 'Host(`127.0.0.1`)', request: { host: '127.0.0.1:80' }, expected: true },
    { desc: 'punycode host', rule: 'Host(`xn--9t9h.com`)', request: { host: 'xn--9t9h.com' }, expected: true },
    { desc: 'v2 multi-value, second', rule: 'Host(`a.example`, `b.example`)', request: { host: 'b.example' }, expected: true, syntax: 'v2' },
    { desc: 'v2 multi-value, none', rule: 'Host(`a.example`, `b.example`)', request: { host: 'c.example' }, expected: false, syntax: 'v2' },
    { desc: 'wildcard: one label in front', rule: 'Host(`*.example.com`)', request: { host: 'test.example.com' }, expected: true },
    { desc: 'wildcard: upper case, port', rule: 'Host(`*.Example.com`)', request: { host: 'OTHER.example.com:8443' }, expected: true },
    { desc: 'wildcard: not the apex', rule: 'Host(`*.example.com`)', request: { host: 'example.com' }, expected: false },
    { desc: 'wildcard: not two labels', rule: 'Host(`*.example.com`)', request: { host: 'a.b.example.com' }, expected: false },
    { desc: 'wildcard: not a suffix of a label', rule: 'Host(`*.example.com`)', request: { host: 'test.otherexample.com' }, expected: false },
    { desc: '* matches everything', rule: 'Host(`*`)', request: { host: 'localhost' }, expected: true },
    { desc: '* matches no host at all', rule: 'Host(`*`)', request: { host: '' }, expected: true },
  ]);
});

describe('HostRegexp', () => {
  runMatchCases([
    { desc: 'applied to the lower-cased, port-less host', rule: 'HostRegexp(`^[a-z]+\\.example\\.com$`)', request: { host: 'API.Example.com:443' }, expected: true },
    { desc: 'upper-case class never sees upper case', rule: 'HostRegexp(`^[A-Z]+\\.com$`)', request: { host: 'EXAMPLE.com' }, expected: false },
    { desc: 'not anchored implicitly', rule: 'HostRegexp(`example`)', request: { host: 'www.example.org' }, expected: true },
    { desc: 'anchored by the user', rule: 'HostRegexp(`^example\\.org$`)', request: { host: 'www.example.org' }, expected: false },
    { desc: 'Traefik v2 {name:re} syntax is literal in v3', rule: 'HostRegexp(`{sub:[a-z]+}.example.com`)', request: { host: 'api.example.com' }, expected: false },
  ]);
});

describe('Path', () => {
  runMatchCases([
    { desc: 'exact path', rule: 'Path(`/css`)', request: { path: '/css' }, expected: true },
    { desc: 'trailing slash differs', rule: 'Path(`/css`)', request: { path: '/css/' }, expected: false },
    { desc: 'case-sensitive', rule: 'Path(`/css`)', request: { path: '/CSS' }, expected: false },
    { desc: 'no prefix matching', rule: 'Path(`/css`)', request: { path: '/css/main.css' }, expected: false },
    { desc: '%61 is decoded', rule: 'Path(`/a`)', request: { path: '/%61' }, expected: true },
    { desc: '%7E is decoded', rule: 'Path(`/~user`)', request: { path: '/%7Euser' }, expected: true },
    { desc: 'encoded rule value is normalized too', rule: 'Path(`/%7euser`)', request: { path: '/~user' }, expected: true },
    { desc: '%2F is not a slash', rule: 'Path(`/a/b`)', request: { path: '/a%2Fb' }, expected: false },
    { desc: '%2F matches %2F, hex case-insensitively', rule: 'Path(`/a%2Fb`)', request: { path: '/a%2fb' }, expected: true },
    { desc: '%20 is decoded for routing, as Traefik', rule: 'Path(`/foo bar`)', request: { path: '/foo%20bar' }, expected: true },
    { desc: 'PathPrefix with a space', rule: 'PathPrefix(`/foo bar`)', request: { path: '/foo%20bar/x' }, expected: true },
    { desc: 'UTF-8 is decoded for routing', rule: 'Path(`/café`)', request: { path: '/caf%C3%A9' }, expected: true },
    { desc: 'an encoded slash is not a separator', rule: 'Path(`/a/b`)', request: { path: '/a%2Fb' }, expected: false },
    { desc: 'double slash is sanitized', rule: 'Path(`/admin`)', request: { path: '//admin' }, expected: true },
    { desc: 'dot segment is sanitized', rule: 'Path(`/admin`)', request: { path: '/./admin' }, expected: true },
    { desc: 'dot-dot segment is sanitized', rule: 'Path(`/admin`)', request: { path: '/public/../admin' }, expected: true },
    { desc: 'encoded dot-dot is decoded then sanitized', rule: 'Path(`/admin`)', request: { path: '/public/%2e%2e/admin' }, expected: true },
    { desc: 'encoded slashes hide no traversal', rule: 'Path(`/admin`)', request: { path: '/public%2F..%2Fadmin' }, expected: false },
    { desc: 'v2 multi-value', rule: 'Path(`/a`, `/b`)', request: { path: '/b' }, expected: true, syntax: 'v2' },
    { desc: 'v2 multi-value, none', rule: 'Path(`/a`, `/b`)', request: { path: '/c' }, expected: false, syntax: 'v2' },
  ]);
});

describe('PathPrefix', () => {
  runMatchCases([
    { desc: 'prefix itself', rule: 'PathPrefix(`/api`)', request: { path: '/api' }, expected: true },
    { desc: 'below the prefix', rule: 'PathPrefix(`/api`)', request: { path: '/api/v1/users' }, expected: true },
    { desc: 'plain string prefix, like Traefik', rule: 'PathPrefix(`/api`)', request: { path: '/apiv2' }, expected: true },
    { desc: 'shorter path', rule: 'PathPrefix(`/api`)', request: { path: '/ap' }, expected: false },
    { desc: 'case-sensitive', rule: 'PathPrefix(`/api`)', request: { path: '/API' }, expected: false },
    { desc: 'root prefix matches all', rule: 'PathPrefix(`/`)', request: { path: '/anything' }, expected: true },
    { desc: 'v2 multi-value, second', rule: 'PathPrefix(`/api`,`/dashboard`)', request: { path: '/dashboard/x' }, expected: true, syntax: 'v2' },
    { desc: 'v2 multi-value, none', rule: 'PathPrefix(`/api`,`/dashboard`)', request: { path: '/other' }, expected: false, syntax: 'v2' },
  ]);
});

describe('PathRegexp', () => {
  runMatchCases([
    { desc: 'anchored at start by the user', rule: 'PathRegexp(`^/(css|js)`)', request: { path: '/css/main.css' }, expected: true },
    { desc: 'case-sensitive', rule: 'PathRegexp(`^/(css|js)`)', request: { path: '/CSS' }, expected: false },
    { desc: 'no match', rule: 'PathRegexp(`^/(css|js)`)', request: { path: '/html' }, expected: false },
    { desc: 'not anchored implicitly (start)', rule: 'PathRegexp(`\\.php$`)', request: { path: '/a/index.php' }, expected: true },
    { desc: 'not anchored implicitly (both)', rule: 'PathRegexp(`css`)', request: { path: '/assets/css/x' }, expected: true },
    { desc: 'Go/RE2 syntax classes', rule: 'PathRegexp(`^/v[[:digit:]]+/\\pL+$`)', request: { path: '/v12/abc' }, expected: true },
  ]);
});

describe('Method', () => {
  runMatchCases([
    { desc: 'same method', rule: 'Method(`GET`)', request: { method: 'GET' }, expected: true },
    { desc: 'other method', rule: 'Method(`GET`)', request: { method: 'POST' }, expected: false },
    { desc: 'rule value is upper-cased', rule: 'Method(`get`)', request: { method: 'GET' }, expected: true },
    { desc: 'request method is compared as sent', rule: 'Method(`GET`)', request: { method: 'get' }, expected: false },
    { desc: 'v2 multi-value', rule: 'Method(`GET`, `POST`)', request: { method: 'POST' }, expected: true, syntax: 'v2' },
    { desc: 'v2 multi-value, none', rule: 'Method(`GET`, `POST`)', request: { method: 'PUT' }, expected: false, syntax: 'v2' },
  ]);
});

describe('Header', () => {
  const rule = 'Header(`X-Forwarded-Proto`, `https`)';
  runMatchCases([
    { desc: 'single line equal', rule, request: { headers: { 'x-forwarded-proto': ['https'] } }, expected: true },
    { desc: 'one of the repeated lines equal', rule, request: { headers: { 'x-forwarded-proto': ['http', 'https'] } }, expected: true },
    { desc: 'a comma-joined line is one value', rule, request: { headers: { 'x-forwarded-proto': ['http, https'] } }, expected: false },
    { desc: 'value is case-sensitive', rule, request: { headers: { 'x-forwarded-proto': ['HTTPS'] } }, expected: false },
    { desc: 'missing header', rule, request: { headers: { 'x-forwarded-host': ['https'] } }, expected: false },
    { desc: 'name is case-insensitive', rule: 'Header(`x-forwarded-proto`, `https`)', request: { headers: { 'x-forwarded-proto': ['https'] } }, expected: true },
    { desc: 'prototype property is not a header', rule: 'Header(`constructor`, `x`)', request: { headers: {} }, expected: false },
    { desc: '__proto__ is not a header', rule: 'HeaderRegexp(`__proto__`, `.*`)', request: { headers: {} }, expected: false },
  ]);
});

describe('HeaderRegexp', () => {
  const rule = 'HeaderRegexp(`X-Forwarded-Proto`, `^https?$`)';
  runMatchCases([
    { desc: 'matches', rule, request: { headers: { 'x-forwarded-proto': ['http'] } }, expected: true },
    { desc: 'regexp is case-sensitive', rule, request: { headers: { 'x-forwarded-proto': ['HTTPS'] } }, expected: false },
    { desc: 'any one of the repeated lines', rule, request: { headers: { 'x-forwarded-proto': ['ws', 'https'] } }, expected: true },
    { desc: 'missing header', rule, request: {}, expected: false },
    { desc: 'not anchored implicitly', rule: 'HeaderRegexp(`Accept`, `json`)', request: { headers: { accept: ['application/json, text/plain'] } }, expected: true },
  ]);
});

describe('Query', () => {
  const rule = 'Query(`q`, `traefik`)';
  runMatchCases([
    { desc: 'equal value', rule, request: { query: 'q=traefik' }, expected: true },
    { desc: 'among other keys', rule, request: { query: 'rel=ddg&q=traefik' }, expected: true },
    { desc: 'first of repeated keys', rule, request: { query: 'q=traefik&q=proxy' }, expected: true },
    { desc: 'second of repeated keys', rule, request: { query: 'q=awesome&q=traefik' }, expected: true },
    { desc: 'other value', rule, request: { query: 'q=nginx' }, expected: false },
    { desc: 'value is case-sensitive', rule, request: { query: 'q=TRAEFIK' }, expected: false },
    { desc: 'key is case-sensitive', rule, request: { query: 'Q=traefik' }, expected: false },
    { desc: 'no query', rule, request: { query: '' }, expected: false },
    { desc: 'values are decoded (+)', rule: 'Query(`q`, `a b`)', request: { query: 'q=a+b' }, expected: true },
    { desc: 'values are decoded (%20)', rule: 'Query(`q`, `a b`)', request: { query: 'q=a%20b' }, expected: true },
    { desc: 'semicolon separates pairs', rule: 'Query(`b`, `2`)', request: { query: 'a=1;b=2' }, expected: true },
    { desc: 'key only: bare key', rule: 'Query(`mobile`)', request: { query: 'mobile' }, expected: true },
    { desc: 'key only: empty value', rule: 'Query(`mobile`)', request: { query: 'mobile=' }, expected: true },
    { desc: 'key only: a value does not count', rule: 'Query(`mobile`)', request: { query: 'mobile=true' }, expected: false },
    { desc: 'key only: one empty among repeats', rule: 'Query(`mobile`)', request: { query: 'mobile=true&mobile' }, expected: true },
    { desc: 'key only: absent', rule: 'Query(`mobile`)', request: { query: 'desktop' }, expected: false },
  ]);
});

describe('QueryRegexp', () => {
  const rule = 'QueryRegexp(`q`, `^(traefik|nginx)$`)';
  runMatchCases([
    { desc: 'matches', rule, request: { query: 'q=nginx' }, expected: true },
    { desc: 'no match', rule, request: { query: 'q=haproxy' }, expected: false },
    { desc: 'key is case-sensitive', rule, request: { query: 'Q=nginx' }, expected: false },
    { desc: 'any one of repeated keys', rule, request: { query: 'q=awesome&q=traefik' }, expected: true },
    { desc: 'empty value still needs the key', rule: 'QueryRegexp(`q`, `^.*$`)', request: { query: 'q=' }, expected: true },
    { desc: 'absent key never matches', rule: 'QueryRegexp(`q`, `^.*$`)', request: { query: 'rel=ddg' }, expected: false },
  ]);
});

describe('ClientIP', () => {
  runMatchCases([
    { desc: 'IPv4 CIDR, inside', rule: 'ClientIP(`192.168.1.0/24`)', request: { clientIP: '192.168.1.100' }, expected: true },
    { desc: 'IPv4 CIDR, outside', rule: 'ClientIP(`192.168.1.0/24`)', request: { clientIP: '192.168.2.1' }, expected: false },
    { desc: 'CIDR with host bits set is masked', rule: 'ClientIP(`10.1.2.3/8`)', request: { clientIP: '10.200.0.1' }, expected: true },
    { desc: 'odd prefix length', rule: 'ClientIP(`10.0.0.0/12`)', request: { clientIP: '10.15.255.255' }, expected: true },
    { desc: 'odd prefix length, outside', rule: 'ClientIP(`10.0.0.0/12`)', request: { clientIP: '10.16.0.0' }, expected: false },
    { desc: 'plain IPv4', rule: 'ClientIP(`127.0.0.1`)', request: { clientIP: '127.0.0.1' }, expected: true },
    { desc: 'plain IPv4, other', rule: 'ClientIP(`127.0.0.1`)', request: { clientIP: '127.0.0.2' }, expected: false },
    { desc: 'IPv4-mapped peer against IPv4 CIDR', rule: 'ClientIP(`10.0.0.0/8`)', request: { clientIP: '::ffff:10.1.2.3' }, expected: true },
    { desc: 'IPv4-mapped rule value against IPv4 peer', rule: 'ClientIP(`::ffff:10.0.0.1`)', request: { clientIP: '10.0.0.1' }, expected: true },
    { desc: 'IPv6 CIDR, inside', rule: 'ClientIP(`2001:db8::/32`)', request: { clientIP: '2001:db8:1::5' }, expected: true },
    { desc: 'IPv6 CIDR, outside', rule: 'ClientIP(`2001:db8::/32`)', request: { clientIP: '2001:db9::1' }, expected: false },
    { desc: 'plain IPv6, written differently', rule: 'ClientIP(`2001:DB8:0:0::1`)', request: { clientIP: '2001:db8::1' }, expected: true },
    { desc: 'IPv6 loopback is not IPv4 loopback', rule: 'ClientIP(`::1`)', request: { clientIP: '127.0.0.1' }, expected: false },
    { desc: 'IPv6 ::/0 does not contain IPv4 (as in Go)', rule: 'ClientIP(`::/0`)', request: { clientIP: '10.0.0.1' }, expected: false },
    { desc: 'IPv4 0.0.0.0/0 does not contain IPv6', rule: 'ClientIP(`0.0.0.0/0`)', request: { clientIP: '2001:db8::1' }, expected: false },
    { desc: 'link-local peer with zone', rule: 'ClientIP(`fe80::/10`)', request: { clientIP: 'fe80::1%eth0' }, expected: true },
    { desc: 'v2 multi-value', rule: 'ClientIP(`10.0.0.0/8`, `192.168.0.0/16`)', request: { clientIP: '192.168.5.5' }, expected: true, syntax: 'v2' },
    { desc: 'v2 multi-value, none', rule: 'ClientIP(`10.0.0.0/8`, `192.168.0.0/16`)', request: { clientIP: '172.16.0.1' }, expected: false, syntax: 'v2' },
    { desc: 'unparsable peer never matches', rule: 'ClientIP(`0.0.0.0/0`)', request: { clientIP: 'not-an-ip' }, expected: false },
    { desc: 'empty peer never matches', rule: 'ClientIP(`0.0.0.0/0`)', request: { clientIP: '' }, expected: false },
  ]);
});

describe('operators over matchers', () => {
  const request: TestRequest = { method: 'GET', host: 'a.example', path: '/api/x' };
  runMatchCases([
    { desc: '&& both true', rule: 'Host(`a.example`) && PathPrefix(`/api`)', request, expected: true },
    { desc: '&& one false', rule: 'Host(`a.example`) && PathPrefix(`/web`)', request, expected: false },
    { desc: '|| one true', rule: 'Host(`b.example`) || PathPrefix(`/api`)', request, expected: true },
    { desc: '|| both false', rule: 'Host(`b.example`) || PathPrefix(`/web`)', request, expected: false },
    { desc: '! of true', rule: '!Host(`a.example`)', request, expected: false },
    { desc: '! of false', rule: '!Host(`b.example`)', request, expected: true },
    { desc: 'precedence: && before ||', rule: 'Host(`b.example`) && Method(`POST`) || PathPrefix(`/api`)', request, expected: true },
    { desc: 'parentheses change the result', rule: 'Host(`b.example`) && (Method(`POST`) || PathPrefix(`/api`))', request, expected: false },
    { desc: 'negated group (De Morgan)', rule: '!(Host(`a.example`) && Method(`POST`))', request, expected: true },
    { desc: 'chain of three', rule: 'Host(`a.example`) && Method(`GET`) && !PathPrefix(`/api/admin`)', request, expected: true },
  ]);
});

describe('matcher argument errors', () => {
  const cases: { desc: string; rule: string; expectedError: { position: number; message: string }; syntax?: RuleSyntax }[] = [
    { desc: 'non-ASCII host', rule: 'Host(`🦭.com`)', expectedError: { position: 1, message: 'Host: invalid value `🦭.com`: non-ASCII characters are not allowed, use the punycode (xn--) form' } },
    { desc: 'not a host name', rule: 'Host(`/`)', expectedError: { position: 1, message: 'Host: invalid value `/`: not a valid host name' } },
    { desc: 'host with port', rule: 'Host(`example.com:8080`)', expectedError: { position: 1, message: 'Host: invalid value `example.com:8080`: the port must not be included, the request host is compared without it' } },
    { desc: 'non-ASCII host regexp', rule: 'HostRegexp(`🦭`)', expectedError: { position: 1, message: 'HostRegexp: invalid value `🦭`: non-ASCII characters are not allowed, use the punycode (xn--) form' } },
    { desc: 'invalid host regexp', rule: 'HostRegexp(`(example.com`)', expectedError: { position: 1, message: 'HostRegexp: invalid regular expression `(example.com`: missing closing )' } },
    { desc: 'path without leading slash', rule: 'Path(`css`)', expectedError: { position: 1, message: "Path: path `css` must start with '/'" } },
    { desc: 'prefix without leading slash', rule: 'Host(`a`) && PathPrefix(`css`)', expectedError: { position: 14, message: "PathPrefix: path `css` must start with '/'" } },
    { desc: 'invalid path regexp, positioned', rule: 'Path(`/a`) && PathRegexp(`/(css`)', expectedError: { position: 15, message: 'PathRegexp: invalid regular expression `/(css`: missing closing )' } },
    { desc: 'lookahead is not RE2', rule: 'PathRegexp(`^/(?=admin)`)', expectedError: { position: 1, message: 'PathRegexp: invalid regular expression `^/(?=admin)`: invalid or unsupported Perl syntax' } },
    { desc: 'backreference is not RE2', rule: 'HeaderRegexp(`X`, `(a)\\1`)', expectedError: { position: 1, message: 'HeaderRegexp: invalid regular expression `(a)\\1`: invalid escape sequence' } },
    { desc: 'invalid query regexp', rule: 'QueryRegexp(`q`, `(x`)', expectedError: { position: 1, message: 'QueryRegexp: invalid regular expression `(x`: missing closing )' } },
    { desc: 'invalid header name', rule: 'Header(`Bad Name`, `x`)', expectedError: { position: 1, message: 'Header: `Bad Name` is not a valid header name' } },
    { desc: 'invalid header name (regexp)', rule: 'HeaderRegexp(`a:b`, `x`)', expectedError: { position: 1, message: 'HeaderRegexp: `a:b` is not a valid header name' } },
    { desc: 'not an IP', rule: 'ClientIP(`1`)', expectedError: { position: 1, message: 'ClientIP: `1` is not an IPv4/IPv6 address or CIDR' } },
    { desc: 'IPv4 prefix too long', rule: 'ClientIP(`10.0.0.0/33`)', expectedError: { position: 1, message: 'ClientIP: `10.0.0.0/33` is not an IPv4/IPv6 address or CIDR' } },
    { desc: 'IPv6 prefix too long', rule: 'ClientIP(`::1/129`)', expectedError: { position: 1, message: 'ClientIP: `::1/129` is not an IPv4/IPv6 address or CIDR' } },
    { desc: 'leading zeros (ambiguous octal)', rule: 'ClientIP(`010.0.0.1`)', expectedError: { position: 1, message: 'ClientIP: `010.0.0.1` is not an IPv4/IPv6 address or CIDR' } },
    { desc: 'zone in rule value', rule: 'ClientIP(`fe80::1%eth0`)', expectedError: { position: 1, message: 'ClientIP: `fe80::1%eth0` is not an IPv4/IPv6 address or CIDR' } },
    { desc: 'second value invalid (v2)', rule: 'ClientIP(`10.0.0.0/8`, `nope`)', syntax: 'v2', expectedError: { position: 1, message: 'ClientIP: `nope` is not an IPv4/IPv6 address or CIDR' } },
    { desc: 'several values under v3', rule: 'Host(`a`, `b`)', expectedError: { position: 1, message: "Host takes exactly 1 argument, got 2; Traefik v3's rule syntax takes one value per matcher: write Host(`a`) || Host(`b`), or set the router's ruleSyntax (or core.defaultRuleSyntax) to v2" } },
    { desc: 'several methods under v3', rule: 'Method(`GET`, `POST`)', expectedError: { position: 1, message: "Method takes exactly 1 argument, got 2; Traefik v3's rule syntax takes one value per matcher: write Host(`a`) || Host(`b`), or set the router's ruleSyntax (or core.defaultRuleSyntax) to v2" } },
    { desc: 'a partial-label wildcard', rule: 'Host(`*example.com`)', expectedError: { position: 1, message: 'Host: invalid value `*example.com`: a wildcard stands for one whole label, as in `*.example.com`' } },
    { desc: 'a v2 matcher under v3', rule: 'Headers(`X`, `y`)', expectedError: { position: 1, message: "unknown matcher 'Headers' (did you mean 'Header'?); known matchers are ClientIP, Header, HeaderRegexp, Host, HostRegexp, Method, Path, PathPrefix, PathRegexp, Query, QueryRegexp" } },
    { desc: 'v2: odd Headers arguments', rule: 'Headers(`X-Forwarded-Host`, `example.com`, `example.org`)', syntax: 'v2', expectedError: { position: 1, message: 'Headers takes name/value pairs, got 3 arguments' } },
    { desc: 'v2: HeadersRegexp without a value', rule: 'HeadersRegexp(`titi`)', syntax: 'v2', expectedError: { position: 1, message: 'HeadersRegexp takes name/value pairs, got 1' } },
    { desc: 'v2: Query without =', rule: 'Query(`titi`)', syntax: 'v2', expectedError: { position: 1, message: 'Query: `titi` is not a key=value pair (v2 syntax; write `titi=` for any value)' } },
    { desc: 'v2: unbalanced template', rule: 'Query(`titi={test`)', syntax: 'v2', expectedError: { position: 1, message: 'Query: unbalanced braces in `titi={test`' } },
    { desc: 'v2: template without a name', rule: 'Path(`/{:[0-9]+}`)', syntax: 'v2', expectedError: { position: 1, message: 'Path: missing name or pattern in `{:[0-9]+}`' } },
    { desc: 'v2: PathRegexp is v3 only', rule: 'PathRegexp(`^/a`)', syntax: 'v2', expectedError: { position: 1, message: "unknown matcher 'PathRegexp'; known matchers are ClientIP, Headers, HeadersRegexp, Host, HostHeader, HostRegexp, Method, Path, PathPrefix, Query" } },
  ];
  for (const { desc, rule, expectedError, syntax } of cases) {
    test(desc, () => {
      assert.throws(
        () => compileRule(rule, syntax),
        (err: unknown) => {
          assert.ok(err instanceof RuleSyntaxError);
          assert.equal(err.code, 'WHARF_ERR_RULE_SYNTAX');
          assert.equal(err.message, `rule syntax error at column ${expectedError.position}: ${expectedError.message}`);
          assert.equal(err.position, expectedError.position);
          return true;
        },
      );
    });
  }
});

// Traefik v2's syntax (ruleSyntax: v2), cases from pkg/muxer/http/matcher_v2_test.go.
describe('v2 syntax: gorilla/mux templates and lists', () => {
  const v2 = (desc: string, rule: string, request: TestRequest, expected: boolean): MatchCase => ({ desc, rule, request, expected, syntax: 'v2' });
  runMatchCases([
    v2('Host list', 'Host(`example.com`, `example.org`)', { host: 'EXAMPLE.org:8080' }, true),
    v2('HostHeader is Host', 'HostHeader(`example.com`)', { host: 'example.com' }, true),
    v2('HostRegexp: a plain template is literal', 'HostRegexp(`^[A-Z]+\\.com$`)', { host: 'example.com' }, false),
    v2('HostRegexp: unbalanced paren is literal text', 'HostRegexp(`(example.com`)', { host: 'example.com' }, false),
    v2('HostRegexp: a variable with a pattern', 'HostRegexp(`{domain:[a-zA-Z-]+\\.com}`)', { host: 'example.com' }, true),
    v2('HostRegexp: anchored at the end', 'HostRegexp(`{domain:[a-zA-Z-]+\\.com}`)', { host: 'example.org' }, false),
    v2('HostRegexp: optional group', 'HostRegexp(`{subdomain:(foo\\.)?bar\\.com}`)', { host: 'bar.com' }, true),
    v2('HostRegexp: optional group, dot is literal', 'HostRegexp(`{subdomain:(foo\\.)?bar\\.com}`)', { host: 'fooubar.com' }, false),
    v2('HostRegexp: host is lower-cased first', 'HostRegexp(`{dummy:[a-z-]+\\.bar\\.com}`)', { host: 'FOO.bar.com' }, true),
    v2('HostRegexp: default variable is one label', 'HostRegexp(`{sub}.example.com`)', { host: 'api.example.com' }, true),
    v2('HostRegexp: default variable is not two labels', 'HostRegexp(`{sub}.example.com`)', { host: 'a.b.example.com' }, false),
    v2('Path list', 'Path(`/css`, `/js`)', { path: '/js' }, true),
    v2('Path is exact', 'Path(`/css`)', { path: '/css/' }, false),
    v2('Path template', 'Path(`/css{path:(/.*)?}`)', { path: '/css/components/component.css' }, true),
    v2('Path template, literal dot', 'Path(`/css{path:(/.*)?}`)', { path: '/css.css' }, false),
    v2('Path default variable is one segment', 'Path(`/users/{id}`)', { path: '/users/42' }, true),
    v2('Path default variable is not two', 'Path(`/users/{id}`)', { path: '/users/42/x' }, false),
    v2('PathPrefix list', 'PathPrefix(`/css`, `/js`)', { path: '/js/main.js' }, true),
    v2('PathPrefix template', 'PathPrefix(`/css-{name:[0-9]?}`)', { path: '/css-333333/components/component.css' }, true),
    v2('PathPrefix template, no match', 'PathPrefix(`/css-{name:[0-9]?}`)', { path: '/css.css' }, false),
    v2('Method list', 'Method(`GET`, `post`)', { method: 'POST' }, true),
    v2('Headers exact value', 'Headers(`X-Forwarded-Proto`, `https`)', { headers: { 'x-forwarded-proto': ['http', 'https'] } }, true),
    v2('Headers all pairs', 'Headers(`X-A`, `1`, `X-B`, `2`)', { headers: { 'x-a': ['1'] } }, false),
    v2('HeadersRegexp unanchored Go regexp', 'HeadersRegexp(`X-Forwarded-Proto`, `^https?$`)', { headers: { 'x-forwarded-proto': ['ws', 'https'] } }, true),
    v2('HeadersRegexp is case-sensitive', 'HeadersRegexp(`X-Forwarded-Proto`, `^https?$`)', { headers: { 'x-forwarded-proto': ['HTTPS'] } }, false),
    v2('HeadersRegexp: braces that are no repetition are literal', 'HeadersRegexp(`X-Forwarded-Proto`, `http{secure:s?}`)', { headers: { 'x-forwarded-proto': ['http{secure:}'] } }, true),
    v2('HeadersRegexp: braces are not a template', 'HeadersRegexp(`X-Forwarded-Proto`, `http{secure:s?}`)', { headers: { 'x-forwarded-proto': ['https'] } }, false),
    v2('Query pairs, all required', 'Query(`foo=bar`, `bar=baz`)', { query: 'foo=bar&bar=baz' }, true),
    v2('Query pairs, one missing', 'Query(`foo=bar`, `bar=baz`)', { query: 'bar=baz' }, false),
    v2('Query with several equals', 'Query(`foo=b=ar`)', { query: 'foo=b=ar' }, true),
    v2('Query value is exact', 'Query(`foo=b=ar`)', { query: 'foo=bar' }, false),
    v2('Query key= takes any value', 'Query(`foo=`)', { query: 'foo=anything' }, true),
    v2('Query key= needs the key', 'Query(`foo=`)', { query: 'bar=1' }, false),
    v2('Query template', 'Query(`id={id:[0-9]+}`)', { query: 'id=42' }, true),
    v2('Query template, no match', 'Query(`id={id:[0-9]+}`)', { query: 'id=x' }, false),
    v2('ClientIP list', 'ClientIP(`127.0.0.1`, `192.168.1.0/24`)', { clientIP: '192.168.1.7' }, true),
  ]);
});

describe('matcher functions used directly', () => {
  test('take validated arguments and return a predicate', () => {
    const matchesHost = host(['Example.COM.']);
    assert.equal(matchesHost(factsOf({ host: 'example.com:80' })), true);
    assert.equal(clientIP(['10.0.0.0/8'])(factsOf({ clientIP: '10.9.9.9' })), true);
  });

  const arityCases: { desc: string; name: Parameters<typeof buildMatcher>[0]; args: string[]; message: string }[] = [
    { desc: 'Header with one argument', name: 'Header', args: ['X'], message: 'Header takes exactly 2 arguments, got 1' },
    { desc: 'Query with none', name: 'Query', args: [], message: 'Query takes 1 or 2 arguments, got 0' },
    { desc: 'Host with none', name: 'Host', args: [], message: 'Host takes exactly 1 argument, got 0' },
    { desc: 'empty argument', name: 'Method', args: [''], message: 'empty argument to Method: values must not be empty' },
  ];
  for (const { desc, name, args, message } of arityCases) {
    test(`buildMatcher rejects ${desc}`, () => {
      assert.throws(() => buildMatcher(name, args, 7), { message: `rule syntax error at column 7: ${message}` });
    });
  }
});

describe('regexps run on re2js (linear time)', () => {
  // With a backtracking engine these inputs take exponential time; RE2 answers in one pass.
  const longAs = 'a'.repeat(50_000);
  const cases: { desc: string; matcher: () => boolean; expected: boolean }[] = [
    { desc: '^(a+)+$ rejects aaaa…b', matcher: () => pathRegexp(['^/(a+)+$'])(factsOf({ path: `/${longAs}b` })), expected: false },
    { desc: '^(a+)+$ accepts aaaa…a', matcher: () => pathRegexp(['^/(a+)+$'])(factsOf({ path: `/${longAs}` })), expected: true },
    {
      desc: '^(a|aa)+$ in a header rejects aaaa…!',
      matcher: () => compileRule('HeaderRegexp(`X`, `^(a|aa)+$`)').match(factsOf({ headers: { x: [`${longAs}!`] } })),
      expected: false,
    },
    {
      desc: '(x+x+)+y in a query rejects xxxx…',
      matcher: () => compileRule('QueryRegexp(`q`, `(x+x+)+y`)').match(factsOf({ query: `q=${'x'.repeat(50_000)}` })),
      expected: false,
    },
  ];
  for (const { desc, matcher, expected } of cases) {
    test(desc, () => assert.equal(matcher(), expected));
  }
});
