// metrics.otlp's pipeline: a MeterProvider whose periodic reader pushes every pushInterval (cumulative, as Traefik).
import type { Meter } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Logger } from '@wharf/core';
import { describeTarget, metricExporter, resolveTarget } from './exporters.js';
import { bounded, OutageReport } from './outage.js';
import { otlpResource } from './resource.js';
import type { OtlpConnection } from './schema.js';

// The SDK's export timeout, and never longer than the interval (the reader refuses that).
const EXPORT_TIMEOUT_MS = 30_000;

/** Reports failed pushes on the gateway log, once per outage. */
class ReportingExporter implements PushMetricExporter {
  constructor(
    private readonly inner: PushMetricExporter,
    private readonly outage: OutageReport,
  ) {}

  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    this.inner.export(metrics, (result) => {
      if (result.code === ExportResultCode.SUCCESS) this.outage.recovered();
      else this.outage.drop(1, result.error);
      done(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  // Cumulative temporality and default aggregations: what the OTLP exporter asks for.
  selectAggregationTemporality: PushMetricExporter['selectAggregationTemporality'] = (type) => this.inner.selectAggregationTemporality!(type);
}

export interface MetricPipelineOptions {
  field: string;
  log: Logger;
  pushIntervalMs: number;
  version?: string;
}

export class OtlpMetricPipeline {
  readonly meter: Meter;
  readonly outage: OutageReport;
  private readonly provider: MeterProvider;

  /** Throws `<field>.…: …` on a bad endpoint or TLS file. */
  constructor(section: OtlpConnection, options: MetricPipelineOptions) {
    const target = resolveTarget(section, options.field, 'metrics');
    this.outage = new OutageReport(options.log, `${options.field} (${describeTarget(target)})`, 'metric pushes');
    const reader = new PeriodicExportingMetricReader({
      exporter: new ReportingExporter(metricExporter(target), this.outage),
      exportIntervalMillis: options.pushIntervalMs,
      exportTimeoutMillis: Math.min(options.pushIntervalMs, EXPORT_TIMEOUT_MS),
    });
    this.provider = new MeterProvider({ resource: otlpResource(section, options.version), readers: [reader] });
    this.meter = this.provider.getMeter('github.com/traefik/traefik', options.version);
  }

  /** Pushes once more and stops, waiting SHUTDOWN_LIMIT_MS at most. */
  async shutdown(): Promise<void> {
    await bounded(this.provider.shutdown());
    this.outage.close();
  }
}
