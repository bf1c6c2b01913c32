// Certificate loading (files, inline PEM, errors that name files but never show keys) and the SNI lookup.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { makeCert, tempDir, type Pem } from '@wharf/test-helpers';
import { CertificateIndex, generateDefaultCertificate, GENERATED_CN, loadCertificate, namesOf, pemSource, type LoadedCertificate } from './certificates.js';

let exact: Pem;
let wildcard: Pem;
let multi: Pem;

before(async () => {
  [exact, wildcard, multi] = await Promise.all([makeCert(['a.test']), makeCert(['*.w.test']), makeCert(['one.test', 'Two.Test.', '*.three.test'], { cn: 'cn.test' })]);
});

function inline(pem: Pem): LoadedCertificate {
  return loadCertificate(pemSource(pem.cert, 'cert'), pemSource(pem.key, 'key'));
}

test('names come from the SAN and the CN, lower-cased without trailing dot', () => {
  assert.deepEqual(namesOf(new X509Certificate(multi.cert)).sort(), ['*.three.test', 'cn.test', 'one.test', 'two.test']);
});

test('the generated default certificate is self-signed, valid now and named so no SNI picks it', async () => {
  const cert = await generateDefaultCertificate();
  const x509 = new X509Certificate(cert.cert);
  assert.match(x509.subject, new RegExp(`CN=${GENERATED_CN}`));
  assert.ok(x509.verify(x509.publicKey));
  assert.ok(new Date(x509.validTo).getTime() > Date.now());
  assert.match(cert.names[0]!, /\.wharf\.default$/);
});

test('lookup: exact, then wildcard one label deep, else nothing (the caller uses the default)', () => {
  const a = inline(exact);
  const w = inline(wildcard);
  const m = inline(multi);
  const index = new CertificateIndex([a, w, m]);
  const cases: Array<[string | undefined, LoadedCertificate | undefined]> = [
    ['a.test', a],
    ['A.TEST.', a],
    ['x.w.test', w],
    ['w.test', undefined],
    ['y.x.w.test', undefined],
    ['two.test', m],
    ['deep.three.test', m],
    ['nothing.test', undefined],
    [undefined, undefined],
    ['', undefined],
  ];
  for (const [name, expected] of cases) assert.equal(index.match(name), expected, String(name));
});

test('the first certificate configured for a name keeps it', () => {
  const first = inline(exact);
  const second = inline(exact);
  assert.equal(new CertificateIndex([first, second]).match('a.test'), first);
});

test('files and inline PEM load alike; files are listed for watching', () => {
  const dir = tempDir();
  try {
    const fromFiles = loadCertificate(pemSource(dir.write('a.crt', exact.cert), 'c'), pemSource(dir.write('a.key', exact.key), 'k'));
    assert.deepEqual(fromFiles.names, ['a.test']);
    assert.equal(fromFiles.files.length, 2);
    assert.equal(inline(exact).files.length, 0);
  } finally {
    dir.remove();
  }
});

test('errors name the file (or the inline field) and never contain key material', () => {
  const dir = tempDir();
  try {
    const cert = dir.write('c.pem', exact.cert);
    const key = dir.write('k.pem', exact.key);
    const otherKey = dir.write('other.pem', wildcard.key);
    const cases: Array<{ desc: string; cert: string; key: string; expected: RegExp }> = [
      { desc: 'missing file', cert: dir.file('missing.pem'), key, expected: /^tls\.certificates\[0\]\.certFile: cannot read .*missing\.pem \(ENOENT\); give a readable PEM file path or the PEM text itself$/ },
      { desc: 'not a certificate', cert: key, key, expected: /k\.pem: not a PEM certificate/ },
      { desc: 'not a key', cert, key: cert, expected: /c\.pem: not a PEM private key/ },
      { desc: 'key of another certificate', cert, key: otherKey, expected: /other\.pem: the private key does not match the certificate .*c\.pem/ },
      { desc: 'inline key of another certificate', cert: exact.cert, key: wildcard.key, expected: /^tls\.certificates\[0\]\.keyFile \(inline PEM\): the private key does not match/ },
    ];
    for (const c of cases) {
      assert.throws(
        () => loadCertificate(pemSource(c.cert, 'tls.certificates[0].certFile'), pemSource(c.key, 'tls.certificates[0].keyFile')),
        (err: Error) => {
          assert.match(err.message, c.expected, c.desc);
          assert.ok(!err.message.includes('PRIVATE KEY') && !err.message.includes(wildcard.key.slice(40, 80)), `${c.desc}: no key material`);
          return true;
        },
      );
    }
  } finally {
    dir.remove();
  }
});
