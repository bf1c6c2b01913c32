// Traefik's OTLP connection options (pkg/observability/types/otel.go), shared by metrics.otlp, log.otlp and accessLog.otlp.
import { MapOf, SECRET, Section, Type, type Static } from '@wharf/core';

export const otlpTLSSchema = Type.Object(
  {
    ca: Type.Optional(Type.String({ minLength: 1, description: 'CA certificates (PEM file path or PEM text) that verify the collector, replacing the system CAs.' })),
    cert: Type.Optional(Type.String({ minLength: 1, description: 'Client certificate (PEM file path or PEM text) for a collector that asks for one; needs tls.key.' })),
    key: Type.Optional(Type.String({ minLength: 1, [SECRET]: true, description: 'Private key of tls.cert (PEM file path or PEM text); never logged.' })),
    insecureSkipVerify: Type.Boolean({ default: false, description: "Accept any certificate from the collector (default false)." }),
  },
  { additionalProperties: false, description: 'TLS towards the collector.' },
);

const HEADERS_DOC = 'Headers sent with every export, `<name>=<value>` (e.g. an API key).';

export const otlpHttpSchema = Type.Object(
  {
    endpoint: Type.String({
      default: 'https://localhost:4318',
      description: "Collector URL, scheme://host:port/path (default https://localhost:4318); without a path, the signal's /v1/metrics or /v1/logs.",
    }),
    headers: MapOf(Type.String({ [SECRET]: true, description: HEADERS_DOC }), { default: {}, description: HEADERS_DOC }),
    tls: Type.Optional(otlpTLSSchema),
  },
  { additionalProperties: false, description: 'Export OTLP protobuf over HTTP (the default transport).' },
);

export const otlpGrpcSchema = Type.Object(
  {
    endpoint: Type.String({ default: 'localhost:4317', description: 'Collector address, host:port (default localhost:4317).' }),
    insecure: Type.Boolean({ default: false, description: 'Plain-text gRPC, without TLS (default false).' }),
    headers: MapOf(Type.String({ [SECRET]: true, description: HEADERS_DOC }), { default: {}, description: HEADERS_DOC }),
    tls: Type.Optional(otlpTLSSchema),
  },
  { additionalProperties: false, description: 'Export over gRPC instead of HTTP.' },
);

/** The options every OTLP section has: where to send and how the gateway names itself. */
export function otlpConnectionProperties() {
  return {
    http: Type.Optional(Section(otlpHttpSchema)),
    grpc: Type.Optional(Section(otlpGrpcSchema)),
    serviceName: Type.String({ default: 'traefik', description: "The service.name resource attribute (default traefik, as Traefik's, for its dashboards)." }),
    resourceAttributes: MapOf(Type.String({ description: 'Extra resource attribute, `<key>=<value>`.' }), { default: {}, description: 'Extra resource attributes, `<key>=<value>`.' }),
  };
}

export type OtlpTLS = Static<typeof otlpTLSSchema>;
export type OtlpHttp = Static<typeof otlpHttpSchema>;
export type OtlpGrpc = Static<typeof otlpGrpcSchema>;

/** A section built on otlpConnectionProperties. */
export interface OtlpConnection {
  http?: OtlpHttp;
  grpc?: OtlpGrpc;
  serviceName: string;
  resourceAttributes: Record<string, string>;
}
