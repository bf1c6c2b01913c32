// accessLog.otlp: each access-log line also (or, without dualOutput, only) as an OTLP log record, as Traefik 3.x
// does: the body is the line in the configured format, the attributes every kept field (as the json format has
// them), severity info. Records leave in batches from a bounded queue: a collector that is down drops them
// (counted, reported once) and never slows a request.
import { OtlpLogPipeline, SeverityNumber, type LogRecordInput } from '@wharf/otlp';
import type { Logger } from '@wharf/core';
import type { Exchange } from './exchange.js';
import { compileFields, type FieldPlan } from './fields.js';
import type { AccessLogConfig } from './schema.js';

export class OtlpAccessLog {
  private readonly pipeline: OtlpLogPipeline;
  /** Every kept field, whatever the line format (the CLF formats print only some). */
  private readonly fields: FieldPlan;

  /** Throws `accessLog.otlp.…: …` on a bad endpoint or TLS file. */
  constructor(config: AccessLogConfig, log: Logger) {
    this.pipeline = new OtlpLogPipeline(config.otlp!, { field: 'accessLog.otlp', log });
    this.fields = compileFields(config.fields, 'json');
  }

  /** What the exchange must capture for the attributes: the json format's superset. */
  get capture() {
    return this.fields.capture;
  }

  /** Queues the record of one line (`line` as rendered, newline included). */
  write(x: Exchange, line: string): void {
    const record: LogRecordInput = {
      body: line.endsWith('\n') ? line.slice(0, -1) : line,
      severityNumber: SeverityNumber.INFO,
      severityText: 'info',
      attributes: attributesOf(this.fields.build(x)),
      timestamp: Date.now(),
    };
    this.pipeline.emit(record);
  }

  shutdown(): Promise<void> {
    return this.pipeline.shutdown();
  }
}

/** Fields left undefined (dropped, or not known for this request) are not attributes. */
function attributesOf(fields: Record<string, unknown>): Record<string, string | number | boolean> {
  const attributes: Record<string, string | number | boolean> = {};
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined || value === null) continue;
    attributes[key] = typeof value === 'object' ? String(value) : (value as string | number | boolean);
  }
  return attributes;
}
