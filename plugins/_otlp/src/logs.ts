// OTLP log records (log.otlp, accessLog.otlp): the SDK's LoggerProvider and batch processor behind a bounded queue
// that drops (and counts) records rather than growing while the collector is down; emitting never waits.
import { SeverityNumber, type AnyValueMap, type Logger as OtelLogger } from '@opentelemetry/api-logs';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { Logger } from '@wharf/core';
import { describeTarget, logExporter, resolveTarget } from './exporters.js';
import { bounded, OutageReport } from './outage.js';
import { otlpResource } from './resource.js';
import type { OtlpConnection } from './schema.js';

/** Records held for export at most; past it new records are dropped (the SDK's default queue size). */
export const MAX_QUEUED_RECORDS = 2048;
// How long a batch gathers before it is sent.
const BATCH_DELAY_MS = 1000;

export interface LogPipelineOptions {
  /** The option path, for errors and messages, e.g. `accessLog.otlp`. */
  field: string;
  /** The gateway log, for outage reports. */
  log: Logger;
  version?: string;
  /** Tests: a shorter batch delay. */
  batchDelayMs?: number;
  maxQueued?: number;
  /** Tests: a shorter wait for a collector that does not answer (the SDK's default is 10 s). */
  exportTimeoutMs?: number;
}

/**
 * Counts what sits between emit and the exporter: the batch processor's queue. The exporter wrapper sees each
 * batch leave the queue, so the count is exact without reaching into the processor.
 */
class QueueGauge implements LogRecordExporter {
  queued = 0;

  constructor(
    private readonly inner: LogRecordExporter,
    private readonly outage: OutageReport,
  ) {}

  export(records: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    this.queued -= records.length;
    this.inner.export(records, (result) => {
      if (result.code === ExportResultCode.SUCCESS) this.outage.recovered();
      else this.outage.drop(records.length, result.error);
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

export interface LogRecordInput {
  body: string;
  severityNumber: SeverityNumber;
  severityText: string;
  attributes: AnyValueMap;
  /** Milliseconds since the epoch. */
  timestamp?: number;
}

export class OtlpLogPipeline {
  readonly outage: OutageReport;
  private readonly provider: LoggerProvider;
  private readonly logger: OtelLogger;
  private readonly gauge: QueueGauge;
  private readonly maxQueued: number;

  /** Throws `<field>.…: …` on a bad endpoint or TLS file. */
  constructor(section: OtlpConnection, options: LogPipelineOptions) {
    const target = resolveTarget(section, options.field, 'logs');
    this.outage = new OutageReport(options.log, `${options.field} (${describeTarget(target)})`, 'log records');
    this.maxQueued = options.maxQueued ?? MAX_QUEUED_RECORDS;
    this.gauge = new QueueGauge(logExporter(target, options.exportTimeoutMs), this.outage);
    const processor = new BatchLogRecordProcessor({
      exporter: this.gauge,
      maxQueueSize: this.maxQueued,
      scheduledDelayMillis: options.batchDelayMs ?? BATCH_DELAY_MS,
    });
    this.provider = new LoggerProvider({ resource: otlpResource(section, options.version), processors: [processor] });
    this.logger = this.provider.getLogger('traefik');
  }

  /** Queues one record, or drops it (counted) when the queue is full. Never throws, never waits. */
  emit(record: LogRecordInput): void {
    if (this.gauge.queued >= this.maxQueued) {
      this.outage.drop(1);
      return;
    }
    this.gauge.queued++;
    this.logger.emit(record);
  }

  /** Sends what is queued and stops, waiting SHUTDOWN_LIMIT_MS at most. */
  async shutdown(): Promise<void> {
    await bounded(this.provider.shutdown());
    this.outage.close();
  }
}

export { SeverityNumber };
