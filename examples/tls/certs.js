// Example certificates, made on first start with selfsigned: a local CA, a server certificate for localhost, app.localhost, admin.localhost and a client one.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

const EC = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' };
const YEAR_MS = 365 * 24 * 3600 * 1000;

/** Writes ca.crt, localhost.crt/.key and client.crt/.key into `dir` unless they are already there. */
export async function ensureCertificates(dir) {
  const files = ['ca.crt', 'localhost.crt', 'localhost.key', 'client.crt', 'client.key'].map((f) => join(dir, f));
  if (files.every((f) => existsSync(f))) return { created: false, dir };
  mkdirSync(dir, { recursive: true });
  const notAfterDate = new Date(Date.now() + YEAR_MS);
  const ca = await generate([{ name: 'commonName', value: 'Wharf example CA (local only)' }], {
    ...EC,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const signedBy = { key: ca.private, cert: ca.cert };
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    ...EC,
    notAfterDate,
    ca: signedBy,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: ['localhost', 'app.localhost', 'admin.localhost'].map((value) => ({ type: 2, value })) },
    ],
  });
  const client = await generate([{ name: 'commonName', value: 'example client' }], {
    ...EC,
    notAfterDate,
    ca: signedBy,
    extensions: [{ name: 'basicConstraints', cA: false }, { name: 'keyUsage', digitalSignature: true }, { name: 'extKeyUsage', clientAuth: true }],
  });
  // Private keys are readable by the owner only; the CA key is not kept: nothing else gets signed by it.
  writeFileSync(join(dir, 'ca.crt'), ca.cert);
  writeFileSync(join(dir, 'localhost.crt'), server.cert);
  writeFileSync(join(dir, 'localhost.key'), server.private, { mode: 0o600 });
  writeFileSync(join(dir, 'client.crt'), client.cert);
  writeFileSync(join(dir, 'client.key'), client.private, { mode: 0o600 });
  return { created: true, dir };
}
