// TLS options (Traefik/Go names) translated to Node's: versions, cipher suites, curves, ALPN and client-certificate policy.
import { constants } from 'node:crypto';
import type { SecureContextOptions, SecureVersion, TLSSocket } from 'node:tls';
import { readCertificates } from '@wharf/core/tls';
import { pemSource } from './certificates.js';
import type { ClientAuthType, TLSOptionsConfig } from './schema.js';

/** One named set of options, ready for a TLS server. */
export interface CompiledOptions {
  readonly name: string;
  /** Everything of a secure context except the certificate and key. */
  readonly context: Readonly<SecureContextOptions>;
  readonly alpnProtocols: readonly string[];
  readonly sniStrict: boolean;
  readonly clientAuthType: ClientAuthType;
  /** CA files read for client verification (watched for changes). */
  readonly files: readonly string[];
}

const VERSIONS: Record<string, SecureVersion> = {
  VersionTLS10: 'TLSv1',
  VersionTLS11: 'TLSv1.1',
  VersionTLS12: 'TLSv1.2',
  VersionTLS13: 'TLSv1.3',
};

/** Go's cipher suite names (crypto/tls) → OpenSSL's; TLS 1.3 suites have the same name in both. */
export const CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 'ECDHE-RSA-DES-CBC3-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 'DES-CBC3-SHA',
  TLS_AES_128_GCM_SHA256: 'TLS_AES_128_GCM_SHA256',
  TLS_AES_256_GCM_SHA384: 'TLS_AES_256_GCM_SHA384',
  TLS_CHACHA20_POLY1305_SHA256: 'TLS_CHACHA20_POLY1305_SHA256',
};

// Go always enables TLS 1.3 whatever cipherSuites says; Node would disable TLS 1.3 if no TLS_* suite were listed.
const TLS13_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'];

/** Go's curve names (and the usual aliases) → OpenSSL group names. */
export const CURVES: Readonly<Record<string, string>> = {
  curvep256: 'P-256',
  p256: 'P-256',
  'p-256': 'P-256',
  secp256r1: 'P-256',
  prime256v1: 'P-256',
  curvep384: 'P-384',
  p384: 'P-384',
  'p-384': 'P-384',
  secp384r1: 'P-384',
  curvep521: 'P-521',
  p521: 'P-521',
  'p-521': 'P-521',
  secp521r1: 'P-521',
  x25519: 'X25519',
  x448: 'X448',
};

/** Compiles one `tls.options.<name>`; throws an Error whose message names the field and the bad value. */
export function compileOptions(name: string, config: TLSOptionsConfig): CompiledOptions {
  const where = `tls.options.${name}`;
  const minVersion = VERSIONS[config.minVersion]!;
  const maxVersion = config.maxVersion ? VERSIONS[config.maxVersion]! : 'TLSv1.3';
  if (versionRank(minVersion) > versionRank(maxVersion)) throw new Error(`${where}: minVersion ${config.minVersion} is above maxVersion ${config.maxVersion}`);
  const context: SecureContextOptions = { minVersion, maxVersion };
  const ciphers = cipherList(config.cipherSuites, where);
  // OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 signatures) at its default security level: lowering the level is
  // what makes a configured minVersion below TLS 1.2 actually work, as it does in Go.
  const legacy = versionRank(minVersion) < versionRank('TLSv1.2');
  if (ciphers !== undefined || legacy) context.ciphers = `${ciphers ?? 'DEFAULT'}${legacy ? ':@SECLEVEL=0' : ''}`;
  if (config.curvePreferences?.length) context.ecdhCurve = curveList(config.curvePreferences, where);
  if (config.preferServerCipherSuites) context.honorCipherOrder = true;
  if (config.disableSessionTickets) context.secureOptions = constants.SSL_OP_NO_TICKET;
  const clientAuthType = config.clientAuth.clientAuthType;
  const caSources = config.clientAuth.caFiles.map((f, i) => pemSource(f, `${where}.clientAuth.caFiles[${i}]`));
  if (caSources.length > 0) context.ca = caSources.map((s) => readCertificates(s.value, s.field));
  if (verifies(clientAuthType) && caSources.length === 0) {
    throw new Error(`${where}.clientAuth: ${clientAuthType} needs caFiles to verify client certificates against`);
  }
  if (config.alpnProtocols.length === 0) throw new Error(`${where}.alpnProtocols: list at least one protocol (h2, http/1.1)`);
  return Object.freeze({
    name,
    context: Object.freeze(context),
    alpnProtocols: Object.freeze([...config.alpnProtocols]),
    sniStrict: config.sniStrict,
    clientAuthType,
    files: Object.freeze(caSources.flatMap((s) => (s.file ? [s.file] : []))),
  });
}

function versionRank(version: SecureVersion): number {
  return ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'].indexOf(version);
}

/** OpenSSL cipher string for Go suite names; undefined keeps Node's default list. */
function cipherList(suites: readonly string[] | undefined, where: string): string | undefined {
  if (!suites || suites.length === 0) return undefined;
  const mapped = suites.map((suite) => {
    const openssl = CIPHER_SUITES[suite.trim().toUpperCase()];
    if (!openssl) throw new Error(`${where}.cipherSuites: unknown cipher suite '${suite}' (known: ${Object.keys(CIPHER_SUITES).join(', ')})`);
    return openssl;
  });
  const tls13 = mapped.some((c) => c.startsWith('TLS_')) ? [] : TLS13_SUITES;
  return [...new Set([...tls13, ...mapped])].join(':');
}

function curveList(curves: readonly string[], where: string): string {
  return curves
    .map((curve) => {
      const group = CURVES[curve.trim().toLowerCase()];
      if (!group) throw new Error(`${where}.curvePreferences: unknown curve '${curve}' (known: CurveP256, CurveP384, CurveP521, X25519)`);
      return group;
    })
    .join(':');
}

/** Client-certificate policies that check the certificate against caFiles. */
export function verifies(type: ClientAuthType): boolean {
  return type === 'VerifyClientCertIfGiven' || type === 'RequireAndVerifyClientCert';
}

/** Whether the TLS server asks the client for a certificate at all. */
export function requestsCertificate(type: ClientAuthType): boolean {
  return type !== 'NoClientCert';
}

/** Why the client certificate does not satisfy the policy (Go's tls.ClientAuthType semantics), or undefined. */
export function clientCertificateRefusal(socket: TLSSocket, type: ClientAuthType): string | undefined {
  if (type === 'NoClientCert' || type === 'RequestClientCert') return undefined;
  const presented = Object.keys(socket.getPeerCertificate()).length > 0;
  if (!presented) return type === 'VerifyClientCertIfGiven' ? undefined : 'no certificate presented';
  if (verifies(type) && !socket.authorized) return `verification failed (${String(socket.authorizationError)})`;
  return undefined;
}
