// PEM values of the configuration (Traefik's FileOrContent): a file path or the PEM text itself, read and checked
// when the configuration is applied, so a bad file disables what uses it instead of failing connections later.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A certificate (with its chain) and the private key that goes with it. `key` is never logged nor shown. */
export interface KeyPair {
  cert: string;
  key: string;
  /** Key algorithm of the certificate (`rsa`, `ec`, `ed25519`, …). */
  keyType: string;
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Whether a configured value is PEM text rather than a file path. */
export function isInlinePem(value: string): boolean {
  return value.trimStart().startsWith('-----BEGIN');
}

/** How to name a value in messages: its path, or `(inline PEM)`; never the content. */
function describe(value: string): string {
  return isInlinePem(value) ? '(inline PEM)' : value;
}

/** The PEM text of `value` (a path or the PEM itself); errors name `field` and the path, never the content. */
export function readPemValue(value: string, field: string): string {
  if (isInlinePem(value)) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(`${field}: cannot read ${value} (${why}); give a readable PEM file path or the PEM text itself`, { cause: err });
  }
}

/** One or more PEM certificates (a CA bundle); each block must parse. */
export function readCertificates(value: string, field: string): string {
  const pem = readPemValue(value, field);
  const blocks = pem.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error(`${field}: no PEM certificate (-----BEGIN CERTIFICATE-----) in ${describe(value)}`);
  blocks.forEach((block, i) => parseCertificate(block, `${field}: certificate ${i + 1} in ${describe(value)}`));
  return pem;
}

/** Which part of a certificate/key pair was refused; callers word the message, naming their own fields. */
export class KeyPairError extends Error {
  constructor(readonly part: 'certificate' | 'key' | 'mismatch') {
    super(part === 'certificate' ? 'not a PEM certificate' : part === 'key' ? 'not a PEM private key (or it is encrypted)' : 'the private key does not match the certificate');
    this.name = 'KeyPairError';
  }
}

/**
 * Parses a certificate and its private key and checks that they belong together (the TLS plugin's certificates
 * and serversTransports' client certificates). Throws KeyPairError, which never quotes key material.
 */
export function parseKeyPair(cert: string, key: string): { x509: X509Certificate; keyType: string } {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new KeyPairError('certificate');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    // The parser's message could quote key material: say only what is wrong.
    throw new KeyPairError('key');
  }
  if (!x509.checkPrivateKey(privateKey)) throw new KeyPairError('mismatch');
  return { x509, keyType: x509.publicKey.asymmetricKeyType ?? 'unknown' };
}

/** A certificate and its private key, read from paths or PEM text; checks that both parse and that they belong together. */
export function readKeyPair(certValue: string, keyValue: string, field: string): KeyPair {
  const cert = readPemValue(certValue, `${field}.certFile`);
  const key = readPemValue(keyValue, `${field}.keyFile`);
  try {
    return { cert, key, keyType: parseKeyPair(cert, key).keyType };
  } catch (err) {
    if (!(err instanceof KeyPairError)) throw err;
    if (err.part === 'certificate') throw new Error(`${field}.certFile: ${describe(certValue)} is not a valid PEM certificate`, { cause: err });
    if (err.part === 'key') throw new Error(`${field}.keyFile: ${describe(keyValue)} is not a PEM private key (or it is encrypted)`, { cause: err });
    throw new Error(`${field}.keyFile: ${describe(keyValue)} is not the private key of the certificate ${describe(certValue)}`, { cause: err });
  }
}

function parseCertificate(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new Error(`${what} is not a valid PEM certificate`);
  }
}
