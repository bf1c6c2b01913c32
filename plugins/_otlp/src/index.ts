// @wharf/otlp: OTLP export of metrics and logs through the OpenTelemetry JS SDK, with Traefik's options.
export { otlpConnectionProperties, otlpHttpSchema, otlpGrpcSchema, otlpTLSSchema, type OtlpConnection, type OtlpHttp, type OtlpGrpc, type OtlpTLS } from './schema.js';
export { resolveTarget, describeTarget, type Target, type Signal } from './exporters.js';
export { otlpResource } from './resource.js';
export { OutageReport } from './outage.js';
export { OtlpLogPipeline, MAX_QUEUED_RECORDS, SeverityNumber, type LogPipelineOptions, type LogRecordInput } from './logs.js';
export { OtlpMetricPipeline, type MetricPipelineOptions } from './metrics.js';
