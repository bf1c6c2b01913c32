// forwardAuth options from labels and from a file (the same decoder), and the configuration-time checks that name
// the field: address, regular expression, TLS material.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, flatToTree } from '@wharf/core/config';
import { makeCA, makeCert, tempDir } from '@wharf/test-helpers';
import { parse as parseYAML } from 'yaml';
import forwardAuth, { schema, type ForwardAuthConfig } from './index.js';

const DEFAULTS = {
  authResponseHeaders: [],
  authRequestHeaders: [],
  addAuthCookiesToResponse: [],
  forwardBody: false,
  maxBodySize: -1,
  preserveLocationHeader: false,
  preserveRequestMethod: false,
};

describe('forwardAuth options from labels', () => {
  const cases: Array<{ desc: string; labels: Record<string, string>; expected?: unknown; issues?: string[] }> = [
    { desc: 'address alone: Traefik defaults filled in', labels: { address: 'http://auth:9091/verify' }, expected: { address: 'http://auth:9091/verify', ...DEFAULTS } },
    {
      desc: 'every option, keys case-insensitive, lists comma-split',
      labels: {
        ADDRESS: 'https://auth.example/verify?rd=1',
        'tls.ca': '/certs/ca.pem',
        'tls.cert': '/certs/client.pem',
        'TLS.Key': '/certs/client.key',
        'tls.insecureskipverify': 'true',
        trustforwardheader: 'false',
        authResponseHeaders: 'Remote-User, Remote-Groups',
        authresponseheadersregex: '^X-Auth-',
        authrequestheaders: 'Cookie,Authorization',
        addauthcookiestoresponse: 'session',
        forwardbody: 'true',
        maxbodysize: '1048576',
        maxresponsebodysize: '4096',
        headerfield: 'Remote-User',
        preservelocationheader: 'true',
        preserverequestmethod: 'true',
        authsigninurl: 'https://auth.example/login',
      },
      expected: {
        address: 'https://auth.example/verify?rd=1',
        tls: { ca: '/certs/ca.pem', cert: '/certs/client.pem', key: '/certs/client.key', insecureSkipVerify: true },
        trustForwardHeader: false,
        authResponseHeaders: ['Remote-User', 'Remote-Groups'],
        authResponseHeadersRegex: '^X-Auth-',
        authRequestHeaders: ['Cookie', 'Authorization'],
        addAuthCookiesToResponse: ['session'],
        forwardBody: true,
        maxBodySize: 1048576,
        maxResponseBodySize: 4096,
        headerField: 'Remote-User',
        preserveLocationHeader: true,
        preserveRequestMethod: true,
        authSigninURL: 'https://auth.example/login',
      },
    },
    { desc: 'a list written with indexes', labels: { address: 'http://a', 'authresponseheaders[0]': 'X-A', 'authresponseheaders[1]': 'X-B' }, expected: { address: 'http://a', ...DEFAULTS, authResponseHeaders: ['X-A', 'X-B'] } },
    { desc: 'address is required', labels: { trustforwardheader: 'true' }, issues: ['address: is required'] },
    { desc: 'a boolean that is not one', labels: { address: 'http://a', trustforwardheader: 'yes' }, issues: ['trustforwardheader: expected true or false (got "yes")'] },
    { desc: 'maxBodySize below -1', labels: { address: 'http://a', maxbodysize: '-2' }, issues: ['maxbodysize: must be >= -1'] },
    { desc: 'maxBodySize not an integer', labels: { address: 'http://a', maxbodysize: '1MB' }, issues: ['maxbodysize: expected a whole number (got "1MB")'] },
    { desc: 'headerField must be a header name', labels: { address: 'http://a', headerfield: 'Remote User' }, issues: ['headerfield: must match pattern "^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$"'] },
    { desc: 'an unknown option', labels: { address: 'http://a', authresponseheader: 'X-A' }, issues: ["authresponseheader: unknown field 'authresponseheader' (did you mean 'authResponseHeaders'?)"] },
    { desc: 'an unknown tls option', labels: { address: 'http://a', 'tls.certfile': '/x' }, issues: ["tls.certfile: unknown field 'certfile' (known: ca, cert, key, insecureSkipVerify, caOptional)"] },
  ];
  for (const { desc, labels, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, flatToTree(Object.entries(labels)));
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected) assert.deepEqual(result.value, expected);
    });
  }
});

describe('forwardAuth options from a file', () => {
  test('YAML decodes to the same options as labels', () => {
    const file = parseYAML(`
address: http://oauth2-proxy:4180/oauth2/auth
trustForwardHeader: true
authResponseHeaders: [X-Auth-Request-User, X-Auth-Request-Email]
maxResponseBodySize: 1024
tls: { insecureSkipVerify: true }
`);
    const labels = flatToTree(Object.entries({
      address: 'http://oauth2-proxy:4180/oauth2/auth',
      trustForwardHeader: 'true',
      authResponseHeaders: 'X-Auth-Request-User,X-Auth-Request-Email',
      maxResponseBodySize: '1024',
      'tls.insecureSkipVerify': 'true',
    }));
    const fromFile = decode(schema, file);
    assert.deepEqual(fromFile.issues, []);
    assert.deepEqual(fromFile.value, decode(schema, labels).value);
  });

  test('file values of the wrong type are named', () => {
    const result = decode(schema, { address: 'http://a', maxBodySize: 'big', forwardBody: 1 });
    assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), [
      'maxBodySize: expected a whole number (got "big")',
      'forwardBody: expected true or false (got 1)',
    ]);
  });
});

describe('forwardAuth configuration checks', () => {
  const base = (more: Partial<ForwardAuthConfig>): ForwardAuthConfig => ({ address: 'http://auth:9091/', ...DEFAULTS, ...more });

  test('each bad value throws an error naming its field', async () => {
    const dir = tempDir('wharf-forwardauth-');
    const ca = await makeCA();
    const client = await makeCert(['wharf'], { ca, usage: 'client' });
    const other = await makeCert(['other'], { ca });
    const caFile = dir.write('ca.pem', ca.cert);
    const cases: Array<{ desc: string; options: ForwardAuthConfig; error?: RegExp }> = [
      { desc: 'a good configuration', options: base({ tls: { ca: caFile, cert: client.cert, key: client.key, insecureSkipVerify: false } }) },
      { desc: 'address not a URL', options: base({ address: 'auth:9091' }), error: /^address: the scheme must be http or https, got "auth:9091"$/ },
      { desc: 'address with no scheme at all', options: base({ address: '/verify' }), error: /^address: not a URL, got "\/verify"; write it as http:\/\/host:port\/path$/ },
      { desc: 'address with another scheme', options: base({ address: 'ftp://auth/' }), error: /^address: the scheme must be http or https, got "ftp:\/\/auth\/"$/ },
      { desc: 'a regular expression RE2 refuses', options: base({ authResponseHeadersRegex: '^X-(?=Auth)' }), error: /^authResponseHeadersRegex: invalid regular expression `\^X-\(\?=Auth\)`/ },
      { desc: 'tls.cert without tls.key', options: base({ tls: { cert: client.cert, insecureSkipVerify: false } }), error: /^tls\.key: required when tls\.cert is set/ },
      { desc: 'tls.key without tls.cert', options: base({ tls: { key: client.key, insecureSkipVerify: false } }), error: /^tls\.cert: required when tls\.key is set/ },
      { desc: 'tls.ca unreadable', options: base({ tls: { ca: dir.file('absent.pem'), insecureSkipVerify: false } }), error: /^tls\.ca: cannot read .*absent\.pem \(ENOENT\)/ },
      { desc: 'tls.ca not a certificate', options: base({ tls: { ca: dir.write('junk.pem', 'junk'), insecureSkipVerify: false } }), error: /^tls\.ca: no PEM certificate/ },
      { desc: 'tls.key of another certificate', options: base({ tls: { cert: client.cert, key: other.key, insecureSkipVerify: false } }), error: /^tls\.key: the private key does not match the certificate$/ },
      { desc: 'authSigninURL not a URL', options: base({ authSigninURL: 'http://[bad' }), error: /^authSigninURL: not a URL, got "http:\/\/\[bad"$/ },
    ];
    try {
      for (const { desc, options, error } of cases) {
        if (error) assert.throws(() => forwardAuth.validate!(options), { message: error }, desc);
        else assert.doesNotThrow(() => forwardAuth.validate!(options), desc);
      }
      // The key's text never appears in an error.
      assert.throws(() => forwardAuth.validate!(base({ tls: { cert: client.cert, key: `${client.key.slice(0, 80)}\n-----END PRIVATE KEY-----\n`, insecureSkipVerify: false } })), (err: Error) => err.message === 'tls.key: not a PEM private key (or it is encrypted)');
    } finally {
      dir.remove();
    }
  });
});
