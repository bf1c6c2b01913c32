// Dynamic configuration of TCP routing (Traefik's `tcp.*` shape): routers by SNI, client IP or ALPN, services that
// relay connections, connection-level middlewares and the transports towards servers.
import type { TSchema } from '@sinclair/typebox';
import { Type, type Static, Duration, Element, MapOf, Secret, Section, StringList } from './schema.js';
import type { PluginRegistry } from '../plugin/registry.js';

const TCPRouterTLSSchema = Section(
  Type.Object(
    {
      passthrough: Type.Boolean({ default: false, description: 'Relay the TLS bytes untouched to the service: the client talks TLS with the server itself (default false: Wharf terminates TLS).' }),
      options: Type.Optional(Type.String({ description: 'Name of the TLS options (tls.options.<name>) used to terminate TLS.' })),
      certResolver: Type.Optional(Type.String({ description: 'Certificate resolver (certificatesResolvers.<name>) that obtains the certificate for the router\'s domains.' })),
      domains: Type.Optional(
        Type.Array(Type.Object({ main: Type.String(), sans: Type.Optional(StringList()) }, { additionalProperties: false })),
      ),
    },
    { additionalProperties: false },
  ),
);

const TCPRouterSchema = Element(
  Type.Object(
    {
      rule: Type.String({ minLength: 1, description: 'Matching rule: HostSNI(`db.example`), HostSNIRegexp, ClientIP, ALPN with && || !; HostSNI(`*`) matches every connection, TLS or not.' }),
      ruleSyntax: Type.Optional(Type.Union([Type.Literal('v3'), Type.Literal('v2')], { description: "v3 or Traefik v2's syntax (lists of values in one matcher); default core.defaultRuleSyntax." })),
      entryPoints: Type.Optional(StringList({ description: 'Entrypoints the router listens on; all default entrypoints when empty.' })),
      middlewares: Type.Optional(StringList({ description: 'TCP middlewares applied in order (name or name@provider).' })),
      service: Type.String({ minLength: 1, description: 'TCP service name (name or name@provider).' }),
      priority: Type.Optional(Type.Integer({ description: 'Higher wins; default is the length of the rule (-1 for HostSNI(`*`)).' })),
      tls: Type.Optional(TCPRouterTLSSchema),
    },
    { additionalProperties: false },
  ),
);

const ProxyProtocolSchema = Section(
  Type.Object(
    { version: Type.Integer({ minimum: 1, maximum: 2, default: 2, description: 'PROXY protocol version sent to the servers: 1 (text) or 2 (binary, default).' }) },
    { additionalProperties: false },
  ),
);

const TCPServerSchema = Type.Object(
  {
    address: Type.String({ minLength: 1, description: 'Server address, host:port.' }),
    tls: Type.Optional(Type.Boolean({ description: 'Connect to this server with TLS (settings from the serversTransport).' })),
  },
  { additionalProperties: false },
);

const TCPLoadBalancerSchema = Type.Object(
  {
    servers: Type.Array(TCPServerSchema, { description: 'Servers, used in turn.' }),
    serversTransport: Type.Optional(Type.String({ description: 'Name of a tcp.serversTransports entry (name or name@provider).' })),
    proxyProtocol: Type.Optional(ProxyProtocolSchema),
    terminationDelay: Type.Optional(Type.Integer({ description: 'Deprecated (use the serversTransport\'s): milliseconds a connection stays open for reading after one side closed its writing; negative = never closed.' })),
  },
  { additionalProperties: false },
);

const TCPWeightedSchema = Type.Object(
  {
    services: Type.Array(
      Type.Object({ name: Type.String({ minLength: 1 }), weight: Type.Integer({ minimum: 0, default: 1 }) }, { additionalProperties: false }),
      { minItems: 1, description: 'Child TCP services and their weights.' },
    ),
  },
  { additionalProperties: false },
);

const TCPServiceSchema = Element(
  Type.Object(
    { loadBalancer: Type.Optional(TCPLoadBalancerSchema), weighted: Type.Optional(TCPWeightedSchema) },
    { additionalProperties: false, minProperties: 1, maxProperties: 1 },
  ),
);

export const TCPServersTransportSchema = Element(
  Type.Object(
    {
      dialTimeout: Duration({ default: '30s', description: 'Time allowed to connect to a server (default 30s); 0 = no limit.' }),
      dialKeepAlive: Duration({ default: '15s', description: 'Interval of TCP keep-alive probes on server connections (default 15s); 0 disables them.' }),
      terminationDelay: Duration({ default: '100ms', description: 'How long a connection stays open for reading after one side closed its writing (default 100ms).' }),
      proxyProtocol: Type.Optional(ProxyProtocolSchema),
      tls: Type.Optional(
        Section(
          Type.Object(
            {
              serverName: Type.Optional(Type.String({ description: 'SNI sent to TLS servers (default: the server\'s host).' })),
              insecureSkipVerify: Type.Boolean({ default: false, description: 'Do not verify the servers\' certificates.' }),
              rootCAs: Type.Optional(StringList({ description: 'CA certificates (PEM file paths or PEM text) the servers\' certificates are verified against.' })),
              certificates: Type.Optional(
                Type.Array(
                  Type.Object(
                    {
                      certFile: Type.String({ minLength: 1, description: 'Client certificate: a PEM file path or the PEM text.' }),
                      keyFile: Secret({ minLength: 1, description: 'Its private key: a PEM file path or the PEM text. Never logged or shown.' }),
                    },
                    { additionalProperties: false },
                  ),
                  { description: 'Client certificates presented to servers that ask for one (mTLS).' },
                ),
              ),
              peerCertURI: Type.Optional(Type.String({ description: 'URI the server certificate must carry as a SAN.' })),
            },
            { additionalProperties: false },
          ),
        ),
      ),
    },
    { additionalProperties: false },
  ),
);

/** Schema of one `tcp.middlewares.<name>` entry: exactly one connection-level plugin type. */
function tcpMiddlewareSchema(registry: PluginRegistry): TSchema {
  const properties: Record<string, TSchema> = {};
  for (const plugin of registry.all()) if (plugin.tcp) properties[plugin.name] = plugin.tcp.schema;
  return Element({ type: 'object', properties, additionalProperties: false, minProperties: 1, maxProperties: 1 } as unknown as TSchema);
}

/** The `tcp` section of the dynamic configuration for the plugins registered now. */
export function tcpSchema(registry: PluginRegistry): TSchema {
  return Type.Object(
    {
      routers: Type.Optional(MapOf(TCPRouterSchema)),
      services: Type.Optional(MapOf(TCPServiceSchema)),
      middlewares: Type.Optional(MapOf(tcpMiddlewareSchema(registry))),
      serversTransports: Type.Optional(MapOf(TCPServersTransportSchema)),
    },
    { additionalProperties: false },
  );
}

export type TCPRouterConfig = Static<typeof TCPRouterSchema>;
export type TCPServiceConfig = Static<typeof TCPServiceSchema>;
export type TCPServersTransportConfig = Static<typeof TCPServersTransportSchema>;
/** `{ <type>: options }` — one key; options were validated against the plugin's `tcp.schema`. */
export type TCPMiddlewareConfig = Record<string, unknown>;

export interface TCPConfig {
  routers?: Record<string, TCPRouterConfig>;
  services?: Record<string, TCPServiceConfig>;
  middlewares?: Record<string, TCPMiddlewareConfig>;
  serversTransports?: Record<string, TCPServersTransportConfig>;
}

/** Problems of `tcp.<kind>.<name>` elements are reported with these kinds. */
export type TCPElementKind = 'tcp.routers' | 'tcp.services' | 'tcp.middlewares' | 'tcp.serversTransports';
