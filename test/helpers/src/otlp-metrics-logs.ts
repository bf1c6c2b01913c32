// An OTLP collector for tests: receives metrics and logs as protobuf over HTTP (/v1/metrics, /v1/logs, gzip or not)
// and over gRPC, decodes them with the OTLP messages below (a subset of opentelemetry-proto v1, field numbers as
// upstream; unknown fields are skipped) and keeps them for assertions. Self-contained: the traces receiver
// (otlp-traces.ts) has its own decoding.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createTLSServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Server as GrpcServer, ServerCredentials, type Metadata, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import protobuf from 'protobufjs';

// opentelemetry/proto/{common,resource,metrics,logs}/v1 and the collector requests, trimmed to what tests read.
const OTLP_PROTO = `
syntax = "proto3";
package otlp;
message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }
message Resource { repeated KeyValue attributes = 1; }

message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
message Metric {
  string name = 1; string description = 2; string unit = 3;
  oneof data { Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; }
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message NumberDataPoint {
  repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; }
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  fixed64 count = 4; optional double sum = 5; repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7;
}

message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
message LogRecord {
  fixed64 time_unix_nano = 1; fixed64 observed_time_unix_nano = 11; int32 severity_number = 2; string severity_text = 3;
  AnyValue body = 5; repeated KeyValue attributes = 6; bytes trace_id = 9; bytes span_id = 10;
}
`;

const root = protobuf.parse(OTLP_PROTO, { keepCase: false }).root;
const MetricsRequest = root.lookupType('otlp.ExportMetricsServiceRequest');
const LogsRequest = root.lookupType('otlp.ExportLogsServiceRequest');

export type AttributeValue = string | number | boolean | AttributeValue[] | { [key: string]: AttributeValue } | null;
export type Attributes = Record<string, AttributeValue>;

/** One data point of a sum, gauge or histogram, flattened with its metric and resource. */
export interface OtlpPoint {
  metric: string;
  unit: string;
  description: string;
  kind: 'sum' | 'gauge' | 'histogram';
  /** Sums: 1 delta, 2 cumulative. */
  temporality?: number;
  monotonic?: boolean;
  attributes: Attributes;
  resource: Attributes;
  scope: string;
  /** Sums and gauges. */
  value?: number;
  /** Histograms. */
  count?: number;
  sum?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
}

export interface OtlpLogRecord {
  body: AttributeValue;
  severityNumber: number;
  severityText: string;
  attributes: Attributes;
  resource: Attributes;
  scope: string;
  timeUnixNano: string;
}

/** One export the collector received. */
export interface OtlpExport {
  transport: 'http' | 'grpc';
  signal: 'metrics' | 'logs';
  /** HTTP headers, or gRPC metadata (lower-case names). */
  headers: Record<string, string>;
  /** Over HTTPS with a client certificate: its subject CN. */
  clientCN?: string;
}

interface Decoded {
  [key: string]: unknown;
}

function anyValue(v: Decoded | undefined): AttributeValue {
  if (v === undefined || v === null) return null;
  if ('stringValue' in v) return v.stringValue as string;
  if ('boolValue' in v) return v.boolValue as boolean;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue as number;
  if ('bytesValue' in v) return Buffer.from(v.bytesValue as Uint8Array).toString('hex');
  if ('arrayValue' in v) return (((v.arrayValue as Decoded).values as Decoded[] | undefined) ?? []).map(anyValue);
  if ('kvlistValue' in v) return attributes((v.kvlistValue as Decoded).values as Decoded[] | undefined);
  return null;
}

function attributes(list: Decoded[] | undefined): Attributes {
  const out: Attributes = {};
  for (const kv of list ?? []) out[kv.key as string] = anyValue(kv.value as Decoded | undefined);
  return out;
}

const TO_OBJECT = { longs: String, defaults: false, arrays: true } as const;

function metricPoints(body: Buffer): OtlpPoint[] {
  const request = MetricsRequest.toObject(MetricsRequest.decode(body), TO_OBJECT) as Decoded;
  const points: OtlpPoint[] = [];
  for (const rm of (request.resourceMetrics as Decoded[]) ?? []) {
    const resource = attributes(((rm.resource as Decoded | undefined)?.attributes as Decoded[]) ?? []);
    for (const sm of (rm.scopeMetrics as Decoded[]) ?? []) {
      const scope = ((sm.scope as Decoded | undefined)?.name as string) ?? '';
      for (const m of (sm.metrics as Decoded[]) ?? []) {
        const base = { metric: m.name as string, unit: (m.unit as string) ?? '', description: (m.description as string) ?? '', resource, scope };
        const data = (m.sum ?? m.gauge ?? m.histogram) as Decoded | undefined;
        const kind = m.sum ? 'sum' : m.gauge ? 'gauge' : 'histogram';
        for (const p of (data?.dataPoints as Decoded[]) ?? []) {
          const point: OtlpPoint = { ...base, kind, attributes: attributes(p.attributes as Decoded[]) };
          if (data?.aggregationTemporality !== undefined) point.temporality = data.aggregationTemporality as number;
          if (m.sum) point.monotonic = Boolean(data?.isMonotonic);
          if (kind === 'histogram') {
            point.count = Number(p.count ?? 0);
            point.sum = (p.sum as number | undefined) ?? 0;
            point.bucketCounts = ((p.bucketCounts as string[]) ?? []).map(Number);
            point.explicitBounds = (p.explicitBounds as number[]) ?? [];
          } else {
            point.value = p.asDouble !== undefined ? (p.asDouble as number) : Number(p.asInt ?? 0);
          }
          points.push(point);
        }
      }
    }
  }
  return points;
}

function logRecords(body: Buffer): OtlpLogRecord[] {
  const request = LogsRequest.toObject(LogsRequest.decode(body), TO_OBJECT) as Decoded;
  const records: OtlpLogRecord[] = [];
  for (const rl of (request.resourceLogs as Decoded[]) ?? []) {
    const resource = attributes(((rl.resource as Decoded | undefined)?.attributes as Decoded[]) ?? []);
    for (const sl of (rl.scopeLogs as Decoded[]) ?? []) {
      const scope = ((sl.scope as Decoded | undefined)?.name as string) ?? '';
      for (const r of (sl.logRecords as Decoded[]) ?? []) {
        records.push({
          body: anyValue(r.body as Decoded | undefined),
          severityNumber: (r.severityNumber as number) ?? 0,
          severityText: (r.severityText as string) ?? '',
          attributes: attributes(r.attributes as Decoded[]),
          resource,
          scope,
          timeUnixNano: (r.timeUnixNano as string) ?? '0',
        });
      }
    }
  }
  return records;
}

/** What both receivers keep. */
export class OtlpStore {
  readonly exports: OtlpExport[] = [];
  readonly points: OtlpPoint[] = [];
  readonly logs: OtlpLogRecord[] = [];

  add(signal: 'metrics' | 'logs', transport: 'http' | 'grpc', headers: Record<string, string>, body: Buffer, clientCN?: string): void {
    if (signal === 'metrics') this.points.push(...metricPoints(body));
    else this.logs.push(...logRecords(body));
    this.exports.push({ transport, signal, headers, ...(clientCN === undefined ? {} : { clientCN }) });
  }

  /** The data points of one metric, latest push last. */
  series(metric: string): OtlpPoint[] {
    return this.points.filter((p) => p.metric === metric);
  }

  /** The last pushed point of `metric` whose attributes include `match`. */
  latest(metric: string, match: Attributes = {}): OtlpPoint | undefined {
    const found = this.series(metric).filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
    return found.at(-1);
  }
}

export interface OtlpHttpReceiver extends OtlpStore {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Status answered to the next exports (200 by default); e.g. 503 plays a collector in trouble. */
  status: number;
  close(): Promise<void>;
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));
}

export interface OtlpReceiverTLS {
  /** The server's certificate and key (PEM). */
  cert: string;
  key: string;
  /** When set, a client certificate signed by this CA is required. */
  clientCA?: string;
}

function clientCN(req: IncomingMessage): string | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  const cn = socket.getPeerCertificate?.()?.subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}

/**
 * Collector on 127.0.0.1: POST /v1/metrics and /v1/logs (or any path ending so), protobuf, gzip or plain; over
 * HTTPS with `tls` (and mutual TLS with its clientCA).
 */
export async function startOtlpHttpReceiver(options: { tls?: OtlpReceiverTLS } = {}): Promise<OtlpHttpReceiver> {
  const store = new OtlpStore();
  let server: Server;
  const receiver = Object.assign(store, {
    url: '',
    status: 200,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as OtlpHttpReceiver;
  const handler: RequestListener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const signal = req.url?.endsWith('/logs') ? 'logs' : req.url?.endsWith('/metrics') ? 'metrics' : undefined;
      if (req.method !== 'POST' || signal === undefined) {
        res.writeHead(404).end();
        return;
      }
      if (receiver.status !== 200) {
        res.writeHead(receiver.status).end();
        return;
      }
      try {
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        receiver.add(signal, 'http', flatHeaders(req.headers), body, clientCN(req));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } catch (err) {
        res.writeHead(400).end(String(err));
      }
    });
  };
  const { tls } = options;
  server = tls
    ? (createTLSServer({ cert: tls.cert, key: tls.key, ...(tls.clientCA ? { ca: tls.clientCA, requestCert: true, rejectUnauthorized: true } : {}) }, handler) as unknown as Server)
    : createServer(handler);
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(receiver, { url: `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}` });
  return receiver;
}

export interface OtlpGrpcReceiver extends OtlpStore {
  /** 127.0.0.1:<port>. */
  readonly endpoint: string;
  close(): Promise<void>;
}

function grpcService(store: OtlpStore, signal: 'metrics' | 'logs') {
  const path = signal === 'metrics' ? '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export' : '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
  const definition = {
    Export: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      // An empty Export…ServiceResponse.
      responseSerialize: () => Buffer.alloc(0),
      responseDeserialize: (b: Buffer) => b,
    },
  };
  function exportCall(call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>): void {
    store.add(signal, 'grpc', metadataHeaders(call.metadata), call.request);
    done(null, Buffer.alloc(0));
  }
  return { definition, implementation: { Export: exportCall } };
}

function metadataHeaders(metadata: Metadata): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata.getMap()).map(([k, v]) => [k, String(v)]));
}

/** Collector on 127.0.0.1 speaking gRPC (plain text, or TLS with `tls`): the metrics and logs services' Export. */
export async function startOtlpGrpcReceiver(options: { tls?: OtlpReceiverTLS } = {}): Promise<OtlpGrpcReceiver> {
  const store = new OtlpStore();
  const server = new GrpcServer();
  for (const signal of ['metrics', 'logs'] as const) {
    const { definition, implementation } = grpcService(store, signal);
    server.addService(definition, implementation);
  }
  const port = await new Promise<number>((resolve, reject) => {
    const { tls } = options;
    const credentials = tls
      ? ServerCredentials.createSsl(tls.clientCA ? Buffer.from(tls.clientCA) : null, [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], tls.clientCA !== undefined)
      : ServerCredentials.createInsecure();
    server.bindAsync('127.0.0.1:0', credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  return Object.assign(store, {
    endpoint: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  });
}
