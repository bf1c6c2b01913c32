// Configuration model of the TLS plugin: the `http.tls` field of entrypoints and the dynamic `tls` section (Traefik's names).
import { MapOf, Secret, Section, StringList, Type, type Static } from '@wharf/core';

const Domains = Type.Array(
  Type.Object(
    {
      main: Type.String({ description: 'Main domain.' }),
      sans: Type.Optional(StringList({ description: 'Subject alternative names.' })),
    },
    { additionalProperties: false },
  ),
  { description: 'Domains the certificate resolver orders for routers on this entrypoint without tls.domains of their own (default: the Host() names of each rule).' },
);

/** `entryPoints.<name>.http.tls`: present (even `=true`) makes the entrypoint terminate TLS for every router on it. */
export const EntryPointTLSSchema = Section(
  Type.Object(
    {
      options: Type.Optional(Type.String({ description: 'TLS options (tls.options.<name>) for routers on this entrypoint that set no tls of their own (default: default).' })),
      certResolver: Type.Optional(Type.String({ description: 'Certificate resolver (certificatesResolvers.<name>, the acme plugin) for routers on this entrypoint that name none.' })),
      domains: Type.Optional(Domains),
    },
    { additionalProperties: false },
  ),
);

const CertificateSchema = Type.Object(
  {
    certFile: Type.String({ minLength: 1, description: 'Certificate (with its chain): a PEM file path, or the PEM text itself.' }),
    keyFile: Secret({ minLength: 1, description: 'Private key: a PEM file path, or the PEM text itself. Never logged or shown.' }),
  },
  { additionalProperties: false },
);

const StoredCertificateSchema = Type.Object(
  {
    ...CertificateSchema.properties,
    stores: Type.Optional(StringList({ description: "Stores the certificate goes into; only 'default' exists, as in Traefik." })),
  },
  { additionalProperties: false },
);

export const TLS_VERSIONS = ['VersionTLS10', 'VersionTLS11', 'VersionTLS12', 'VersionTLS13'] as const;
const Version = (description: string, def?: string) =>
  Type.Union(TLS_VERSIONS.map((v) => Type.Literal(v)), { description, ...(def ? { default: def } : {}) });

export const CLIENT_AUTH_TYPES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;

export const TLSOptionsSchema = Type.Object(
  {
    minVersion: Version('Lowest TLS version accepted: VersionTLS10…VersionTLS13 (default VersionTLS12).', 'VersionTLS12'),
    maxVersion: Type.Optional(Version('Highest TLS version accepted (default: the highest Node supports, VersionTLS13).')),
    cipherSuites: Type.Optional(StringList({ description: 'TLS 1.2 cipher suites by their Go/IANA names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, …); TLS 1.3 suites stay enabled unless listed. Default: Node\'s list.' })),
    curvePreferences: Type.Optional(StringList({ description: 'Key-exchange curves in order: CurveP256, CurveP384, CurveP521, X25519 (default: Node\'s).' })),
    sniStrict: Type.Boolean({ default: false, description: 'Refuse handshakes without SNI or for a name no certificate covers, instead of answering with the default certificate (default false).' }),
    alpnProtocols: StringList({ default: ['h2', 'http/1.1'], description: 'Protocols offered through ALPN, in order (default h2, http/1.1).' }),
    preferServerCipherSuites: Type.Optional(Type.Boolean({ description: 'Choose the cipher by the server\'s order rather than the client\'s (default false).' })),
    disableSessionTickets: Type.Optional(Type.Boolean({ description: 'Do not issue TLS session tickets (default false).' })),
    clientAuth: Type.Object(
      {
        caFiles: StringList({ default: [], description: 'CA certificates (PEM file paths or PEM text) that client certificates are verified against.' }),
        clientAuthType: Type.Union(CLIENT_AUTH_TYPES.map((t) => Type.Literal(t)), {
          default: 'NoClientCert',
          description: 'NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert (default NoClientCert).',
        }),
      },
      { additionalProperties: false, default: {}, description: 'Mutual TLS: whether and how client certificates are asked for and verified.' },
    ),
  },
  { additionalProperties: false },
);

const StoreSchema = Type.Object(
  {
    defaultCertificate: Type.Optional({ ...CertificateSchema, description: 'Certificate for clients without SNI or whose name no certificate covers (default: a self-signed one generated at start).' }),
    defaultGeneratedCert: Type.Optional(
      Type.Object(
        {
          resolver: Type.Optional(Type.String({ description: 'Ignored.' })),
          domain: Type.Optional(Type.Object({ main: Type.String({ description: 'Ignored.' }), sans: Type.Optional(StringList({ description: 'Ignored.' })) }, { additionalProperties: false, description: 'Ignored.' })),
        },
        { additionalProperties: false, description: 'Accepted for compatibility; ignored (the acme plugin does not obtain the default certificate yet).' },
      ),
    ),
  },
  { additionalProperties: false },
);

/** The dynamic `tls` section, decoded by every provider. */
export const TLSSectionSchema = Type.Object(
  {
    certificates: Type.Optional(Type.Array(StoredCertificateSchema, { description: 'Certificates picked by SNI (exact name, then wildcard, from their SAN and CN).' })),
    options: Type.Optional(MapOf(TLSOptionsSchema, { description: 'Named TLS options; `default` applies wherever no other is chosen.' })),
    stores: Type.Optional(MapOf(StoreSchema, { description: "Certificate stores; only 'default' is used." })),
  },
  { additionalProperties: false },
);

export type EntryPointTLSConfig = Static<typeof EntryPointTLSSchema>;
export type CertificateConfig = Static<typeof StoredCertificateSchema>;
export type TLSOptionsConfig = Static<typeof TLSOptionsSchema>;
export type TLSSection = Static<typeof TLSSectionSchema>;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];
