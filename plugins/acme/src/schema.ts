// Static configuration in Traefik's shape: `certificatesResolvers.<name>.acme.*`.
import { Duration, MapOf, Secret, Section, StringList, Type, type Static } from '@wharf/core';
import { checkRedisConnection, redisConnectionSchema } from '@wharf/redis';

export const LETS_ENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory';
export const KEY_TYPES = ['EC256', 'EC384', 'RSA2048', 'RSA4096', 'RSA8192'] as const;

const notYet = (what: string) => `${what} Not supported yet: Wharf refuses to start when it is set.`;

export const AcmeSchema = Type.Object(
  {
    email: Type.String({ minLength: 1, description: 'Email address used for registration with the CA (required).' }),
    caServer: Type.String({ default: LETS_ENCRYPT, pattern: '^https?://', description: "CA server directory URL (default: Let's Encrypt production)." }),
    storage: Type.String({
      default: 'acme.json',
      minLength: 1,
      description: "Where account and certificates are kept: a file in Traefik's acme.json format (mode 0600); or one store shared by every replica: `redis` (the connection of the redis section) or `redis://[user:pass@]host:port[/db]` (`rediss://` for TLS) (default acme.json).",
    }),
    redis: Type.Optional(Section(redisConnectionSchema('Redis connection of `storage: redis` (default 127.0.0.1:6379): the same settings as rateLimit\'s redis section; one Redis, not a Cluster.'))),
    keyType: Type.Union(
      KEY_TYPES.map((k) => Type.Literal(k)),
      { default: 'RSA4096', description: 'Private key type of the certificates: EC256, EC384, RSA2048, RSA4096 or RSA8192 (default RSA4096, as Traefik).' },
    ),
    certificatesDuration: Type.Integer({ minimum: 1, default: 2160, description: 'Lifetime of the certificates in hours, used only to choose when to renew (default 2160 = 90 days: renew 30 days before expiry).' }),
    preferredChain: Type.Optional(Type.String({ description: "Prefer the CA's alternate chain whose issuer has this common name (default: the chain the CA offers first)." })),
    eab: Type.Optional(
      Type.Object(
        {
          kid: Type.String({ minLength: 1, description: 'External account binding: key identifier from the CA.' }),
          hmacEncoded: Secret({ minLength: 1, description: 'External account binding: HMAC key from the CA, base64url without padding. Never logged or shown.' }),
        },
        { additionalProperties: false },
      ),
    ),
    caCertificates: Type.Optional(StringList({ description: "PEM files of CAs that sign the CA server's HTTPS certificate (a private CA); they replace the system pool unless caSystemCertPool." })),
    caSystemCertPool: Type.Boolean({ default: false, description: 'With caCertificates: trust the system CAs as well (default false).' }),
    caServerName: Type.Optional(Type.String({ description: "Name to verify in the CA server's HTTPS certificate instead of the caServer host." })),
    clientTimeout: Duration({ default: '2m', description: 'Timeout of one HTTP exchange with the CA server (default 2m).' }),
    clientResponseHeaderTimeout: Duration({ default: '30s', description: notYet('Timeout for the response headers of the CA server (default 30s; Wharf applies clientTimeout to the whole exchange).') }),
    certificateTimeout: Duration({ default: '30s', description: notYet('Timeout for the CA to finalize an order (default 30s).') }),
    httpChallenge: Type.Optional(
      Section(
        Type.Object(
          {
            entryPoint: Type.String({ minLength: 1, description: 'Entrypoint that answers HTTP-01 challenges, before any router (must be reachable by the CA on port 80).' }),
            delay: Duration({ default: 0, description: 'Wait this long between publishing the challenge and asking the CA to validate it (default 0).' }),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    tlsChallenge: Type.Optional(
      Section(
        Type.Object(
          { delay: Duration({ default: 0, description: 'Wait this long between publishing the challenge and asking the CA to validate it (default 0).' }) },
          { additionalProperties: false, description: 'Answer TLS-ALPN-01 challenges in the TLS handshake of every TLS entrypoint (reachable by the CA on port 443).' },
        ),
      ),
    ),
    dnsChallenge: Type.Optional(
      Type.Object(
        {
          provider: Type.String({ minLength: 1, description: "DNS provider that publishes the TXT records: exec (EXEC_PATH runs your script) or httpreq (POSTs to HTTPREQ_ENDPOINT), configured by lego's environment variables, or one a plugin added with registerDnsProvider." }),
          resolvers: Type.Optional(StringList({ description: 'DNS servers (host:port) asked whether the TXT record is visible before the CA validates (default: the system resolvers).' })),
          delayBeforeCheck: Type.Optional(Duration({ description: 'Deprecated spelling of propagation.delayBeforeChecks.' })),
          disablePropagationCheck: Type.Optional(Type.Boolean({ description: 'Deprecated spelling of propagation.disableChecks.' })),
          propagation: Type.Optional(
            Type.Object(
              {
                delayBeforeChecks: Type.Optional(Duration({ description: 'Wait this long after publishing before checking (default 0).' })),
                disableChecks: Type.Optional(Type.Boolean({ description: 'Do not check that the TXT record is visible before asking the CA (default false).' })),
                requireAllRNS: Type.Optional(Type.Boolean({ description: 'Accepted: Wharf asks the resolvers, not the authoritative servers.' })),
                disableANSChecks: Type.Optional(Type.Boolean({ description: 'Accepted: Wharf never asks the authoritative servers.' })),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false, description: 'DNS-01 challenge (needed for wildcard domains).' },
      ),
    ),
    profile: Type.Optional(Type.String({ description: notYet('Certificate profile to ask the CA for.') })),
    emailAddresses: Type.Optional(StringList({ description: notYet('Email addresses to put in the CSR.') })),
    disableCommonName: Type.Optional(Type.Boolean({ description: notYet('Leave the common name out of the CSR.') })),
  },
  { additionalProperties: false },
);

export const ResolverSchema = Type.Object(
  {
    acme: Type.Optional(AcmeSchema),
    tailscale: Type.Optional(Type.Object({}, { additionalProperties: true, description: notYet('Tailscale certificates.') })),
  },
  { additionalProperties: false },
);

// Always present (empty by default), so routers naming a resolver are checked even when none is configured.
export const ResolversSchema = MapOf(ResolverSchema, { default: {}, description: 'Certificate resolvers by name: `certificatesResolvers.<name>.acme.*`.' });

export type AcmeConfig = Static<typeof AcmeSchema>;
export type ResolverConfig = Static<typeof ResolverSchema>;
export type ResolversConfig = Record<string, ResolverConfig>;

/** Options Wharf decodes but does not implement yet: set, they stop the start with a message naming them. */
const UNSUPPORTED: ReadonlyArray<keyof AcmeConfig> = ['profile', 'emailAddresses', 'disableCommonName'];

/**
 * Cross-field checks of one resolver; throws naming the field. `entryPoints` are the configured entrypoint names.
 * Defaults that equal Traefik's (clientResponseHeaderTimeout, certificateTimeout) are accepted as they are.
 */
export function checkResolver(name: string, resolver: ResolverConfig, entryPoints: readonly string[]): AcmeConfig {
  const at = `certificatesResolvers.${name}`;
  if (resolver.tailscale !== undefined) throw new Error(`${at}.tailscale: Tailscale resolvers are not supported by Wharf; use acme`);
  const acme = resolver.acme;
  if (!acme) throw new Error(`${at}: no acme section; set ${at}.acme.email and a challenge (httpChallenge.entryPoint or tlsChallenge)`);
  for (const field of UNSUPPORTED) {
    if (acme[field] !== undefined) throw new Error(`${at}.acme.${field}: not supported yet by Wharf, got ${JSON.stringify(acme[field])}; remove it`);
  }
  if (acme.clientResponseHeaderTimeout !== 30_000) throw new Error(`${at}.acme.clientResponseHeaderTimeout: not supported yet by Wharf, got ${acme.clientResponseHeaderTimeout}ms; use clientTimeout`);
  if (acme.certificateTimeout !== 30_000) throw new Error(`${at}.acme.certificateTimeout: not supported yet by Wharf, got ${acme.certificateTimeout}ms; remove it`);
  if (!acme.httpChallenge && !acme.tlsChallenge && !acme.dnsChallenge) throw new Error(`${at}.acme: no challenge configured; set httpChallenge.entryPoint=<entrypoint>, tlsChallenge or dnsChallenge.provider`);
  const ep = acme.httpChallenge?.entryPoint;
  if (ep !== undefined && !entryPoints.includes(ep)) throw new Error(`${at}.acme.httpChallenge.entryPoint: no entrypoint '${ep}' (known: ${entryPoints.join(', ')})`);
  if (acme.caSystemCertPool && !acme.caCertificates?.length) throw new Error(`${at}.acme.caSystemCertPool: only meaningful with caCertificates; set caCertificates or remove it`);
  checkRedisStorage(`${at}.acme`, acme);
  return acme;
}

/** A Redis URL in storage, or `storage: redis` with the redis section; never both, and the section only with `redis`. */
function checkRedisStorage(at: string, acme: AcmeConfig): void {
  const url = isRedisUrl(acme.storage);
  if (acme.storage !== REDIS_STORAGE && acme.storage.startsWith('redis') && !url) {
    throw new Error(`${at}.storage: a Redis store is written redis (with ${at}.redis) or redis://host:port[/db], got ${JSON.stringify(acme.storage)}`);
  }
  if (!acme.redis) return;
  if (url) throw new Error(`${at}.storage and ${at}.redis: a Redis URL in storage and a redis section together; keep one (storage=redis uses the section)`);
  if (acme.storage !== REDIS_STORAGE) throw new Error(`${at}.redis: only used with storage=redis, got storage ${JSON.stringify(acme.storage)}; set storage=redis or remove the section`);
  checkRedisConnection(acme.redis, `${at}.redis`);
  const { endpoints } = acme.redis;
  if (endpoints.length > 1) {
    throw new Error(`${at}.redis.endpoints: the ACME store needs one Redis (a Redis Cluster is not supported), got ${endpoints.length} endpoints (${endpoints.join(', ')}); give one host:port`);
  }
}

/** `storage: redis`: the store on the redis section's connection. */
export const REDIS_STORAGE = 'redis';

export function isRedisUrl(storage: string): boolean {
  return /^rediss?:\/\//.test(storage);
}
