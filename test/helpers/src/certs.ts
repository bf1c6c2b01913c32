// Certificates for TLS tests, made in-process with selfsigned (no openssl binary needed): a private CA and the
// server or client certificates it signs, EC P-256.
import { isIP } from 'node:net';
import { generate } from 'selfsigned';

export interface Pem {
  cert: string;
  key: string;
}

const EC = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' } as const;

/** A CA that can sign server and client certificates; an intermediate one when `parent` signs it. */
export async function makeCA(cn = 'Wharf test CA', parent?: Pem): Promise<Pem> {
  const pems = await generate([{ name: 'commonName', value: cn }], {
    ...EC,
    ...(parent ? { ca: { key: parent.key, cert: parent.cert } } : {}),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** One attribute of a subject, by short name or dotted OID (C, ST, L, O, OU, CN, DC, 2.5.4.5 for serialNumber). */
export interface NameAttribute {
  shortName: string;
  value: string;
}

/**
 * A certificate for `names` (subjectAltName: IP addresses as IPs, `a@b` as e-mail addresses, `scheme://…` as URIs,
 * the rest as DNS names), CN = `cn` or the first name — or the whole `subject`, in order — signed by `ca` or
 * self-signed without one; a server certificate unless `usage` is 'client'.
 */
export async function makeCert(names: string[], options: { ca?: Pem; cn?: string; subject?: NameAttribute[]; usage?: 'server' | 'client' } = {}): Promise<Pem> {
  const altNames = names.map(altName);
  const subject = options.subject ?? [{ shortName: 'CN', value: options.cn ?? names[0] ?? 'client' }];
  const pems = await generate(subject, {
    ...EC,
    ...(options.ca ? { ca: { key: options.ca.key, cert: options.ca.cert } } : {}),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true },
      { name: 'extKeyUsage', serverAuth: options.usage !== 'client', clientAuth: options.usage === 'client' },
      ...(altNames.length > 0 ? [{ name: 'subjectAltName' as const, altNames }] : []),
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

function altName(value: string) {
  if (isIP(value)) return { type: 7 as const, ip: value };
  if (value.includes('://')) return { type: 6 as const, value };
  if (value.includes('@')) return { type: 1 as const, value };
  return { type: 2 as const, value };
}
