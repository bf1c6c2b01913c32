// OTLP exporters of the OpenTelemetry JS SDK, configured as Traefik configures its Go ones: protobuf over HTTP
// (gzip) unless `grpc` is set, the signal's default path when the endpoint has none, TLS from PEM files or text.
import { credentials as grpcCredentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as HttpMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { readCertificates, readPemValue } from '@wharf/core/tls';
import type { OtlpConnection, OtlpGrpc, OtlpHttp, OtlpTLS } from './schema.js';

export type Signal = 'metrics' | 'logs';

/** Where a section sends, checked, for the exporters and for messages. */
export type Target =
  | { readonly transport: 'http'; readonly url: string; readonly options: OtlpHttp; readonly tls: TLSMaterial }
  | { readonly transport: 'grpc'; readonly url: string; readonly options: OtlpGrpc; readonly tls: TLSMaterial };

interface TLSMaterial {
  ca?: string;
  cert?: string;
  key?: string;
  insecureSkipVerify: boolean;
}

const HTTP_DEFAULTS: OtlpHttp = { endpoint: 'https://localhost:4318', headers: {} };
const GRPC_HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[^:/\s]+):\d{1,5}$/;

function readTLS(tls: OtlpTLS | undefined, field: string): TLSMaterial {
  if (tls === undefined) return { insecureSkipVerify: false };
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    const missing = tls.cert === undefined ? 'cert' : 'key';
    throw new Error(`${field}.tls.${missing}: required when tls.${missing === 'cert' ? 'key' : 'cert'} is set (both the client certificate and its key)`);
  }
  return {
    ca: tls.ca === undefined ? undefined : readCertificates(tls.ca, `${field}.tls.ca`),
    cert: tls.cert === undefined ? undefined : readPemValue(tls.cert, `${field}.tls.cert`),
    key: tls.key === undefined ? undefined : readPemValue(tls.key, `${field}.tls.key`),
    insecureSkipVerify: tls.insecureSkipVerify,
  };
}

/**
 * Checks a section's transport and endpoint (`field` names it in errors, e.g. `metrics.otlp`): gRPC when set,
 * else HTTP with Traefik's default endpoint. Throws `<field>.http.endpoint: …` on a bad address.
 */
export function resolveTarget(section: OtlpConnection, field: string, signal: Signal): Target {
  if (section.grpc !== undefined) {
    const { endpoint } = section.grpc;
    if (!GRPC_HOST_PORT.test(endpoint)) throw new Error(`${field}.grpc.endpoint: expected host:port, e.g. otel-collector:4317; got '${endpoint}'`);
    const tls = readTLS(section.grpc.tls, `${field}.grpc`);
    return { transport: 'grpc', url: `${section.grpc.insecure ? 'http' : 'https'}://${endpoint}`, options: section.grpc, tls };
  }
  const http = section.http ?? HTTP_DEFAULTS;
  let url: URL;
  try {
    url = new URL(http.endpoint);
  } catch {
    throw new Error(`${field}.http.endpoint: expected a URL such as http://otel-collector:4318; got '${http.endpoint}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${field}.http.endpoint: the scheme must be http or https; got '${http.endpoint}'`);
  // Traefik: the endpoint's path when it has one, else the signal's default.
  const hasPath = http.endpoint.replace(/^[a-z]+:\/\/[^/]*/i, '') !== '';
  const full = hasPath ? url.href : `${url.origin}/v1/${signal}`;
  return { transport: 'http', url: full, options: http, tls: readTLS(http.tls, `${field}.http`) };
}

function httpAgentOptions(tls: TLSMaterial) {
  return { keepAlive: true, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecureSkipVerify };
}

function grpcChannel(target: Extract<Target, { transport: 'grpc' }>): { credentials: ChannelCredentials; metadata: Metadata } {
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(target.options.headers)) metadata.set(name, value);
  if (target.options.insecure) return { credentials: grpcCredentials.createInsecure(), metadata };
  const { tls } = target;
  const verify = tls.insecureSkipVerify ? { checkServerIdentity: () => undefined, rejectUnauthorized: false } : {};
  const creds = grpcCredentials.createSsl(
    tls.ca === undefined ? null : Buffer.from(tls.ca),
    tls.key === undefined ? null : Buffer.from(tls.key),
    tls.cert === undefined ? null : Buffer.from(tls.cert),
    verify,
  );
  return { credentials: creds, metadata };
}

export function metricExporter(target: Target): PushMetricExporter {
  if (target.transport === 'grpc') return new GrpcMetricExporter({ url: target.url, compression: CompressionAlgorithm.GZIP, ...grpcChannel(target) });
  return new HttpMetricExporter({ url: target.url, headers: target.options.headers, compression: CompressionAlgorithm.GZIP, httpAgentOptions: httpAgentOptions(target.tls) });
}

export function logExporter(target: Target, timeoutMillis?: number): LogRecordExporter {
  if (target.transport === 'grpc') return new GrpcLogExporter({ url: target.url, compression: CompressionAlgorithm.GZIP, timeoutMillis, ...grpcChannel(target) });
  return new HttpLogExporter({ url: target.url, headers: target.options.headers, compression: CompressionAlgorithm.GZIP, timeoutMillis, httpAgentOptions: httpAgentOptions(target.tls) });
}

/** For messages: where a section sends, without its headers. */
export function describeTarget(target: Target): string {
  return target.transport === 'grpc' ? `gRPC ${target.options.endpoint}` : target.url;
}
