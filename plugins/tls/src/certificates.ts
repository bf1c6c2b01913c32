// Certificates: PEM from files or inline text, the names they cover (SAN, CN) and the SNI lookup (exact, then wildcard).
import { X509Certificate, randomBytes } from 'node:crypto';
import { isInlinePem, KeyPairError, parseKeyPair, readPemValue } from '@wharf/core/tls';
import { generate } from 'selfsigned';

/** Where a PEM comes from: a file path, or the PEM text written straight into the configuration. */
export interface PemSource {
  /** The configured value (path or PEM text). */
  value: string;
  /** Path when it is a file; undefined for inline PEM. */
  file: string | undefined;
  /** The configuration field it was given in (`tls.certificates[0].certFile`), for messages. */
  field: string;
  /** How to name it in messages: the path, or `<what> (inline PEM)`; never the content. */
  label: string;
}

/** A certificate ready to serve. `key` is private: never logged, never part of an error or API answer. */
export interface LoadedCertificate {
  /** Changes whenever the certificate is (re)loaded, so secure contexts built from it are rebuilt. */
  readonly id: number;
  readonly cert: string;
  readonly key: string;
  /** Lower-cased DNS names from the SAN and the CN, wildcards as `*.example.com`. */
  readonly names: readonly string[];
  /** Files it was read from (watched for changes). */
  readonly files: readonly string[];
  /** How to name it in messages. */
  readonly label: string;
  readonly notAfter: string;
}

let nextId = 1;

/** A value that is PEM text rather than a path (Traefik's FileOrContent), as the core reads it for serversTransports. */
export function pemSource(value: string, what: string): PemSource {
  const inline = isInlinePem(value);
  return { value, file: inline ? undefined : value, field: what, label: inline ? `${what} (inline PEM)` : value };
}

/** Reads a PEM source with the core's reader: the error names the field and the file, never the content. */
export function readPem(source: PemSource): string {
  return readPemValue(source.value, source.field);
}

/** Loads and checks a certificate/key pair with the core's parser; throws an error naming the faulty file. */
export function loadCertificate(certFile: PemSource, keyFile: PemSource): LoadedCertificate {
  const cert = readPem(certFile);
  const key = readPem(keyFile);
  let x509: X509Certificate;
  try {
    x509 = parseKeyPair(cert, key).x509;
  } catch (err) {
    if (!(err instanceof KeyPairError)) throw err;
    if (err.part === 'certificate') throw new Error(`${certFile.label}: ${err.message}`, { cause: err });
    if (err.part === 'key') throw new Error(`${keyFile.label}: ${err.message}`, { cause: err });
    throw new Error(`${keyFile.label}: ${err.message} ${certFile.label}`, { cause: err });
  }
  return freeze(cert, key, namesOf(x509), [certFile.file, keyFile.file].filter((f): f is string => f !== undefined), certFile.label, x509.validTo);
}

function freeze(cert: string, key: string, names: string[], files: string[], label: string, notAfter: string): LoadedCertificate {
  return Object.freeze({ id: nextId++, cert, key, names: Object.freeze(names), files: Object.freeze(files), label, notAfter });
}

/** DNS names a certificate covers: SAN DNS entries and the subject CN when it looks like a host name. */
export function namesOf(x509: X509Certificate): string[] {
  const names = new Set<string>();
  for (const match of (x509.subjectAltName ?? '').matchAll(/(?:^|, )DNS:("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    const raw = match[1]!;
    names.add(normalizeName(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw));
  }
  const cn = /^CN=(.*)$/m.exec(x509.subject)?.[1];
  if (cn !== undefined && /^(\*\.)?[A-Za-z0-9_.-]+$/.test(cn)) names.add(normalizeName(cn));
  names.delete('');
  return [...names];
}

/** Lower case without a trailing dot: how names are compared (SNI is case-insensitive, RFC 6066 §3). */
export function normalizeName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Certificates by the names they cover; the first certificate configured for a name keeps it. */
export class CertificateIndex {
  private readonly exact = new Map<string, LoadedCertificate>();
  /** `example.com` → the certificate for `*.example.com`. */
  private readonly wildcard = new Map<string, LoadedCertificate>();

  constructor(certificates: readonly LoadedCertificate[]) {
    for (const cert of certificates) {
      for (const name of cert.names) {
        if (name.startsWith('*.')) {
          if (!this.wildcard.has(name.slice(2))) this.wildcard.set(name.slice(2), cert);
        } else if (!this.exact.has(name)) this.exact.set(name, cert);
      }
    }
  }

  /** The most specific certificate for a server name: exact, then a wildcard one label deep (RFC 6125 §6.4.3). */
  match(servername: string | undefined): LoadedCertificate | undefined {
    if (!servername) return undefined;
    const name = normalizeName(servername);
    const exact = this.exact.get(name);
    if (exact) return exact;
    const dot = name.indexOf('.');
    return dot > 0 ? this.wildcard.get(name.slice(dot + 1)) : undefined;
  }
}

/** Traefik's fallback, in Wharf's name: a self-signed certificate nobody trusts, for when no default is configured. */
export const GENERATED_CN = 'WHARF DEFAULT CERT';

/** Generates the self-signed default certificate (EC P-256: fast to make, accepted everywhere). */
export async function generateDefaultCertificate(): Promise<LoadedCertificate> {
  // A random name under .wharf.default cannot collide with a real host, so SNI never selects it by name.
  const san = `${randomBytes(8).toString('hex')}.${randomBytes(8).toString('hex')}.wharf.default`;
  const pems = await generate([{ name: 'commonName', value: GENERATED_CN }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: san }] },
    ],
  });
  return freeze(pems.cert, pems.private, [san], [], `self-signed default certificate (CN=${GENERATED_CN})`, new X509Certificate(pems.cert).validTo);
}
