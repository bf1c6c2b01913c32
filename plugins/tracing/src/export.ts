// The OpenTelemetry SDK behind the plugin: resource, ParentBased(TraceIdRatio) sampler, OTLP exporter (HTTP
// protobuf or gRPC, as Traefik's otlp.http / otlp.grpc) and a batch processor whose queue is bounded and counted.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Context } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { credentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { defaultResource, detectResources, envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Logger } from '@wharf/core';
import type { ClientTLSConfig, TracingConfig } from './options.js';

/** What the plugin keeps of the SDK: the provider, where it exports, and the drop count. */
export interface TraceExport {
  provider: BasicTracerProvider;
  /** Where spans go, for messages. */
  target: string;
  /** Spans dropped because the export queue was full (collector down or slow). */
  dropped(): number;
  shutdown(): Promise<void>;
}

/** Traefik sends spans to `<endpoint>/v1/traces` when the endpoint has no path of its own. */
export function httpTracesURL(endpoint: string): string {
  return /^https?:\/\/[^/]+$/.test(endpoint) ? `${endpoint}/v1/traces` : endpoint;
}

/** A PEM option: the text itself, or a file to read now (start-up), naming the option when it cannot be read. */
function pem(value: string | undefined, option: string): Buffer | undefined {
  if (value === undefined) return undefined;
  if (value.includes('-----BEGIN')) return Buffer.from(value);
  try {
    return readFileSync(value);
  } catch (err) {
    throw new Error(`${option}: cannot read ${JSON.stringify(value)} (${(err as Error).message}); give a PEM file path or the PEM text`, { cause: err });
  }
}

function httpExporter(http: TracingConfig['otlp']['http']): SpanExporter {
  const tls = http.tls;
  return new ProtoTraceExporter({
    url: httpTracesURL(http.endpoint),
    headers: http.headers,
    compression: CompressionAlgorithm.GZIP,
    httpAgentOptions: tls ? agentTLS(tls, 'tracing.otlp.http.tls') : {},
  });
}

function agentTLS(tls: ClientTLSConfig, where: string): Record<string, unknown> {
  return { ca: pem(tls.ca, `${where}.ca`), cert: pem(tls.cert, `${where}.cert`), key: pem(tls.key, `${where}.key`), rejectUnauthorized: !tls.insecureSkipVerify };
}

function grpcExporter(grpc: NonNullable<TracingConfig['otlp']['grpc']>): SpanExporter {
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(grpc.headers)) metadata.set(name, value);
  return new GrpcTraceExporter({
    url: `${grpc.insecure ? 'http' : 'https'}://${grpc.endpoint}`,
    credentials: grpcCredentials(grpc),
    metadata,
    compression: CompressionAlgorithm.GZIP,
  });
}

function grpcCredentials(grpc: NonNullable<TracingConfig['otlp']['grpc']>): ChannelCredentials {
  if (grpc.insecure) return credentials.createInsecure();
  const tls = grpc.tls;
  if (!tls) return credentials.createSsl();
  const where = 'tracing.otlp.grpc.tls';
  const verify = tls.insecureSkipVerify ? { checkServerIdentity: () => undefined } : {};
  return credentials.createSsl(pem(tls.ca, `${where}.ca`) ?? null, pem(tls.key, `${where}.key`) ?? null, pem(tls.cert, `${where}.cert`) ?? null, verify);
}

/** Traefik's resource: service name and version, the user's attributes, then OTEL_RESOURCE_ATTRIBUTES over them. */
function resourceOf(config: TracingConfig, version: string): Resource {
  const own = Object.keys(config.resourceAttributes).length > 0 ? config.resourceAttributes : config.globalAttributes;
  return defaultResource()
    .merge(resourceFromAttributes({ 'host.name': hostname(), 'process.pid': process.pid, 'process.runtime.name': 'nodejs', 'process.runtime.version': process.versions.node }))
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName, [ATTR_SERVICE_VERSION]: version }))
    .merge(resourceFromAttributes(own))
    .merge(detectResources({ detectors: [envDetector] }));
}

function envInteger(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/**
 * Counts what the batch processor holds (spans handed to it minus spans it took for export) and drops, counting
 * them, the spans that would overflow its queue: the same bound the processor keeps, made visible.
 */
class BoundedQueue implements SpanProcessor {
  private handed = 0;
  private taken = 0;
  dropped = 0;
  onDrop: () => void = () => {};

  constructor(
    private readonly batch: BatchSpanProcessor,
    private readonly capacity: number,
  ) {}

  /** The exporter calls this with every batch the processor takes out of its queue. */
  took(count: number): void {
    this.taken += count;
  }

  onStart(span: Span, parent: Context): void {
    this.batch.onStart(span, parent);
  }

  onEnd(span: ReadableSpan): void {
    if (this.handed - this.taken >= this.capacity) {
      this.dropped++;
      this.onDrop();
      return;
    }
    this.handed++;
    this.batch.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.batch.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.batch.shutdown();
  }
}

/** An exporter that reports each batch it is given, and its failures, throttled. */
class ReportingExporter implements SpanExporter {
  onBatch: (count: number) => void = () => {};
  private lastReport = 0;

  constructor(
    private readonly inner: SpanExporter,
    private readonly target: string,
    private readonly log: Logger,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.onBatch(spans.length);
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.reportFailure(spans.length, result.error);
      done(result);
    });
  }

  private reportFailure(count: number, error: Error | undefined): void {
    const now = Date.now();
    if (now - this.lastReport < REPORT_INTERVAL_MS) return;
    this.lastReport = now;
    this.log.warn(`tracing: cannot export ${count} spans to ${this.target}: ${error?.message ?? 'unknown error'}; check that the collector is up (further failures are reported every ${REPORT_INTERVAL_MS / 1000}s)`);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

const REPORT_INTERVAL_MS = 10_000;

/**
 * Builds the SDK for the static configuration. The queue holds OTEL_BSP_MAX_QUEUE_SIZE spans (default 2048,
 * the SDK's), exported OTEL_BSP_MAX_EXPORT_BATCH_SIZE at a time (512) at least every OTEL_BSP_SCHEDULE_DELAY ms
 * (5000); beyond it spans are dropped and counted, never held.
 */
export function createTraceExport(config: TracingConfig, version: string, log: Logger): TraceExport {
  const grpc = config.otlp.grpc;
  const target = grpc ? `grpc://${grpc.endpoint}` : httpTracesURL(config.otlp.http.endpoint);
  const exporter = new ReportingExporter(grpc ? grpcExporter(grpc) : httpExporter(config.otlp.http), target, log);
  const capacity = envInteger('OTEL_BSP_MAX_QUEUE_SIZE', 2048);
  const batch = new BatchSpanProcessor(exporter, {
    maxQueueSize: capacity,
    maxExportBatchSize: Math.min(envInteger('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512), capacity),
    scheduledDelayMillis: envInteger('OTEL_BSP_SCHEDULE_DELAY', 5000),
    exportTimeoutMillis: envInteger('OTEL_BSP_EXPORT_TIMEOUT', 30000),
  });
  const queue = new BoundedQueue(batch, capacity);
  exporter.onBatch = (count) => queue.took(count);
  const provider = new BasicTracerProvider({
    resource: resourceOf(config, version),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRate) }),
    spanProcessors: [queue],
  });
  const reporter = new DropReporter(() => queue.dropped, target, log);
  queue.onDrop = () => reporter.dropped();
  return {
    provider,
    target,
    dropped: () => queue.dropped,
    async shutdown() {
      reporter.stop();
      await withinShutdownLimit(provider.shutdown());
    },
  };
}

// Traefik gives the tracer 5 s to flush at shutdown: a collector that does not answer must not hold the exit.
const SHUTDOWN_LIMIT_MS = 5000;

function withinShutdownLimit(done: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the collector did not take them within ${SHUTDOWN_LIMIT_MS / 1000}s`)), SHUTDOWN_LIMIT_MS);
    timer.unref();
  });
  return Promise.race([done, limit]).finally(() => clearTimeout(timer));
}

/** Logs dropped spans: the first drop at once, then the count since the last report at most every REPORT_INTERVAL_MS. */
class DropReporter {
  private reported = 0;
  private last = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly count: () => number,
    private readonly target: string,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => this.report(), REPORT_INTERVAL_MS);
    this.timer.unref();
  }

  dropped(): void {
    if (Date.now() - this.last >= REPORT_INTERVAL_MS) this.report();
  }

  stop(): void {
    clearInterval(this.timer);
    this.report();
  }

  private report(): void {
    const now = this.count();
    if (now === this.reported) return;
    this.log.warn(`tracing: dropped ${now - this.reported} spans (${now} since start): the export queue is full; is the collector at ${this.target} up and fast enough?`);
    this.reported = now;
    this.last = Date.now();
  }
}
