// An OTLP collector for tests: one receiver for traces, metrics and logs, over HTTP (POST /v1/traces, /v1/metrics,
// /v1/logs; protobuf, gzip or plain; HTTPS and mutual TLS on request) and gRPC (the three collector services'
// Export). What arrives is decoded into flat spans, metric points and log records, kept for assertions.
import { createServer as createTcpServer, type Socket } from 'node:net';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { Server as GrpcServer, ServerCredentials, type Metadata, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { listen, type AnyHttpServer } from './backend.js';

// opentelemetry-proto v1 (common, resource, trace, metrics, logs and the collector requests) trimmed to the fields
// tests read; field numbers and types as upstream, so unknown fields are skipped.
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

message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; string name = 5;
  int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9;
  repeated Event events = 11; Status status = 15; fixed32 flags = 16;
}
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
message Status { string message = 2; int32 code = 3; }

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

export type OtlpSignal = 'traces' | 'metrics' | 'logs';

const root = protobuf.parse(OTLP_PROTO, { keepCase: false }).root;
const REQUESTS: Record<OtlpSignal, protobuf.Type> = {
  traces: root.lookupType('otlp.ExportTraceServiceRequest'),
  metrics: root.lookupType('otlp.ExportMetricsServiceRequest'),
  logs: root.lookupType('otlp.ExportLogsServiceRequest'),
};
const GRPC_PATHS: Record<OtlpSignal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};
const SIGNALS = Object.keys(REQUESTS) as OtlpSignal[];

/** OTLP span kinds as numbers (SPAN_KIND_*). */
export const SpanKinds = { internal: 1, server: 2, client: 3 } as const;
/** OTLP status codes (STATUS_CODE_*). */
export const StatusCodes = { unset: 0, ok: 1, error: 2 } as const;

/** An AnyValue as JavaScript: int64 as number, bytes as lower-case hex, kvlist as an object. */
export type AttributeValue = string | number | boolean | AttributeValue[] | { [key: string]: AttributeValue } | null;
export type Attributes = Record<string, AttributeValue>;

export interface ReceivedSpan {
  /** Lower-case hex, as in traceparent. */
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  attributes: Attributes;
  events: Array<{ name: string; attributes: Attributes }>;
  status: { code: number; message: string };
  /** The exporting resource's attributes (service.name, …). */
  resource: Attributes;
  scope: string;
}

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
  signal: OtlpSignal;
  /** HTTP headers, or gRPC metadata (lower-case names). */
  headers: Record<string, string>;
  /** The request path (HTTP only). */
  path?: string;
  /** Over HTTPS with a client certificate: its subject CN. */
  clientCN?: string;
}

type Decoded = Record<string, unknown>;

function anyValue(v: Decoded | undefined): AttributeValue {
  if (v === undefined || v === null) return null;
  if ('stringValue' in v) return v.stringValue as string;
  if ('boolValue' in v) return v.boolValue as boolean;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue as number;
  if ('bytesValue' in v) return hex(v.bytesValue);
  if ('arrayValue' in v) return (((v.arrayValue as Decoded).values as Decoded[] | undefined) ?? []).map(anyValue);
  if ('kvlistValue' in v) return attributes((v.kvlistValue as Decoded).values);
  return null;
}

function attributes(list: unknown): Attributes {
  const out: Attributes = {};
  for (const kv of (list as Decoded[] | undefined) ?? []) out[kv.key as string] = anyValue(kv.value as Decoded | undefined);
  return out;
}

function hex(bytes: unknown): string {
  return bytes === undefined ? '' : Buffer.from(bytes as Uint8Array).toString('hex');
}

const TO_OBJECT = { longs: String, defaults: false, arrays: true } as const;

function decode(signal: OtlpSignal, body: Uint8Array): Decoded {
  return REQUESTS[signal].toObject(REQUESTS[signal].decode(body), TO_OBJECT);
}

/** Walks resource → scope → items (the same three levels in every signal) and maps each item. */
function flatten<T>(request: Decoded, resourceKey: string, scopeKey: string, itemsKey: string, map: (item: Decoded, resource: Attributes, scope: string) => T[]): T[] {
  const out: T[] = [];
  for (const r of (request[resourceKey] as Decoded[] | undefined) ?? []) {
    const resource = attributes((r.resource as Decoded | undefined)?.attributes);
    for (const s of (r[scopeKey] as Decoded[] | undefined) ?? []) {
      const scope = ((s.scope as Decoded | undefined)?.name as string | undefined) ?? '';
      for (const item of (s[itemsKey] as Decoded[] | undefined) ?? []) out.push(...map(item, resource, scope));
    }
  }
  return out;
}

function spans(body: Uint8Array): ReceivedSpan[] {
  return flatten(decode('traces', body), 'resourceSpans', 'scopeSpans', 'spans', (s, resource, scope) => {
    const status = s.status as Decoded | undefined;
    const events = (s.events as Decoded[] | undefined) ?? [];
    return [
      {
        traceId: hex(s.traceId),
        spanId: hex(s.spanId),
        parentSpanId: hex(s.parentSpanId),
        traceState: (s.traceState as string | undefined) ?? '',
        name: s.name as string,
        kind: (s.kind as number | undefined) ?? 0,
        attributes: attributes(s.attributes),
        events: events.map((e) => ({ name: e.name as string, attributes: attributes(e.attributes) })),
        status: { code: (status?.code as number | undefined) ?? 0, message: (status?.message as string | undefined) ?? '' },
        resource,
        scope,
      },
    ];
  });
}

function metricPoints(body: Uint8Array): OtlpPoint[] {
  return flatten(decode('metrics', body), 'resourceMetrics', 'scopeMetrics', 'metrics', (m, resource, scope) => {
    const base = { metric: m.name as string, unit: (m.unit as string | undefined) ?? '', description: (m.description as string | undefined) ?? '', resource, scope };
    const data = (m.sum ?? m.gauge ?? m.histogram) as Decoded | undefined;
    const kind = m.sum ? 'sum' : m.gauge ? 'gauge' : 'histogram';
    return ((data?.dataPoints as Decoded[] | undefined) ?? []).map((p) => {
      const point: OtlpPoint = { ...base, kind, attributes: attributes(p.attributes) };
      if (data?.aggregationTemporality !== undefined) point.temporality = data.aggregationTemporality as number;
      if (m.sum) point.monotonic = Boolean(data?.isMonotonic);
      if (kind === 'histogram') {
        point.count = Number(p.count ?? 0);
        point.sum = (p.sum as number | undefined) ?? 0;
        point.bucketCounts = ((p.bucketCounts as string[] | undefined) ?? []).map(Number);
        point.explicitBounds = (p.explicitBounds as number[] | undefined) ?? [];
      } else {
        point.value = p.asDouble !== undefined ? (p.asDouble as number) : Number(p.asInt ?? 0);
      }
      return point;
    });
  });
}

function logRecords(body: Uint8Array): OtlpLogRecord[] {
  return flatten(decode('logs', body), 'resourceLogs', 'scopeLogs', 'logRecords', (r, resource, scope) => [
    {
      body: anyValue(r.body as Decoded | undefined),
      severityNumber: (r.severityNumber as number | undefined) ?? 0,
      severityText: (r.severityText as string | undefined) ?? '',
      attributes: attributes(r.attributes),
      resource,
      scope,
      timeUnixNano: (r.timeUnixNano as string | undefined) ?? '0',
    },
  ]);
}

/** What a receiver keeps, whichever transport the exports came over. */
export class OtlpStore {
  readonly exports: OtlpExport[] = [];
  readonly spans: ReceivedSpan[] = [];
  readonly points: OtlpPoint[] = [];
  readonly logs: OtlpLogRecord[] = [];
  /** Exports and request-body bytes (as sent, compressed or not), counted even when `discard` keeps nothing. */
  readonly counts = { exports: 0, bytes: 0 };

  constructor(private readonly discard = false) {}

  add(exported: OtlpExport, body: Uint8Array, wireBytes = body.length): void {
    this.counts.exports++;
    this.counts.bytes += wireBytes;
    if (this.discard) return;
    if (exported.signal === 'traces') this.spans.push(...spans(body));
    else if (exported.signal === 'metrics') this.points.push(...metricPoints(body));
    else this.logs.push(...logRecords(body));
    this.exports.push(exported);
  }

  /** Headers (HTTP) or metadata (gRPC) of each export, in arrival order. */
  get requests(): Array<Record<string, string>> {
    return this.exports.map((e) => e.headers);
  }

  /** Request paths of the HTTP exports. */
  get paths(): string[] {
    return this.exports.filter((e) => e.transport === 'http').map((e) => e.path ?? '');
  }

  /** Subject CN of the client certificate each HTTP export came with ('' without one). */
  get clientCertificates(): string[] {
    return this.exports.filter((e) => e.transport === 'http').map((e) => e.clientCN ?? '');
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

export interface OtlpReceiverTLS {
  /** The server's certificate and key (PEM). */
  cert: string;
  key: string;
  /** When set, a client certificate signed by this CA is required (mutual TLS). */
  clientCA?: string;
}

export interface OtlpReceiverOptions {
  /** Also serve OTLP/gRPC (on its own port, into the same store). */
  grpc?: boolean;
  /** HTTPS, and gRPC over TLS, with this certificate. */
  tls?: OtlpReceiverTLS;
  /** Count exports and bytes, decode and keep nothing: for benchmarks, where decoding would load the machine. */
  discard?: boolean;
}

export interface OtlpReceiver extends OtlpStore {
  /** `http(s)://127.0.0.1:<port>`: the OTLP/HTTP endpoint. */
  readonly url: string;
  /** `127.0.0.1:<port>` of the gRPC server, when started with `grpc`. */
  readonly grpcEndpoint?: string;
  /** Status HTTP exports are answered with (200 by default); e.g. 503 plays a collector in trouble. */
  status: number;
  close(): Promise<void>;
}

function httpSignal(path: string | undefined): OtlpSignal | undefined {
  return SIGNALS.find((signal) => path?.endsWith(`/v1/${signal}`));
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));
}

function clientCN(req: IncomingMessage): string | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  const cn = socket.getPeerCertificate?.()?.subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}

/** POST /v1/{traces,metrics,logs} (any prefix), protobuf, gzip or plain; other requests get 404. */
function httpHandler(receiver: OtlpReceiver): RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const signal = httpSignal(req.url);
      if (req.method !== 'POST' || signal === undefined) return void res.writeHead(404).end();
      if (receiver.status !== 200) return void res.writeHead(receiver.status).end();
      try {
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        const cn = clientCN(req);
        receiver.add({ transport: 'http', signal, headers: flatHeaders(req.headers), path: req.url ?? '', ...(cn === undefined ? {} : { clientCN: cn }) }, body, raw.length);
        // An empty Export…ServiceResponse.
        res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 }).end();
      } catch (err) {
        res.writeHead(400).end(String(err));
      }
    });
  };
}

function startHttp(receiver: OtlpReceiver, tls: OtlpReceiverTLS | undefined) {
  const handler = httpHandler(receiver);
  const server: AnyHttpServer = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key, ...(tls.clientCA ? { ca: tls.clientCA, requestCert: true, rejectUnauthorized: true } : {}) }, handler)
    : createHttpServer(handler);
  server.keepAliveTimeout = 1000;
  return listen(server);
}

function metadataHeaders(metadata: Metadata): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata.getMap()).map(([k, v]) => [k, String(v)]));
}

/** The Export method of one signal's collector service, bodies kept as bytes and decoded by the store. */
function grpcService(store: OtlpStore, signal: OtlpSignal) {
  const definition = {
    Export: {
      path: GRPC_PATHS[signal],
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
    store.add({ transport: 'grpc', signal, headers: metadataHeaders(call.metadata) }, call.request);
    done(null, Buffer.alloc(0));
  }
  return { definition, implementation: { Export: exportCall } };
}

function grpcCredentials(tls: OtlpReceiverTLS | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const ca = tls.clientCA ? Buffer.from(tls.clientCA) : null;
  return ServerCredentials.createSsl(ca, [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], ca !== null);
}

async function startGrpc(store: OtlpStore, tls: OtlpReceiverTLS | undefined): Promise<{ endpoint: string; server: GrpcServer }> {
  const server = new GrpcServer();
  for (const signal of SIGNALS) {
    const { definition, implementation } = grpcService(store, signal);
    server.addService(definition, implementation);
  }
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpcCredentials(tls), (err, bound) => (err ? reject(err) : resolve(bound))));
  return { endpoint: `127.0.0.1:${port}`, server };
}

/** Starts an OTLP collector on 127.0.0.1: HTTP always, gRPC too with `{ grpc: true }`; over TLS with `tls`. */
export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const receiver = Object.assign(new OtlpStore(options.discard), { url: '', status: 200 }) as OtlpReceiver;
  const web = await startHttp(receiver, options.tls);
  const grpc = options.grpc ? await startGrpc(receiver, options.tls) : undefined;
  return Object.assign(receiver, {
    url: web.url,
    ...(grpc ? { grpcEndpoint: grpc.endpoint } : {}),
    async close() {
      grpc?.server.forceShutdown();
      await web.close();
    },
  });
}

/** A collector that accepts connections and never answers: exports hang until the exporter's timeout. */
export async function silentCollector(): Promise<{ url: string; connections(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createTcpServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
