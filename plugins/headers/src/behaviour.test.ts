// headers behaviour through a real gateway in front of a real backend, one router per case: the cases restate what
// Traefik's documentation and its tests (header_test.go, headers_test.go, secure_test.go, unrolled/secure) state
// for CORS preflights and responses, allowedHosts, sslProxyHeaders with HSTS, isDevelopment and the rest.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { request, startBackend, type Backend, type RecordedRequest } from '@wharf/test-helpers';
import headers from './index.js';

/** The backend echoes what it received; `x-reply-<name>: value` makes it send `<name>: value` back. */
function replyAsAsked(req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest): void {
  req.resume();
  req.on('end', () => {
    for (const [name, value] of Object.entries(req.headers)) {
      if (name.startsWith('x-reply-') && typeof value === 'string') res.setHeader(name.slice('x-reply-'.length), value);
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(recorded.headers));
  });
}

interface Case {
  desc: string;
  options: Record<string, unknown>;
  method?: string;
  /** Request headers; Host defaults to app.test. */
  send?: Record<string, string>;
  /** Send through the entrypoint that trusts 127.0.0.1's forwarded headers (default: one that does not). */
  trusted?: boolean;
  status: number;
  /** Whether the request reached the backend. */
  forwarded: boolean;
  /** Response headers: a string or pattern to match, null for absent. */
  expect?: Record<string, string | RegExp | null>;
  body?: string;
  /** Request headers the backend saw (null: absent). */
  seen?: Record<string, string | null>;
}

const ORIGIN = 'https://foo.bar.org';
const PREFLIGHT = { origin: ORIGIN, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'origin' };
const CORS_DOC = { accessControlAllowMethods: ['GET', 'OPTIONS', 'PUT'], accessControlAllowOriginList: [ORIGIN], accessControlMaxAge: 600 };
const NO_CORS_ANSWER = { 'access-control-allow-origin': null, 'access-control-allow-methods': null, 'access-control-max-age': null };

const CASES: Case[] = [
  // CORS preflights: answered by the middleware (200, Content-Length 0, no body), never forwarded.
  {
    desc: 'preflight: allowed origin, methods joined with commas, max age',
    options: CORS_DOC, method: 'OPTIONS', send: PREFLIGHT, status: 200, forwarded: false, body: '',
    expect: { 'content-length': '0', 'content-type': null, 'access-control-allow-origin': ORIGIN, 'access-control-allow-methods': 'GET,OPTIONS,PUT', 'access-control-max-age': '600', 'access-control-allow-headers': null, 'access-control-allow-credentials': null },
  },
  {
    desc: 'preflight: wildcard origin answers *',
    options: { ...CORS_DOC, accessControlAllowOriginList: ['*'] }, method: 'OPTIONS', send: PREFLIGHT, status: 200, forwarded: false,
    expect: { 'access-control-allow-origin': '*' },
  },
  {
    desc: 'preflight: wildcard with credentials answers the origin itself',
    options: { ...CORS_DOC, accessControlAllowOriginList: ['*'], accessControlAllowCredentials: true }, method: 'OPTIONS', send: PREFLIGHT, status: 200, forwarded: false,
    expect: { 'access-control-allow-origin': ORIGIN, 'access-control-allow-credentials': 'true' },
  },
  {
    desc: 'preflight: allowed headers joined, whatever the request asked',
    options: { ...CORS_DOC, accessControlAllowHeaders: ['origin', 'X-Forwarded-For'] }, method: 'OPTIONS', send: PREFLIGHT, status: 200, forwarded: false,
    expect: { 'access-control-allow-headers': 'origin,X-Forwarded-For' },
  },
  {
    desc: 'preflight: * headers and methods with credentials echo what the browser asked',
    options: { accessControlAllowOriginList: [ORIGIN], accessControlAllowCredentials: true, accessControlAllowHeaders: ['*'], accessControlAllowMethods: ['*'] },
    method: 'OPTIONS', send: { ...PREFLIGHT, 'access-control-request-headers': 'x-a, x-b' }, status: 200, forwarded: false,
    expect: { 'access-control-allow-headers': 'x-a, x-b', 'access-control-allow-methods': 'PUT' },
  },
  {
    desc: 'preflight: * headers without credentials are sent literally',
    options: { ...CORS_DOC, accessControlAllowHeaders: ['*'] }, method: 'OPTIONS', send: PREFLIGHT, status: 200, forwarded: false,
    expect: { 'access-control-allow-headers': '*' },
  },
  {
    desc: 'preflight: no max age when unset',
    options: { accessControlAllowMethods: ['GET'], accessControlAllowOriginList: ['*'] }, method: 'OPTIONS', send: PREFLIGHT, status: 200, forwarded: false,
    expect: { 'access-control-max-age': null, 'access-control-allow-origin': '*' },
  },
  {
    desc: 'preflight: a denied origin is still answered here, without Access-Control-Allow-Origin',
    options: CORS_DOC, method: 'OPTIONS', send: { ...PREFLIGHT, origin: 'https://evil.test' }, status: 200, forwarded: false,
    expect: { 'access-control-allow-origin': null, 'access-control-allow-methods': 'GET,OPTIONS,PUT' },
  },
  {
    desc: 'preflight: a regex origin',
    options: { accessControlAllowOriginListRegex: ['^https://[a-z]+\\.bar\\.org$'], accessControlAllowMethods: ['GET'] }, method: 'OPTIONS', send: PREFLIGHT, status: 200, forwarded: false,
    expect: { 'access-control-allow-origin': ORIGIN },
  },
  {
    desc: 'preflight answer carries neither custom nor security response headers (written before them, as in Traefik)',
    options: { ...CORS_DOC, customResponseHeaders: { 'X-Custom': 'yes' }, frameDeny: true }, method: 'OPTIONS', send: PREFLIGHT, status: 200, forwarded: false,
    expect: { 'x-custom': null, 'x-frame-options': null, 'access-control-allow-origin': ORIGIN },
  },
  {
    desc: 'OPTIONS without Access-Control-Request-Method is no preflight: forwarded',
    options: CORS_DOC, method: 'OPTIONS', send: { origin: ORIGIN }, status: 200, forwarded: true,
    expect: { 'access-control-allow-origin': ORIGIN, 'access-control-allow-methods': null },
  },
  {
    desc: 'without CORS options a preflight-looking request is forwarded (custom headers do not hijack it)',
    options: { customRequestHeaders: { foo: 'bar' } }, method: 'OPTIONS', send: PREFLIGHT, status: 200, forwarded: true,
    expect: NO_CORS_ANSWER, seen: { foo: 'bar' },
  },

  // CORS on forwarded responses.
  { desc: 'simple request: allowed origin sent back', options: { accessControlAllowOriginList: [ORIGIN] }, send: { origin: ORIGIN }, status: 200, forwarded: true, expect: { 'access-control-allow-origin': ORIGIN } },
  { desc: 'simple request: wildcard', options: { accessControlAllowOriginList: ['*'] }, send: { origin: ORIGIN }, status: 200, forwarded: true, expect: { 'access-control-allow-origin': '*' } },
  { desc: 'simple request: anchored regex', options: { accessControlAllowOriginListRegex: ['^https?://([a-z]+)\\.bar\\.org$'] }, send: { origin: ORIGIN }, status: 200, forwarded: true, expect: { 'access-control-allow-origin': ORIGIN } },
  { desc: 'simple request: a partial regex match is enough', options: { accessControlAllowOriginListRegex: ['([a-z]+)\\.bar'] }, send: { origin: ORIGIN }, status: 200, forwarded: true, expect: { 'access-control-allow-origin': ORIGIN } },
  { desc: 'simple request: regex without a match', options: { accessControlAllowOriginListRegex: ['([a-z]+)\\.bar\\.org'] }, send: { origin: 'https://bar.org' }, status: 200, forwarded: true, expect: { 'access-control-allow-origin': null } },
  { desc: 'simple request: denied origin', options: { accessControlAllowOriginList: [ORIGIN] }, send: { origin: 'https://evil.test' }, status: 200, forwarded: true, expect: { 'access-control-allow-origin': null } },
  { desc: 'simple request: no Origin header', options: { accessControlAllowOriginList: [ORIGIN] }, status: 200, forwarded: true, expect: { 'access-control-allow-origin': null } },
  {
    desc: 'simple request: wildcard with credentials answers the origin',
    options: { accessControlAllowOriginList: ['*'], accessControlAllowCredentials: true }, send: { origin: ORIGIN }, status: 200, forwarded: true,
    expect: { 'access-control-allow-origin': ORIGIN, 'access-control-allow-credentials': 'true' },
  },
  {
    desc: 'simple request: exposed headers joined',
    options: { accessControlAllowOriginList: ['*'], accessControlExposeHeaders: ['origin', 'X-Forwarded-For'] }, send: { origin: ORIGIN }, status: 200, forwarded: true,
    expect: { 'access-control-expose-headers': 'origin,X-Forwarded-For' },
  },
  {
    desc: 'simple request: exposed * with credentials is not sent',
    options: { accessControlAllowOriginList: ['*'], accessControlAllowCredentials: true, accessControlExposeHeaders: ['*'] }, send: { origin: ORIGIN }, status: 200, forwarded: true,
    expect: { 'access-control-expose-headers': null },
  },
  { desc: 'Vary: Origin added', options: { accessControlAllowOriginList: [ORIGIN], addVaryHeader: true }, send: { origin: ORIGIN }, status: 200, forwarded: true, expect: { vary: 'Origin' } },
  { desc: "Vary: appended to the service's", options: { accessControlAllowOriginList: [ORIGIN], addVaryHeader: true }, send: { origin: ORIGIN, 'x-reply-vary': 'Testing' }, status: 200, forwarded: true, expect: { vary: 'Testing,Origin' } },
  { desc: 'Vary: a service Vary of Origin is kept as is', options: { accessControlAllowOriginList: [ORIGIN], addVaryHeader: true }, send: { origin: ORIGIN, 'x-reply-vary': 'Origin' }, status: 200, forwarded: true, expect: { vary: 'Origin' } },
  { desc: 'Vary is added even when the origin is denied', options: { accessControlAllowOriginList: [ORIGIN], addVaryHeader: true }, send: { origin: 'https://evil.test' }, status: 200, forwarded: true, expect: { vary: 'Origin', 'access-control-allow-origin': null } },
  { desc: 'no Vary without addVaryHeader', options: { accessControlAllowOriginList: [ORIGIN] }, send: { origin: ORIGIN }, status: 200, forwarded: true, expect: { vary: null } },
  {
    desc: "the service's own Access-Control-Allow-Origin is replaced",
    options: { accessControlAllowOriginList: ['*'] }, send: { origin: ORIGIN, 'x-reply-access-control-allow-origin': 'http://foo.bar.org' }, status: 200, forwarded: true,
    expect: { 'access-control-allow-origin': '*' },
  },

  // allowedHosts and hostsProxyHeaders.
  { desc: 'allowedHosts: a listed host passes', options: { allowedHosts: ['foo.com', 'bar.com'] }, send: { host: 'foo.com' }, status: 200, forwarded: true },
  { desc: 'allowedHosts: compared case-insensitively', options: { allowedHosts: ['foo.com'] }, send: { host: 'FOO.com' }, status: 200, forwarded: true },
  {
    desc: 'allowedHosts: another host gets 500 Bad Host, not forwarded',
    options: { allowedHosts: ['foo.com', 'bar.com'] }, send: { host: 'boo.com' }, status: 500, forwarded: false, body: 'Bad Host\n',
    expect: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
  },
  { desc: 'allowedHosts: the port is part of the host', options: { allowedHosts: ['foo.com'] }, send: { host: 'foo.com:8080' }, status: 500, forwarded: false },
  {
    desc: 'allowedHosts: the Bad Host answer gets custom and CORS headers but no security headers',
    options: { allowedHosts: ['foo.com'], customResponseHeaders: { 'X-Custom': 'yes' }, accessControlAllowOriginList: ['*'], frameDeny: true }, send: { host: 'boo.com', origin: ORIGIN }, status: 500, forwarded: false,
    expect: { 'x-custom': 'yes', 'access-control-allow-origin': '*', 'x-frame-options': null },
  },
  { desc: 'allowedHosts: judged after customRequestHeaders set Host', options: { allowedHosts: ['inside.test'], customRequestHeaders: { Host: 'inside.test' } }, send: { host: 'outside.test' }, status: 200, forwarded: true, seen: { host: 'inside.test' } },
  {
    desc: 'hostsProxyHeaders: X-Forwarded-Host from a trusted proxy decides',
    options: { allowedHosts: ['public.test'], hostsProxyHeaders: ['X-Forwarded-Host'] }, trusted: true, send: { host: 'internal:8080', 'x-forwarded-host': 'public.test' }, status: 200, forwarded: true,
  },
  {
    desc: 'hostsProxyHeaders: an untrusted X-Forwarded-Host is the Host itself (Traefik replaced it at the entrypoint)',
    options: { allowedHosts: ['public.test'], hostsProxyHeaders: ['X-Forwarded-Host'] }, send: { host: 'internal:8080', 'x-forwarded-host': 'public.test' }, status: 500, forwarded: false,
  },
  { desc: 'hostsProxyHeaders: a plain header is read as sent', options: { allowedHosts: ['public.test'], hostsProxyHeaders: ['X-Original-Host'] }, send: { host: 'internal', 'x-original-host': 'public.test' }, status: 200, forwarded: true },
  { desc: 'hostsProxyHeaders: falls back to Host when absent', options: { allowedHosts: ['app.test'], hostsProxyHeaders: ['X-Original-Host'] }, status: 200, forwarded: true },

  // HTTPS detection and HSTS.
  { desc: 'stsSeconds: not sent over plain HTTP', options: { stsSeconds: 31536000 }, status: 200, forwarded: true, expect: { 'strict-transport-security': null } },
  { desc: 'stsSeconds with forceSTSHeader: sent over plain HTTP', options: { stsSeconds: 1, forceSTSHeader: true }, status: 200, forwarded: true, expect: { 'strict-transport-security': 'max-age=1' } },
  { desc: 'stsSeconds with preload', options: { stsSeconds: 1, forceSTSHeader: true, stsPreload: true }, status: 200, forwarded: true, expect: { 'strict-transport-security': 'max-age=1; preload' } },
  {
    desc: 'sslProxyHeaders: X-Forwarded-Proto https from a trusted load balancer sends HSTS',
    options: { stsSeconds: 31536000, stsIncludeSubdomains: true, sslProxyHeaders: { 'X-Forwarded-Proto': 'https' } }, trusted: true, send: { 'x-forwarded-proto': 'https' }, status: 200, forwarded: true,
    expect: { 'strict-transport-security': 'max-age=31536000; includeSubDomains' },
  },
  { desc: 'sslProxyHeaders: without the header no HSTS', options: { stsSeconds: 1, sslProxyHeaders: { 'X-Forwarded-Proto': 'https' } }, trusted: true, status: 200, forwarded: true, expect: { 'strict-transport-security': null } },
  {
    desc: 'sslProxyHeaders: X-Forwarded-Proto from an untrusted client does not count',
    options: { stsSeconds: 1, sslProxyHeaders: { 'X-Forwarded-Proto': 'https' } }, send: { 'x-forwarded-proto': 'https' }, status: 200, forwarded: true,
    expect: { 'strict-transport-security': null },
  },
  { desc: 'sslProxyHeaders: any other header is compared as sent', options: { stsSeconds: 1, sslProxyHeaders: { 'X-Lb-Tls': 'on' } }, send: { 'x-lb-tls': 'on' }, status: 200, forwarded: true, expect: { 'strict-transport-security': 'max-age=1' } },
  { desc: 'publicKey: sent on HTTPS', options: { publicKey: 'pin-sha256="base64=="; max-age=10', sslProxyHeaders: { 'X-Lb-Tls': 'on' } }, send: { 'x-lb-tls': 'on' }, status: 200, forwarded: true, expect: { 'public-key-pins': 'pin-sha256="base64=="; max-age=10' } },
  { desc: 'publicKey: not on plain HTTP', options: { publicKey: 'pin-sha256="base64=="' }, status: 200, forwarded: true, expect: { 'public-key-pins': null } },

  // isDevelopment.
  { desc: 'isDevelopment: allowedHosts off', options: { allowedHosts: ['foo.com'], isDevelopment: true }, send: { host: 'localhost' }, status: 200, forwarded: true },
  {
    desc: 'isDevelopment: no HSTS or HPKP even when forced or over HTTPS, other headers kept',
    options: { stsSeconds: 1, forceSTSHeader: true, publicKey: 'pin', sslProxyHeaders: { 'X-Lb-Tls': 'on' }, frameDeny: true, isDevelopment: true }, send: { 'x-lb-tls': 'on' }, status: 200, forwarded: true,
    expect: { 'strict-transport-security': null, 'public-key-pins': null, 'x-frame-options': 'DENY' },
  },

  // Security values.
  { desc: 'frameDeny', options: { frameDeny: true }, status: 200, forwarded: true, expect: { 'x-frame-options': 'DENY' } },
  { desc: 'customFrameOptionsValue overrides frameDeny', options: { frameDeny: true, customFrameOptionsValue: 'SAMEORIGIN' }, status: 200, forwarded: true, expect: { 'x-frame-options': 'SAMEORIGIN' } },
  { desc: 'browserXssFilter', options: { browserXssFilter: true }, status: 200, forwarded: true, expect: { 'x-xss-protection': '1; mode=block' } },
  { desc: 'customBrowserXSSValue overrides browserXssFilter', options: { browserXssFilter: true, customBrowserXSSValue: '0' }, status: 200, forwarded: true, expect: { 'x-xss-protection': '0' } },
  {
    desc: 'contentSecurityPolicy and its report-only twin',
    options: { contentSecurityPolicy: "default-src 'self'", contentSecurityPolicyReportOnly: 'default-src https:' }, status: 200, forwarded: true,
    expect: { 'content-security-policy': "default-src 'self'", 'content-security-policy-report-only': 'default-src https:' },
  },
  {
    desc: 'a $NONCE in the CSP becomes a fresh nonce',
    options: { contentSecurityPolicy: 'script-src $NONCE', contentSecurityPolicyReportOnly: 'script-src $NONCE' }, status: 200, forwarded: true,
    expect: { 'content-security-policy': /^script-src 'nonce-[A-Za-z0-9+/]{22}'$/, 'content-security-policy-report-only': /^script-src 'nonce-[A-Za-z0-9+/]{22}'$/ },
  },
  {
    desc: 'a $NONCE CSP next to fixed headers, over HTTPS',
    options: { contentSecurityPolicy: "default-src 'self'; script-src $NONCE", frameDeny: true, stsSeconds: 5, sslProxyHeaders: { 'X-Lb-Tls': 'on' } }, send: { 'x-lb-tls': 'on' }, status: 200, forwarded: true,
    expect: { 'content-security-policy': /^default-src 'self'; script-src 'nonce-[A-Za-z0-9+/]{22}'$/, 'x-frame-options': 'DENY', 'strict-transport-security': 'max-age=5' },
  },
  { desc: 'permissionsPolicy', options: { permissionsPolicy: 'microphone=(),' }, status: 200, forwarded: true, expect: { 'permissions-policy': 'microphone=(),' } },
  { desc: 'referrerPolicy and contentTypeNosniff', options: { referrerPolicy: 'no-referrer', contentTypeNosniff: true }, status: 200, forwarded: true, expect: { 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' } },
  { desc: 'customResponseHeaders win over security headers (applied after them)', options: { frameDeny: true, customResponseHeaders: { 'X-Frame-Options': '' } }, status: 200, forwarded: true, expect: { 'x-frame-options': null } },
  {
    desc: 'custom request and response headers set and removed',
    options: { customRequestHeaders: { 'X-Script-Name': 'test', 'X-Custom-Request-Header': '' }, customResponseHeaders: { 'X-Custom-Response-Header': '', 'X-Served-By': 'wharf' } },
    send: { 'x-custom-request-header': 'drop me', 'x-reply-x-custom-response-header': 'drop me too' }, status: 200, forwarded: true,
    expect: { 'x-custom-response-header': null, 'x-served-by': 'wharf' }, seen: { 'x-script-name': 'test', 'x-custom-request-header': null },
  },

  // Forwarded headers named in customRequestHeaders: what the middleware sets reaches the service (Traefik's proxy
  // keeps it), whoever the peer is.
  {
    desc: 'customRequestHeaders X-Forwarded-Proto and X-Real-Ip reach the service from an untrusted peer',
    options: { customRequestHeaders: { 'X-Forwarded-Proto': 'https', 'X-Real-Ip': '192.0.2.7' } }, send: { 'x-forwarded-proto': 'http' }, status: 200, forwarded: true,
    seen: { 'x-forwarded-proto': 'https', 'x-real-ip': '192.0.2.7' },
  },
  { desc: 'customRequestHeaders X-Forwarded-For "" sends none (Go: a nil header is not populated)', options: { customRequestHeaders: { 'X-Forwarded-For': '' } }, send: { 'x-forwarded-for': '10.0.0.1' }, trusted: true, status: 200, forwarded: true, seen: { 'x-forwarded-for': null } },
  { desc: 'customRequestHeaders X-Forwarded-For: the peer is still appended', options: { customRequestHeaders: { 'X-Forwarded-For': '10.0.0.1' } }, status: 200, forwarded: true, seen: { 'x-forwarded-for': '10.0.0.1, 127.0.0.1' } },
  {
    desc: 'customRequestHeaders Host: forwarded as Host, X-Forwarded-Host keeps the original',
    options: { customRequestHeaders: { Host: 'inside.test' } }, send: { host: 'outside.test:8080' }, status: 200, forwarded: true,
    seen: { host: 'inside.test', 'x-forwarded-host': 'outside.test:8080', 'x-forwarded-port': '8080' },
  },
  { desc: 'customRequestHeaders Host "" changes nothing (Go keeps Host outside the header map)', options: { customRequestHeaders: { Host: '', 'X-A': 'b' } }, status: 200, forwarded: true, seen: { host: 'app.test', 'x-a': 'b' } },

  // Deprecated options: accepted, no effect (Traefik 3.7 no longer hands them to unrolled/secure).
  { desc: 'sslRedirect: no redirect over plain HTTP', options: { sslRedirect: true, sslTemporaryRedirect: true, sslHost: 'secure.test', sslForceHost: true }, status: 200, forwarded: true, expect: { location: null } },
  { desc: 'featurePolicy: no Feature-Policy header', options: { featurePolicy: "camera 'none'", frameDeny: true }, status: 200, forwarded: true, expect: { 'feature-policy': null, 'x-frame-options': 'DENY' } },
];

describe('headers behaviour, case by case', () => {
  let backend: Backend;
  let gateway: EmbeddedGateway;

  before(async () => {
    backend = await startBackend('b', replyAsAsked);
    const routers: Record<string, unknown> = {};
    const middlewares: Record<string, unknown> = {};
    CASES.forEach((c, i) => {
      routers[`c${i}`] = { rule: `PathPrefix(\`/c${i}/\`)`, middlewares: [`m${i}`], service: 'b' };
      middlewares[`m${i}`] = { headers: c.options };
    });
    gateway = await startGateway({
      plugins: [headers],
      args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.trusted.address=127.0.0.1:0', '--entrypoints.trusted.forwardedHeaders.trustedIPs=127.0.0.1'],
      dynamic: { http: { routers, middlewares, services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } } } },
    });
  });

  after(async () => {
    await gateway.stop();
    await backend.close();
  });

  test('every middleware of the table is built', () => {
    const broken = Object.entries(gateway.info.middlewares).filter(([, info]) => info.status !== 'enabled');
    assert.deepEqual(broken.map(([name, info]) => `${name}: ${info.errors?.join('; ')}`), []);
  });

  CASES.forEach((c, i) => {
    test(c.desc, async () => {
      const path = `/c${i}/`;
      const port = gateway.address(c.trusted ? 'trusted' : 'web').port;
      const reached = backend.requests.length;
      const reply = await request(port, { method: c.method ?? 'GET', path, headers: { host: 'app.test', ...c.send } });
      const arrived = backend.requests.slice(reached).filter((r) => r.url === path);
      assert.equal(reply.status, c.status, `status (body: ${reply.body.slice(0, 80)})`);
      assert.equal(arrived.length, c.forwarded ? 1 : 0, 'forwarded to the backend');
      if (c.body !== undefined) assert.equal(reply.body, c.body);
      for (const [name, want] of Object.entries(c.expect ?? {})) {
        const got = reply.headers[name];
        if (want === null) assert.equal(got, undefined, `${name} absent`);
        else if (want instanceof RegExp) assert.match(String(got), want, name);
        else assert.equal(got, want, name);
      }
      for (const [name, want] of Object.entries(c.seen ?? {})) {
        assert.equal(arrived[0]?.headers[name], want ?? undefined, `the backend saw ${name}`);
      }
    });
  });

  test('each request gets its own CSP nonce, the same in both headers', async () => {
    const i = CASES.findIndex((c) => c.desc.includes('$NONCE'));
    const port = gateway.address('web').port;
    const [a, b] = [await request(port, { path: `/c${i}/` }), await request(port, { path: `/c${i}/` })];
    assert.equal(a.headers['content-security-policy'], a.headers['content-security-policy-report-only']);
    assert.notEqual(a.headers['content-security-policy'], b.headers['content-security-policy']);
  });
});
