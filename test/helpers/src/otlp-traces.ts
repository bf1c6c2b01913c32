// An OTLP trace receiver for tests: decodes ExportTraceServiceRequest sent over HTTP (protobuf, gzip or not) and,
// on request, gRPC, so a test can assert what the gateway exported: spans, parent links, attributes, resource.
import { createServer, type Server, type Socket } from 'node:net';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { gunzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { listen, type Listening } from './backend.js';

// The messages of OTLP's trace export (opentelemetry-proto collector/trace/v1, trace/v1, common/v1, resource/v1)
// reduced to the fields the tests read; field numbers and types as the specification gives them.
const OTLP_TRACES_PROTO = `
syntax = "proto3";
package otlp;
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Resource { repeated KeyValue attributes = 1; }
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
message Status { string message = 2; int32 code = 3; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  repeated Event events = 11;
  Status status = 15;
  fixed32 flags = 16;
}
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ExportTraceServiceResponse {}
`;

const root = protobuf.parse(OTLP_TRACES_PROTO, { keepCase: true }).root;
const ExportRequest = root.lookupType('otlp.ExportTraceServiceRequest');
const ExportResponse = root.lookupType('otlp.ExportTraceServiceResponse');

/** OTLP span kinds as numbers (SPAN_KIND_*). */
export const SpanKinds = { internal: 1, server: 2, client: 3 } as const;
/** OTLP status codes (STATUS_CODE_*). */
export const StatusCodes = { unset: 0, ok: 1, error: 2 } as const;

export type AttributeValue = string | number | boolean | AttributeValue[] | null;

export interface ReceivedSpan {
  /** Lower-case hex, as in traceparent. */
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  attributes: Record<string, AttributeValue>;
  events: Array<{ name: string; attributes: Record<string, AttributeValue> }>;
  status: { code: number; message: string };
  /** The exporting resource's attributes (service.name, …). */
  resource: Record<string, AttributeValue>;
  scope: string;
}

export interface OtlpTraceReceiver {
  /** `http://127.0.0.1:<port>`: the OTLP/HTTP endpoint (spans are accepted on any path, recorded in `paths`). */
  url: string;
  /** `127.0.0.1:<port>` of the gRPC server, when started with grpc. */
  grpcEndpoint?: string;
  /** Every span received so far, in arrival order. */
  spans: ReceivedSpan[];
  /** Headers (HTTP) or metadata (gRPC) of each export request. */
  requests: IncomingHttpHeaders[];
  /** Request paths of HTTP exports. */
  paths: string[];
  /** Subject CN of the client certificate each HTTP export came with ('' without one), when started with tls.ca. */
  clientCertificates: string[];
  close(): Promise<void>;
}

interface Decoded {
  resource_spans?: Array<{
    resource?: { attributes?: KV[] };
    scope_spans?: Array<{ scope?: { name?: string }; spans?: RawSpan[] }>;
  }>;
}
interface KV {
  key: string;
  value?: Record<string, unknown>;
}
interface RawSpan {
  trace_id: Uint8Array;
  span_id: Uint8Array;
  parent_span_id?: Uint8Array;
  trace_state?: string;
  name: string;
  kind?: number;
  attributes?: KV[];
  events?: Array<{ name: string; attributes?: KV[] }>;
  status?: { code?: number; message?: string };
}

function hex(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? '' : Buffer.from(bytes).toString('hex');
}

function anyValue(value: Record<string, unknown> | undefined): AttributeValue {
  if (!value) return null;
  if ('string_value' in value) return value.string_value as string;
  if ('bool_value' in value) return value.bool_value as boolean;
  if ('int_value' in value) return Number(value.int_value);
  if ('double_value' in value) return value.double_value as number;
  if ('array_value' in value) return ((value.array_value as { values?: Array<Record<string, unknown>> }).values ?? []).map(anyValue);
  return null;
}

function attributes(list: KV[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
}

/** Decodes one ExportTraceServiceRequest into flat spans. */
export function decodeTraces(body: Uint8Array): ReceivedSpan[] {
  const message = ExportRequest.toObject(ExportRequest.decode(body), { longs: Number, defaults: false, oneofs: false }) as Decoded;
  const spans: ReceivedSpan[] = [];
  for (const rs of message.resource_spans ?? []) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scope_spans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: hex(s.trace_id),
          spanId: hex(s.span_id),
          parentSpanId: hex(s.parent_span_id),
          traceState: s.trace_state ?? '',
          name: s.name,
          kind: s.kind ?? 0,
          attributes: attributes(s.attributes),
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributes(e.attributes) })),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          resource,
          scope: ss.scope?.name ?? '',
        });
      }
    }
  }
  return spans;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export interface OtlpReceiverOptions {
  /** Also serve OTLP/gRPC. */
  grpc?: boolean;
  /**
   * Serve over TLS (HTTPS, and gRPC over TLS) with this certificate; with `ca`, clients must present a certificate
   * that CA signed (mutual TLS).
   */
  tls?: { cert: string; key: string; ca?: string };
}

/** Starts an OTLP trace receiver on 127.0.0.1: HTTP always, gRPC too with `{ grpc: true }`; over TLS with `tls`. */
export async function otlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpTraceReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: IncomingHttpHeaders[] = [];
  const paths: string[] = [];
  const clientCertificates: string[] = [];
  const tls = options.tls;
  const handler: http.RequestListener = (req, res) => {
    readBody(req)
      .then((raw) => {
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        requests.push(req.headers);
        paths.push(req.url ?? '');
        if (tls?.ca) clientCertificates.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? ''));
        spans.push(...decodeTraces(body));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(ExportResponse.encode({}).finish()));
      })
      .catch((err: Error) => res.writeHead(400).end(err.message));
  };
  const server = tls
    ? https.createServer({ cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}) }, handler)
    : http.createServer(handler);
  const web: Listening<http.Server | https.Server> = await listen(server);
  let grpcServer: grpc.Server | undefined;
  let grpcEndpoint: string | undefined;
  if (options.grpc) {
    grpcServer = new grpc.Server();
    grpcServer.addService(
      {
        Export: {
          path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
          requestStream: false,
          responseStream: false,
          requestDeserialize: (bytes: Buffer) => bytes,
          requestSerialize: (bytes: Buffer) => bytes,
          responseSerialize: () => Buffer.from(ExportResponse.encode({}).finish()),
          responseDeserialize: (bytes: Buffer) => bytes,
        },
      },
      {
        Export: (call: grpc.ServerUnaryCall<Buffer, unknown>, callback: grpc.sendUnaryData<unknown>) => {
          requests.push(call.metadata.getMap() as IncomingHttpHeaders);
          spans.push(...decodeTraces(call.request));
          callback(null, {});
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      grpcServer!.bindAsync('127.0.0.1:0', grpcServerCredentials(tls), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    grpcEndpoint = `127.0.0.1:${port}`;
  }
  return {
    url: web.url,
    grpcEndpoint,
    spans,
    requests,
    paths,
    clientCertificates,
    async close() {
      grpcServer?.forceShutdown();
      await web.close();
    },
  };
}

function grpcServerCredentials(tls: OtlpReceiverOptions['tls']): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const ca = tls.ca ? Buffer.from(tls.ca) : null;
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], ca !== null);
}

/** A collector that accepts connections and never answers: exports hang until the exporter's timeout. */
export async function silentCollector(): Promise<{ url: string; connections(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
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
