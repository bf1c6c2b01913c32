// The metrics.prometheus static section (Traefik's options, plus `names`) and its checks beyond the schema.
import { Duration, MapOf, Section, Type, type Static } from '@wharf/core';
import { otlpConnectionProperties, type OtlpConnection } from '@wharf/otlp';

export const PrometheusSchema = Type.Object(
  {
    entryPoint: Type.String({ default: 'traefik', description: 'Entrypoint that serves /metrics (default traefik).' }),
    buckets: Type.Array(Type.Number({ exclusiveMinimum: 0 }), { default: [0.1, 0.3, 1.2, 5], minItems: 1, description: 'Histogram buckets in seconds (default 0.1,0.3,1.2,5).' }),
    addEntryPointsLabels: Type.Boolean({ default: true, description: 'Record per-entrypoint metrics (default true).' }),
    addRoutersLabels: Type.Boolean({ default: false, description: 'Record per-router metrics (default false).' }),
    addServicesLabels: Type.Boolean({ default: true, description: 'Record per-service metrics (default true).' }),
    manualRouting: Type.Boolean({ default: false, description: 'Only offer the prometheus@internal service for your own router (default false).' }),
    names: Type.Union([Type.Literal('wharf'), Type.Literal('traefik')], {
      default: 'wharf',
      description: "Series names and labels: `wharf` (wharf_*) or `traefik` (Traefik v3.7's traefik_* series, for its Grafana dashboards); default wharf.",
    }),
    headerLabels: MapOf(Type.String({ minLength: 1 }), {
      default: {},
      description: 'Extra label on the requests_total series, `<label>=<header>`: its value is the request header (empty when absent), e.g. `useragent=User-Agent`.',
    }),
  },
  { additionalProperties: false },
);

// Traefik's OTLP defaults (pkg/observability/types/metrics.go).
const OTLP_BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export const OtlpMetricsSchema = Type.Object(
  {
    ...otlpConnectionProperties(),
    pushInterval: Duration({ default: '10s', minimum: 1, description: 'Time between two pushes to the collector (default 10s).' }),
    addEntryPointsLabels: Type.Boolean({ default: true, description: 'Record per-entrypoint metrics (default true).' }),
    addRoutersLabels: Type.Boolean({ default: false, description: 'Record per-router metrics (default false).' }),
    addServicesLabels: Type.Boolean({ default: true, description: 'Record per-service metrics (default true).' }),
    explicitBoundaries: Type.Array(Type.Number({ exclusiveMinimum: 0 }), {
      default: OTLP_BOUNDARIES,
      minItems: 1,
      description: 'Histogram bucket boundaries in seconds (default 0.005,0.01,0.025,0.05,0.075,0.1,0.25,0.5,0.75,1,2.5,5,7.5,10).',
    }),
  },
  { additionalProperties: false, description: "Push Traefik's traefik_* metrics to an OpenTelemetry collector (OTLP over HTTP or gRPC)." },
);
export type OtlpMetricsConfig = Static<typeof OtlpMetricsSchema> & OtlpConnection;

/** `entryPoints.<ep>.observability.metrics`: the default for routers on that entrypoint (and for unmatched requests). */
export const entryPointFields = {
  'observability.metrics': Type.Boolean({
    default: true,
    description: 'Count requests on this entrypoint unless a router says otherwise (default true).',
  }),
};

/** Each entrypoint's `observability.metrics` (absent = true). */
export type EntryPointDefaults = ReadonlyMap<string, boolean>;

export function entryPointDefaults(entryPoints: object): EntryPointDefaults {
  const all = Object.entries(entryPoints as Record<string, { observability?: { metrics?: boolean } }>);
  return new Map(all.map(([name, ep]) => [name, ep.observability?.metrics !== false]));
}

export const staticSchema = Type.Object(
  {
    addInternals: Type.Boolean({
      default: false,
      description: 'With names=traefik, also count requests to internal services (…@internal, the /metrics endpoint), as Traefik does when true (default false). The wharf names always count them.',
    }),
    prometheus: Type.Optional(Section(PrometheusSchema)),
    otlp: Type.Optional(Section(OtlpMetricsSchema)),
  },
  { additionalProperties: false },
);
export type StaticConfig = Static<typeof staticSchema>;
export type PrometheusConfig = Static<typeof PrometheusSchema>;

/** A header label: the Prometheus label and the (lower-cased) request header that gives its value. */
export interface HeaderLabel {
  readonly label: string;
  readonly header: string;
}

/** The section as the recorders use it: options checked, header labels ready for the request path. */
export interface MetricsOptions extends PrometheusConfig {
  readonly headerLabelList: readonly HeaderLabel[];
  /** metrics.addInternals. */
  readonly addInternals: boolean;
}

// Prometheus label names; `__` is reserved for Prometheus itself.
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Labels the requests_total series already have, under either set of names. */
const OWN_LABELS = new Set(['code', 'method', 'protocol', 'entrypoint', 'router', 'service']);
// RFC 9110 field-name (token) characters.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The recorder's view of metrics.otlp: Traefik's OTLP families have no header labels; the /metrics endpoint is left
 * out as the Prometheus one is (when there is one).
 */
export function otlpRecorderOptions(otlp: OtlpMetricsConfig, prometheus: PrometheusConfig | undefined, addInternals: boolean): MetricsOptions {
  return {
    entryPoint: prometheus?.entryPoint ?? 'traefik',
    manualRouting: prometheus === undefined || prometheus.manualRouting,
    buckets: otlp.explicitBoundaries,
    addEntryPointsLabels: otlp.addEntryPointsLabels,
    addRoutersLabels: otlp.addRoutersLabels,
    addServicesLabels: otlp.addServicesLabels,
    names: 'traefik',
    headerLabels: {},
    headerLabelList: [],
    addInternals,
  };
}

/** Checks what the schema cannot; throws an error naming the option and the value. */
export function compileOptions(config: PrometheusConfig, addInternals = false): MetricsOptions {
  const headerLabelList = Object.entries(config.headerLabels).map(([label, header]) => checkHeaderLabel(label, header));
  return { ...config, headerLabelList, addInternals };
}

function checkHeaderLabel(label: string, header: string): HeaderLabel {
  const option = `metrics.prometheus.headerLabels.${label}`;
  if (!LABEL_NAME.test(label) || label.startsWith('__')) {
    throw new Error(`${option}: a Prometheus label name is letters, digits and '_', not starting with a digit or '__'; got '${label}'`);
  }
  if (OWN_LABELS.has(label)) {
    throw new Error(`${option}: '${label}' is already a label of the requests_total series; choose another label name, got '${label}'`);
  }
  if (!HEADER_NAME.test(header)) throw new Error(`${option}: not a header name (letters, digits and !#$%&'*+.^_\`|~-), got '${header}'`);
  return { label, header: header.toLowerCase() };
}
