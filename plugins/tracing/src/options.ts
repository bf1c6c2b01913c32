// The tracing static section (Traefik's `tracing` options) and the fields it adds under every entrypoint.
import { Type, MapOf, Section, Secret, StringList, type Static } from '@wharf/core';

/** A map whose `<name>` rows (help) and the map itself (README) say the same. */
const StringMap = (description: string) => MapOf(Type.String({ description }), { default: {}, description });

const ClientTLS = (what: string) =>
  Type.Optional(
    Type.Object(
      {
        ca: Type.Optional(Type.String({ description: `CA certificate (PEM file path or PEM text) that signs the ${what} collector's certificate; default: the system CAs.` })),
        cert: Type.Optional(Type.String({ description: 'Client certificate (PEM file path or PEM text) for mutual TLS; needs key.' })),
        key: Type.Optional(Secret({ description: 'Private key of cert (PEM file path or PEM text).' })),
        insecureSkipVerify: Type.Boolean({ default: false, description: "Accept any certificate the collector presents (default false)." }),
      },
      { additionalProperties: false, description: `TLS to the ${what} collector.` },
    ),
  );

const OtlpHttp = Type.Object(
  {
    endpoint: Type.String({
      default: 'https://localhost:4318',
      pattern: '^https?://',
      description: 'Collector URL, `<scheme>://<host>:<port><path>`; without a path spans go to /v1/traces (default https://localhost:4318).',
    }),
    headers: StringMap('Headers sent with every export (e.g. an API key).'),
    tls: ClientTLS('HTTP'),
  },
  { additionalProperties: false, default: {}, description: 'Export over OTLP/HTTP (protobuf, gzip): the default exporter.' },
);

const OtlpGrpc = Type.Object(
  {
    endpoint: Type.String({ default: 'localhost:4317', description: 'Collector address, `<host>:<port>` (default localhost:4317).' }),
    insecure: Type.Boolean({ default: false, description: 'Plain-text gRPC, no TLS (default false).' }),
    headers: StringMap('gRPC metadata sent with every export.'),
    tls: ClientTLS('gRPC'),
  },
  { additionalProperties: false, description: 'Export over OTLP/gRPC instead of HTTP.' },
);

export const tracingSchema = Type.Object(
  {
    serviceName: Type.String({
      default: 'wharf',
      minLength: 1,
      description: "The service.name resource attribute (default wharf; Traefik's is traefik).",
    }),
    sampleRate: Type.Number({
      default: 1,
      minimum: 0,
      maximum: 1,
      description: 'Share of new traces to record, 0.0 to 1.0 (default 1.0); a request carrying a traceparent follows its sampled flag.',
    }),
    addInternals: Type.Boolean({ default: false, description: 'Also trace requests to `@internal` services (ping, api) and requests no router matched (default false).' }),
    resourceAttributes: StringMap('Extra resource attributes (key: value); OTEL_RESOURCE_ATTRIBUTES overrides them.'),
    globalAttributes: StringMap('Deprecated name of resourceAttributes, used when resourceAttributes is empty.'),
    capturedRequestHeaders: StringList({ default: [], description: 'Request headers recorded as `http.request.header.<name>` on server and client spans.' }),
    capturedResponseHeaders: StringList({ default: [], description: 'Response headers recorded as `http.response.header.<name>` on server and client spans.' }),
    safeQueryParams: StringList({ default: [], description: 'Query parameters recorded as sent; every other value is recorded as REDACTED.' }),
    otlp: Type.Object(
      {
        http: OtlpHttp,
        grpc: Type.Optional(Section(OtlpGrpc)),
      },
      { additionalProperties: false, default: {}, description: 'Where spans are exported (OTLP).' },
    ),
  },
  { additionalProperties: false },
);

export type TracingConfig = Static<typeof tracingSchema>;
export type ClientTLSConfig = NonNullable<TracingConfig['otlp']['http']['tls']>;

const Verbosity = Type.Union([Type.Literal('minimal'), Type.Literal('detailed')], {
  default: 'minimal',
  description: 'minimal: entrypoint and upstream spans; detailed: also router, middleware and service spans (default minimal). A router\'s observability.traceVerbosity wins.',
});

/** `entryPoints.<ep>.observability.{tracing,traceVerbosity}`: the defaults for routers on that entrypoint. */
export const entryPointFields = {
  'observability.tracing': Type.Boolean({
    default: true,
    description: 'Trace requests on this entrypoint unless a router says otherwise (default true).',
  }),
  'observability.traceVerbosity': Verbosity,
};

export type Verbosity = 'minimal' | 'detailed';

/** Cross-field checks Traefik makes at start-up. */
export function validateTracing(config: TracingConfig): void {
  const grpc = config.otlp.grpc;
  if (grpc?.insecure && grpc.tls) throw new Error('tracing.otlp.grpc: tls and insecure cannot both be set (insecure sends plain text)');
  for (const [where, tls] of [['tracing.otlp.http.tls', config.otlp.http.tls], ['tracing.otlp.grpc.tls', grpc?.tls]] as const) {
    if (tls && (tls.cert === undefined) !== (tls.key === undefined)) throw new Error(`${where}: cert and key go together, got only ${tls.cert ? 'cert' : 'key'}`);
  }
  if (grpc && !/^\[?[^\s/]+\]?:\d+$/.test(grpc.endpoint)) throw new Error(`tracing.otlp.grpc.endpoint: expected host:port, got ${JSON.stringify(grpc.endpoint)}`);
}
