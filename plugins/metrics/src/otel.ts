// metrics.otlp: Traefik's OTLP instruments (pkg/observability/metrics/otel.go) — the traefik_* names, float
// counters of unit "1" and gauges observed at each push, histograms in seconds — behind the same calls as prom-client's,
// so traefikRecorder and followGatewayTraefik feed them exactly as they feed the Prometheus series.
import { ValueType, type Attributes, type Meter, type ObservableGauge } from '@opentelemetry/api';
import { HELP, type CounterLike, type GaugeLike, type HistogramLike, type Labels, type Level, type RequestFamilies, type TraefikInstruments } from './traefik.js';
import type { MetricsOptions } from './options.js';

/** Label-set keys for the counters' and gauges' maps: the recorder reuses its label objects, so a key is computed once. */
const keys = new WeakMap<Labels, string>();
function keyOf(labels: Labels): string {
  let key = keys.get(labels);
  if (key === undefined) {
    key = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join('\0');
    keys.set(labels, key);
  }
  return key;
}

const NO_LABELS: Labels = {};

/**
 * A counter summed here and reported at each collection (an observable counter: a cumulative monotonic sum on the
 * wire, as Traefik's Float64Counter): the SDK's add() hashes its attributes on every call (about 0.8 µs), while the
 * recorder hands the same label objects again and again, found here through a WeakMap.
 */
class OtelCounter implements CounterLike {
  private readonly sums = new Map<string, { labels: Labels; value: number }>();

  constructor(meter: Meter, name: string, description: string) {
    const counter = meter.createObservableCounter(name, { description, unit: '1', valueType: ValueType.DOUBLE });
    counter.addCallback((result) => {
      for (const { labels, value } of this.sums.values()) result.observe(value, labels as Attributes);
    });
  }

  inc(labels?: Labels | number, value?: number): void {
    if (typeof labels === 'number' || labels === undefined) this.add(NO_LABELS, labels ?? 1);
    else this.add(labels, value ?? 1);
  }

  private add(labels: Labels, delta: number): void {
    const key = keyOf(labels);
    const entry = this.sums.get(key);
    if (entry) entry.value += delta;
    else this.sums.set(key, { labels, value: delta });
  }
}

class OtelHistogram implements HistogramLike {
  private readonly histogram;

  constructor(meter: Meter, name: string, description: string, boundaries: number[]) {
    this.histogram = meter.createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: boundaries } });
  }

  observe(labels: Labels, value: number): void {
    this.histogram.record(value, labels as Attributes);
  }
}

/** A gauge that keeps its values and reports them when the reader collects, as Traefik's gaugeCollector. */
class OtelGauge implements GaugeLike {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  private readonly gauge: ObservableGauge;

  constructor(meter: Meter, name: string, description: string, unit: string) {
    this.gauge = meter.createObservableGauge(name, { description, unit, valueType: ValueType.DOUBLE });
    this.gauge.addCallback((result) => {
      for (const { labels, value } of this.values.values()) result.observe(value, labels as Attributes);
    });
  }

  set(labels: Labels | number, value?: number): void {
    if (typeof labels === 'number') this.values.set('', { labels: {}, value: labels });
    else this.values.set(keyOf(labels), { labels, value: value ?? 0 });
  }

  inc(labels: Labels): void {
    this.add(labels, 1);
  }

  dec(labels: Labels): void {
    this.add(labels, -1);
  }

  reset(): void {
    this.values.clear();
  }

  private add(labels: Labels, delta: number): void {
    const key = keyOf(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += delta;
    else this.values.set(key, { labels, value: delta });
  }
}

function requestFamilies(meter: Meter, level: Level, boundaries: number[]): RequestFamilies {
  const prefix = `traefik_${level}_`;
  const help = HELP[level];
  return {
    requests: new OtelCounter(meter, `${prefix}requests_total`, help.requests),
    tls: new OtelCounter(meter, `${prefix}requests_tls_total`, help.tls),
    duration: new OtelHistogram(meter, `${prefix}request_duration_seconds`, help.duration, boundaries),
    requestBytes: new OtelCounter(meter, `${prefix}requests_bytes_total`, help.requestBytes),
    responseBytes: new OtelCounter(meter, `${prefix}responses_bytes_total`, help.responseBytes),
  };
}

/** Every instrument Traefik registers for OTLP; the per-level families only when their add…Labels switch is on. */
export function createOtelTraefikMetrics(meter: Meter, options: MetricsOptions): TraefikInstruments {
  const boundaries = options.buckets;
  return {
    reloads: new OtelCounter(meter, 'traefik_config_reloads_total', 'Config reloads'),
    // Traefik's unit, though the value is in seconds.
    lastReload: new OtelGauge(meter, 'traefik_config_last_reload_success', 'Last config reload success', 'ms'),
    certsNotAfter: new OtelGauge(meter, 'traefik_tls_certs_not_after', 'Certificate expiration timestamp', 's'),
    openConnections: new OtelGauge(meter, 'traefik_open_connections', 'How many open connections exist, by entryPoint and protocol', '1'),
    entrypoint: options.addEntryPointsLabels ? requestFamilies(meter, 'entrypoint', boundaries) : undefined,
    router: options.addRoutersLabels ? requestFamilies(meter, 'router', boundaries) : undefined,
    service: options.addServicesLabels ? requestFamilies(meter, 'service', boundaries) : undefined,
    retries: options.addServicesLabels ? new OtelCounter(meter, 'traefik_service_retries_total', 'How many request retries happened on a service.') : undefined,
    serverUp: options.addServicesLabels ? new OtelGauge(meter, 'traefik_service_server_up', 'service server is up, described by gauge value of 0 or 1.', '1') : undefined,
  };
}
