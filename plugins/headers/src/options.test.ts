// headers options: decoded from labels (flat strings) and from a file (typed values), with errors that name the
// label or field; validate's cross-field checks (empty middleware, regular expressions, header names and values).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, dynamicSchema, flatToTree, PluginRegistry } from '@wharf/core/config';
import headers, { schema } from './index.js';

interface DecodeCase {
  desc: string;
  input: unknown;
  expected?: unknown;
  issues?: string[];
}

function runDecodeCases(cases: DecodeCase[], toTree: (input: unknown) => unknown): void {
  for (const { desc, input, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, toTree(input));
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected !== undefined) assert.deepEqual(result.value, expected);
    });
  }
}

const labels = (input: unknown) => flatToTree(Object.entries(input as Record<string, string>));

describe('headers options from labels', () => {
  runDecodeCases(
    [
      {
        desc: "Traefik's CORS label example: lists comma-split, numbers and booleans coerced, keys case-insensitive",
        input: {
          accesscontrolallowmethods: 'GET,OPTIONS,PUT',
          accesscontrolallowheaders: '*',
          accesscontrolalloworiginlist: 'https://foo.bar.org,https://example.org',
          accesscontrolmaxage: '100',
          addvaryheader: 'true',
        },
        expected: {
          accessControlAllowMethods: ['GET', 'OPTIONS', 'PUT'],
          accessControlAllowHeaders: ['*'],
          accessControlAllowOriginList: ['https://foo.bar.org', 'https://example.org'],
          accessControlMaxAge: 100,
          addVaryHeader: true,
        },
      },
      {
        desc: 'the rest of the CORS set',
        input: { accessControlAllowCredentials: 'true', accesscontrolalloworiginlistregex: '^https://[a-z]+\\.example\\.org$', accesscontrolexposeheaders: 'X-Total, X-Page' },
        expected: { accessControlAllowCredentials: true, accessControlAllowOriginListRegex: ['^https://[a-z]+\\.example\\.org$'], accessControlExposeHeaders: ['X-Total', 'X-Page'] },
      },
      {
        desc: 'hosts and HTTPS detection: lists and a header map keep the header names as written',
        input: { allowedhosts: 'example.org, www.example.org', hostsproxyheaders: 'X-Forwarded-Host', 'sslproxyheaders.X-Forwarded-Proto': 'https', stsseconds: '31536000', isdevelopment: 'false' },
        expected: { allowedHosts: ['example.org', 'www.example.org'], hostsProxyHeaders: ['X-Forwarded-Host'], sslProxyHeaders: { 'X-Forwarded-Proto': 'https' }, stsSeconds: 31536000, isDevelopment: false },
      },
      {
        desc: 'the remaining security values',
        input: { contentsecuritypolicyreportonly: "default-src 'self'", publickey: 'pin-sha256="x"; max-age=5', custombrowserxssvalue: '0' },
        expected: { contentSecurityPolicyReportOnly: "default-src 'self'", publicKey: 'pin-sha256="x"; max-age=5', customBrowserXSSValue: '0' },
      },
      {
        desc: 'deprecated options still decode (Traefik accepts them)',
        input: { sslredirect: 'true', ssltemporaryredirect: 'false', sslhost: 'example.org', sslforcehost: 'true', featurepolicy: "camera 'none'" },
        expected: { sslRedirect: true, sslTemporaryRedirect: false, sslHost: 'example.org', sslForceHost: true, featurePolicy: "camera 'none'" },
      },
      {
        desc: 'bad values are named with the label and what was expected',
        input: { accesscontrolallowcredentials: 'yes', accesscontrolmaxage: 'ten' },
        issues: ['accesscontrolallowcredentials: expected true or false (got "yes")', 'accesscontrolmaxage: expected a whole number (got "ten")'],
      },
      {
        desc: 'an unknown option suggests the nearest one',
        input: { accesscontrolalloworigin: 'https://a.test' },
        issues: ["accesscontrolalloworigin: unknown field 'accesscontrolalloworigin' (did you mean 'accessControlAllowOriginList'?)"],
      },
    ],
    labels,
  );
});

describe('headers options from a file', () => {
  runDecodeCases(
    [
      {
        desc: 'typed YAML/JSON values pass as they are',
        input: { accessControlAllowOriginList: ['https://a.test'], accessControlMaxAge: 0, sslProxyHeaders: { 'X-Forwarded-Proto': 'https' }, stsSeconds: 0 },
        expected: { accessControlAllowOriginList: ['https://a.test'], accessControlMaxAge: 0, sslProxyHeaders: { 'X-Forwarded-Proto': 'https' }, stsSeconds: 0 },
      },
      { desc: 'a map where a map belongs', input: { sslProxyHeaders: ['X-Forwarded-Proto'] }, issues: ['sslProxyHeaders: expected an object'] },
      { desc: 'stsSeconds below 0', input: { stsSeconds: -1 }, issues: ['stsSeconds: must be >= 0'] },
      { desc: 'a boolean written as a word', input: { addVaryHeader: 'sometimes' }, issues: ['addVaryHeader: expected true or false (got "sometimes")'] },
    ],
    (input) => input,
  );
});

describe('headers validate', () => {
  const invalid: Array<{ desc: string; options: Record<string, unknown>; message: string | RegExp }> = [
    { desc: 'nothing set (Traefik: headers configuration not valid)', options: {}, message: /^headers: no option set, got an empty middleware/ },
    { desc: 'only false flags and empty maps count as nothing', options: { frameDeny: false, customResponseHeaders: {} }, message: /^headers: no option set/ },
    { desc: 'a malformed origin regex is named with its index', options: { accessControlAllowOriginListRegex: ['^https://ok$', 'a(b'] }, message: /^accessControlAllowOriginListRegex\[1\]: invalid regular expression `a\(b`/ },
    { desc: 'a header name with a space', options: { customResponseHeaders: { 'X Bad': 'v' } }, message: /^customResponseHeaders: not a valid header name, got "X Bad"/ },
    { desc: 'a value with a line break', options: { customRequestHeaders: { 'X-A': 'a\r\nInjected: 1' } }, message: /^customRequestHeaders\.X-A: a header value cannot hold line breaks/ },
    { desc: 'a security value with a line break', options: { contentSecurityPolicy: "default-src 'self'\n" }, message: /^contentSecurityPolicy: a header value cannot/ },
    { desc: 'a CORS list entry with a control character', options: { accessControlAllowMethods: ['GET', 'PU\u0000T'] }, message: /^accessControlAllowMethods\[1\]: a header value cannot/ },
    { desc: 'an sslProxyHeaders name', options: { sslProxyHeaders: { 'X-Forwarded-Proto:': 'https' } }, message: /^sslProxyHeaders: not a valid header name/ },
    { desc: 'a hostsProxyHeaders name', options: { hostsProxyHeaders: ['X-Forwarded-Host', ''] }, message: /^hostsProxyHeaders\[1\]: not a valid header name/ },
  ];
  for (const { desc, options, message } of invalid) {
    test(desc, () => assert.throws(() => headers.validate!(options as never), { message }));
  }

  const valid: Array<{ desc: string; options: Record<string, unknown> }> = [
    { desc: 'stsSeconds 0 alone is a valid (silent) middleware, as in Traefik', options: { stsSeconds: 0 } },
    { desc: 'a deprecated option alone is accepted', options: { sslRedirect: true } },
    { desc: 'accessControlMaxAge 0 alone defines CORS', options: { accessControlMaxAge: 0 } },
    { desc: 'isDevelopment alone', options: { isDevelopment: true } },
  ];
  for (const { desc, options } of valid) {
    test(desc, () => assert.doesNotThrow(() => headers.validate!(options as never)));
  }
});

test('in a whole configuration, a bad label is named by its full path', () => {
  const registry = new PluginRegistry();
  registry.register(headers);
  const tree = flatToTree(Object.entries({ 'http.middlewares.cors.headers.accesscontrolmaxage': '1h', 'http.middlewares.ok.headers.framedeny': 'true' }));
  const { value, disabled } = decode<{ http: { middlewares: Record<string, unknown> } }>(dynamicSchema(registry), tree);
  const problems = [...disabled.values()].flat().map((i) => `${i.source}: ${i.message}`);
  assert.deepEqual(problems, ['http.middlewares.cors.headers.accesscontrolmaxage: expected a whole number (got "1h")']);
  assert.deepEqual(value?.http.middlewares.ok, { headers: { frameDeny: true } });
});
