// A gateway with the tracing plugin exporting to a test OTLP receiver, in front of an instrumented backend that
// records the trace context each request brought.
import type { IncomingHttpHeaders } from 'node:http';
import { startGateway, type EmbeddedGateway, type Logger, type Plugin } from '@wharf/core';
import { eventually, startOtlpReceiver, startServer, type Listening, type OtlpReceiver, type OtlpReceiverOptions, type ReceivedSpan } from '@wharf/test-helpers';
import tracing from './index.js';

// Export what ends within 50 ms, so tests wait for spans briefly (the default is 5 s).
process.env.OTEL_BSP_SCHEDULE_DELAY = '50';

export interface Traced {
  gateway: EmbeddedGateway;
  receiver: OtlpReceiver;
  backend: Listening;
  /** Headers each request reached the backend with, in arrival order. */
  upstream: IncomingHttpHeaders[];
  /** Port of entrypoint web. */
  port: number;
  close(): Promise<void>;
}

export interface TracedOptions {
  args?: string[];
  dynamic?: unknown;
  plugins?: Plugin[];
  log?: Logger;
  grpc?: boolean;
  /** The receiver over TLS (see startOtlpReceiver). */
  tls?: OtlpReceiverOptions['tls'];
  /** Where the gateway exports; the receiver's URL by default. */
  endpointArgs?: (receiver: OtlpReceiver) => string[];
}

/** One load-balanced service `b` over the backend, and the given routers (default: `r` for every path). */
export function routes(routers: Record<string, unknown> = { r: { rule: 'PathPrefix(`/`)', service: 'b' } }, middlewares: Record<string, unknown> = {}) {
  return { http: { routers, middlewares, services: { b: { loadBalancer: { servers: [{ url: 'BACKEND' }] } } } } };
}

export async function traced(options: TracedOptions = {}): Promise<Traced> {
  const receiver = await startOtlpReceiver({ grpc: options.grpc, tls: options.tls });
  const upstream: IncomingHttpHeaders[] = [];
  const backend = await startServer((req, res) => {
    upstream.push(req.headers);
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': 'b1' }).end('ok');
  });
  const endpoint = options.endpointArgs ? options.endpointArgs(receiver) : [`--tracing.otlp.http.endpoint=${receiver.url}`];
  const dynamic = JSON.parse(JSON.stringify(options.dynamic ?? routes()).replaceAll('BACKEND', backend.url)) as unknown;
  const gateway = await startGateway({
    plugins: [tracing, ...(options.plugins ?? [])],
    args: ['--entrypoints.web.address=127.0.0.1:0', ...endpoint, ...(options.args ?? [])],
    dynamic,
    ...(options.log ? { log: options.log } : {}),
  });
  return {
    gateway,
    receiver,
    backend,
    upstream,
    port: gateway.address('web').port,
    async close() {
      await gateway.stop();
      await Promise.all([receiver.close(), backend.close()]);
    },
  };
}

/** The spans of one trace once `count` of them arrived. */
export function traceSpans(receiver: OtlpReceiver, traceId: string, count: number): Promise<ReceivedSpan[]> {
  return eventually(() => {
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    return spans.length >= count && spans;
  }, `${count} spans of trace ${traceId}`);
}

/** The one span with this name; fails listing the names there are. */
export function named(spans: readonly ReceivedSpan[], name: string): ReceivedSpan {
  const found = spans.filter((s) => s.name === name);
  if (found.length !== 1) throw new Error(`expected one span '${name}', got ${found.length} among ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
}

/** The trace id and parent span id of a traceparent header. */
export function parseTraceparent(value: unknown): { traceId: string; spanId: string; flags: string } {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(String(value));
  if (!m) throw new Error(`not a traceparent: ${String(value)}`);
  return { traceId: m[1]!, spanId: m[2]!, flags: m[3]! };
}
