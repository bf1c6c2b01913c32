// TLS options in Traefik's names → Node's secure-context settings, and the errors that name the bad field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecureContext } from 'node:tls';
import { decode } from '@wharf/core/config';
import { makeCA, tempDir } from '@wharf/test-helpers';
import { compileOptions } from './options.js';
import { TLSOptionsSchema, type TLSOptionsConfig } from './schema.js';

/** Options as a user writes them, with the schema's defaults filled in (as the decoder does). */
function options(raw: Record<string, unknown>): TLSOptionsConfig {
  const { value, issues } = decode<TLSOptionsConfig>(TLSOptionsSchema, raw);
  assert.deepEqual(issues, []);
  return value;
}

const cases: Array<{ desc: string; config: Record<string, unknown>; expected: Record<string, unknown> }> = [
  { desc: 'defaults: TLS 1.2 to 1.3, h2 then http/1.1, no client certificates', config: {}, expected: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', alpn: ['h2', 'http/1.1'], clientAuthType: 'NoClientCert', sniStrict: false } },
  { desc: 'versions by Go name', config: { minVersion: 'VersionTLS13', maxVersion: 'VersionTLS13' }, expected: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } },
  { desc: 'version names are case-insensitive', config: { minVersion: 'versiontls12' }, expected: { minVersion: 'TLSv1.2' } },
  { desc: 'a minVersion below TLS 1.2 lowers the OpenSSL security level so it can work', config: { minVersion: 'VersionTLS10' }, expected: { minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' } },
  {
    desc: 'Go cipher suites map to OpenSSL names; TLS 1.3 suites stay on as in Go',
    config: { cipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305'] },
    expected: { ciphers: 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305' },
  },
  { desc: 'listing a TLS 1.3 suite restricts TLS 1.3 to it', config: { cipherSuites: ['TLS_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'] }, expected: { ciphers: 'TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES256-GCM-SHA384' } },
  { desc: 'curves by Go name', config: { curvePreferences: ['X25519', 'CurveP256', 'secp384r1'] }, expected: { ecdhCurve: 'X25519:P-256:P-384' } },
  { desc: 'sniStrict and ALPN', config: { sniStrict: true, alpnProtocols: ['http/1.1'] }, expected: { sniStrict: true, alpn: ['http/1.1'] } },
  { desc: 'session tickets off, server cipher order', config: { disableSessionTickets: true, preferServerCipherSuites: true }, expected: { honorCipherOrder: true, noTickets: true } },
];

for (const { desc, config, expected } of cases) {
  test(desc, () => {
    const compiled = compileOptions('test', options(config));
    const actual: Record<string, unknown> = {
      minVersion: compiled.context.minVersion,
      maxVersion: compiled.context.maxVersion,
      ciphers: compiled.context.ciphers,
      ecdhCurve: compiled.context.ecdhCurve,
      alpn: compiled.alpnProtocols,
      clientAuthType: compiled.clientAuthType,
      sniStrict: compiled.sniStrict,
      honorCipherOrder: compiled.context.honorCipherOrder,
      noTickets: compiled.context.secureOptions !== undefined,
    };
    for (const [key, value] of Object.entries(expected)) assert.deepEqual(actual[key], value, key);
    // Whatever it compiled to, OpenSSL accepts it.
    createSecureContext(compiled.context);
  });
}

const errors: Array<{ desc: string; config: Record<string, unknown>; expected: RegExp }> = [
  { desc: 'unknown cipher suite', config: { cipherSuites: ['TLS_NOPE'] }, expected: /tls\.options\.test\.cipherSuites: unknown cipher suite 'TLS_NOPE'/ },
  { desc: 'unknown curve', config: { curvePreferences: ['CurveP999'] }, expected: /tls\.options\.test\.curvePreferences: unknown curve 'CurveP999'/ },
  { desc: 'min above max', config: { minVersion: 'VersionTLS13', maxVersion: 'VersionTLS12' }, expected: /minVersion VersionTLS13 is above maxVersion VersionTLS12/ },
  { desc: 'verification without a CA', config: { clientAuth: { clientAuthType: 'RequireAndVerifyClientCert' } }, expected: /clientAuth: RequireAndVerifyClientCert needs caFiles/ },
  { desc: 'CA file that is not a certificate', config: { clientAuth: { caFiles: ['-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----'], clientAuthType: 'RequireAndVerifyClientCert' } }, expected: /clientAuth\.caFiles\[0\]: no PEM certificate \(-----BEGIN CERTIFICATE-----\) in \(inline PEM\)/ },
  { desc: 'empty ALPN list', config: { alpnProtocols: [] }, expected: /alpnProtocols: list at least one protocol/ },
];

for (const { desc, config, expected } of errors) {
  test(`error: ${desc}`, () => {
    assert.throws(() => compileOptions('test', options(config)), expected);
  });
}

test('an unknown clientAuthType is a decoding error naming the field', () => {
  const { issues } = decode(TLSOptionsSchema, { clientAuth: { clientAuthType: 'Sometimes' } });
  assert.equal(issues.length, 1);
  assert.match(`${issues[0]!.source}: ${issues[0]!.message}`, /clientAuth\.clientAuthType/);
});

test('CA files are read from disk, parsed, and listed for watching', async () => {
  const dir = tempDir();
  try {
    // A real certificate: each CA block is parsed when the options are compiled (core readCertificates).
    const file = dir.write('ca.pem', (await makeCA()).cert);
    const compiled = compileOptions('test', options({ clientAuth: { caFiles: [file], clientAuthType: 'VerifyClientCertIfGiven' } }));
    assert.deepEqual(compiled.files, [file]);
  } finally {
    dir.remove();
  }
});
