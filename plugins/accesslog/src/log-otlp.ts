// log.otlp: the gateway's own log lines also sent as OTLP log records, as Traefik 3.x's zerolog hook does: the
// message as body, its severity, every other field as an attribute. Lives beside accessLog.otlp (Traefik documents
// both on one page); the lines come from core's addLogDestination, the records leave through @wharf/otlp's bounded
// pipeline, so a collector that is down costs dropped records (counted), never a blocked caller.
import { addLogDestination, definePlugin, Type, type Static } from '@wharf/core';
import { OtlpLogPipeline, otlpConnectionProperties, SeverityNumber, type LogRecordInput } from '@wharf/otlp';

export const logOtlpSchema = Type.Object(otlpConnectionProperties(), {
  additionalProperties: false,
  description: "Send the gateway's own log lines as OpenTelemetry log records (OTLP over HTTP or gRPC), besides the file or stdout.",
});
type LogOtlpConfig = Static<typeof logOtlpSchema>;

/** pino's level numbers → OTLP severity (Traefik's mapping of zerolog's levels). */
const SEVERITY: Record<number, [SeverityNumber, string]> = {
  10: [SeverityNumber.TRACE, 'TRACE'],
  20: [SeverityNumber.DEBUG, 'DEBUG'],
  30: [SeverityNumber.INFO, 'INFO'],
  40: [SeverityNumber.WARN, 'WARN'],
  50: [SeverityNumber.ERROR, 'ERROR'],
  60: [SeverityNumber.FATAL, 'FATAL'],
};

/** One pino JSON line as a record; a line that does not parse is sent as its text. */
export function recordOf(line: string): LogRecordInput {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { body: line.trimEnd(), severityNumber: SeverityNumber.UNSPECIFIED, severityText: '', attributes: {} };
  }
  const { level, time, msg, ...fields } = parsed;
  const [severityNumber, severityText] = SEVERITY[level as number] ?? [SeverityNumber.UNSPECIFIED, ''];
  return {
    body: typeof msg === 'string' ? msg : '',
    severityNumber,
    severityText,
    attributes: fields as LogRecordInput['attributes'],
    ...(typeof time === 'number' ? { timestamp: time } : {}),
  };
}

export const logOtlp = definePlugin({
  name: 'logOtlp',
  description: "The gateway's own log lines as OTLP log records (log.otlp).",
  schema: Type.Object({}, { additionalProperties: false }),
  config: { static: { key: 'log.otlp', schema: logOtlpSchema } },
  setup(config: LogOtlpConfig | undefined, host) {
    if (config === undefined) return;
    const pipeline = new OtlpLogPipeline(config, { field: 'log.otlp', log: host.log });
    const remove = addLogDestination(host.log, (line) => pipeline.emit(recordOf(line)));
    if (remove === undefined) {
      host.log.warn('log.otlp: this gateway log is not one Wharf made (an embedding application passed its own logger); its lines are not exported');
    }
    host.lifecycle.onStop(async function stopLogExport() {
      remove?.();
      await pipeline.shutdown();
    });
  },
});
