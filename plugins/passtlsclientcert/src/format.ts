// The header values, byte for byte as Traefik's passtlsclientcert builds them from Go's x509.Certificate, here from
// node:crypto's X509Certificate.
import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

/** Which distinguished-name parts to pass; Traefik's issuer has no organizationalUnit. */
export interface DNOptions {
  country?: boolean;
  province?: boolean;
  locality?: boolean;
  organization?: boolean;
  organizationalUnit?: boolean;
  serialNumber?: boolean;
  commonName?: boolean;
  domainComponent?: boolean;
}

export interface InfoOptions {
  notAfter?: boolean;
  notBefore?: boolean;
  sans?: boolean;
  serialNumber?: boolean;
  subject?: DNOptions;
  issuer?: DNOptions;
}

/** A name as node's legacy object has it: short name → value, or values in certificate order when repeated. */
type LegacyName = Record<string, string | string[] | undefined>;

const CERT_SEPARATOR = ',';
const FIELD_SEPARATOR = ';';
const SUB_FIELD_SEPARATOR = ',';

/** More than any real chain; ends a walk over a chain that loops back on itself. */
const MAX_CHAIN = 16;

/**
 * The certificates the client sent, leaf first — Go's PeerCertificates. Node's X509Certificate for the peer links
 * the chain as the client sent it (issuers completed from the trusted CAs are not in it), and reading it is cheap;
 * `getPeerCertificate(true)` would add those issuers and cost ~100× more.
 */
export function peerCertificates(socket: TLSSocket): X509Certificate[] {
  if (typeof socket.getPeerX509Certificate !== 'function') return [];
  const certs: X509Certificate[] = [];
  for (let cert = socket.getPeerX509Certificate(); cert !== undefined && certs.length < MAX_CHAIN; cert = cert.issuerCertificate) {
    certs.push(cert);
    if (cert.checkIssued(cert)) break; // a root is its own issuer
  }
  return certs;
}

/** X-Forwarded-Tls-Client-Cert: each certificate's PEM without header, footer and newlines (its DER in base64), comma-separated, not escaped. */
export function pemHeader(certs: X509Certificate[]): string {
  return certs.map((cert) => cert.raw.toString('base64')).join(CERT_SEPARATOR);
}

/** X-Forwarded-Tls-Client-Cert-Info: the selected fields of every certificate, then url.QueryEscape'd as a whole. */
export function infoHeader(certs: X509Certificate[], info: InfoOptions): string {
  return goQueryEscape(certs.map((cert) => certInfo(cert, info)).join(CERT_SEPARATOR));
}

/** One certificate: Subject, Issuer, SerialNumber, NB, NA, SAN in that order, each quoted, empty ones left out. */
export function certInfo(cert: X509Certificate, info: InfoOptions): string {
  const legacy = cert.toLegacyObject();
  const values: string[] = [];
  const subject = dnInfo(legacy.subject as unknown as LegacyName, info.subject);
  if (subject !== '') values.push(`Subject="${subject}"`);
  // Traefik's issuer options have no organizationalUnit.
  const issuer = dnInfo(legacy.issuer as unknown as LegacyName, info.issuer && { ...info.issuer, organizationalUnit: false });
  if (issuer !== '') values.push(`Issuer="${issuer}"`);
  if (info.serialNumber) values.push(`SerialNumber="${decimalSerial(cert.serialNumber)}"`);
  if (info.notBefore) values.push(`NB="${unixSeconds(cert.validFrom)}"`);
  if (info.notAfter) values.push(`NA="${unixSeconds(cert.validTo)}"`);
  if (info.sans) {
    const sans = subjectAltNames(cert.subjectAltName);
    if (sans.length > 0) values.push(`SAN="${sans.join(SUB_FIELD_SEPARATOR)}"`);
  }
  return values.join(FIELD_SEPARATOR);
}

/** Go's order: every DC (in the name's order), C, ST, L, O, OU, then the one SN and CN (Go keeps the last of each). */
export function dnInfo(name: LegacyName | undefined, options: DNOptions | undefined): string {
  if (name === undefined || options === undefined) return '';
  const parts: string[] = [];
  const all = (key: string) => [name[key] ?? []].flat().filter((v) => v !== '');
  const last = (key: string) => all(key).slice(-1);
  const add = (on: boolean | undefined, prefix: string, entries: string[]) => {
    if (on) for (const entry of entries) parts.push(`${prefix}=${entry}`);
  };
  add(options.domainComponent, 'DC', all('DC'));
  add(options.country, 'C', all('C'));
  add(options.province, 'ST', all('ST'));
  add(options.locality, 'L', all('L'));
  add(options.organization, 'O', all('O'));
  add(options.organizationalUnit, 'OU', all('OU'));
  add(options.serialNumber, 'SN', last('serialNumber'));
  add(options.commonName, 'CN', last('CN'));
  return parts.join(SUB_FIELD_SEPARATOR);
}

/** big.Int.String(): the serial in decimal (node gives it in hex). */
function decimalSerial(hex: string): string {
  return BigInt(`0x${hex}`).toString(10);
}

function unixSeconds(opensslDate: string): number {
  return Math.floor(Date.parse(opensslDate) / 1000);
}

const SAN_ENTRY = /(DNS|email|IP Address|URI|[^:,]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/y;

/**
 * Go's getSANs: DNS names, then e-mail addresses, then IPs, then URIs, each group in certificate order. Node writes
 * `DNS:a, email:b, IP Address:c, URI:d` in certificate order, quoting (JSON) a value that holds a separator.
 */
export function subjectAltNames(san: string | undefined): string[] {
  const groups: Record<string, string[]> = { DNS: [], email: [], 'IP Address': [], URI: [] };
  if (san === undefined) return [];
  SAN_ENTRY.lastIndex = 0;
  for (let m = SAN_ENTRY.exec(san); m !== null && m[0] !== ''; m = SAN_ENTRY.exec(san)) {
    const value = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
    groups[m[1]!]?.push(m[1] === 'IP Address' ? goIP(value) : value);
  }
  return [...groups.DNS!, ...groups.email!, ...groups['IP Address']!, ...groups.URI!];
}

/** net.IP.String(): OpenSSL spells IPv6 in full (0:0:0:0:0:0:0:1); Go compresses it and writes an IPv4-mapped one as IPv4. */
function goIP(openssl: string): string {
  if (!openssl.includes(':')) return openssl;
  const compressed = new URL(`http://[${openssl}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(compressed);
  if (mapped === null) return compressed;
  const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Go's url.QueryEscape: only A-Z a-z 0-9 - _ . ~ stay, space becomes +, the rest %XX of its UTF-8 bytes. */
export function goQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}
