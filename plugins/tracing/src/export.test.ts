// Export: sampling ratio, OTLP/gRPC, the access log's ids, and a collector that refuses or never answers — clients
// see no error, the queue stays bounded and the drops are counted in the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pino } from 'pino';
import accessLog from '@wharf/plugin-accesslog';
import { closedPort, eventually, request, silentCollector, tempDir } from '@wharf/test-helpers';
import { named, parseTraceparent, traced, traceSpans } from './harness.test.helper.js';

const MARKER_TRACE = 'f'.repeat(32);
const MARKER = `00-${MARKER_TRACE}-${'e'.repeat(16)}-01`;

/** The gateway's log records, kept in memory. */
function memoryLog() {
  const messages: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void messages.push((JSON.parse(line) as { msg: string }).msg) });
  return { log, messages };
}

test('sampleRate 0.25: about a quarter of 400 new traces are recorded, and exactly those reach the upstream sampled', async () => {
  const t = await traced({ args: ['--tracing.sampleRate=0.25'] });
  try {
    for (let i = 0; i < 400; i++) assert.equal((await request(t.port, { path: `/r${i}` })).status, 200);
    // Spans leave in the order they ended: the marker's (sampled by its parent) come after all the others.
    assert.equal((await request(t.port, { path: '/marker', headers: { traceparent: MARKER } })).status, 200);
    await traceSpans(t.receiver, MARKER_TRACE, 2);
    const servers = t.receiver.spans.filter((s) => s.name === 'GET' && s.traceId !== MARKER_TRACE);
    // Binomial(400, 0.25): mean 100, standard deviation 8.7; 60..140 is beyond 4.5 deviations either way.
    assert.ok(servers.length >= 60 && servers.length <= 140, `${servers.length} of 400 sampled`);
    const sampledUpstream = t.upstream.slice(0, 400).map((h) => parseTraceparent(h.traceparent)).filter((p) => p.flags === '01').map((p) => p.traceId);
    assert.deepEqual(new Set(sampledUpstream), new Set(servers.map((s) => s.traceId)));
    assert.equal(t.receiver.spans.filter((s) => s.name === 'ReverseProxy' && s.traceId !== MARKER_TRACE).length, servers.length);
  } finally {
    await t.close();
  }
});

test('OTLP/gRPC: the same spans, with the configured metadata', async () => {
  const t = await traced({
    grpc: true,
    endpointArgs: (r) => [`--tracing.otlp.grpc.endpoint=${r.grpcEndpoint!}`, '--tracing.otlp.grpc.insecure=true', '--tracing.otlp.grpc.headers.x-api-key=k1'],
  });
  try {
    assert.equal((await request(t.port, { path: '/g', headers: { traceparent: MARKER } })).status, 200);
    const spans = await traceSpans(t.receiver, MARKER_TRACE, 2);
    assert.equal(named(spans, 'ReverseProxy').parentSpanId, named(spans, 'GET').spanId);
    assert.equal(t.receiver.paths.length, 0, 'nothing came over HTTP');
    assert.equal(t.receiver.requests[0]!['x-api-key'], 'k1');
  } finally {
    await t.close();
  }
});

test('the access log’s TraceId and SpanId are the entrypoint span’s', async () => {
  const tmp = tempDir('wharf-tracing-accesslog-');
  const file = join(tmp.path, 'access.log');
  const t = await traced({ plugins: [accessLog], args: ['--accessLog.format=json', `--accessLog.filePath=${file}`] });
  try {
    assert.equal((await request(t.port, { path: '/logged', headers: { traceparent: MARKER } })).status, 200);
    const entry = named(await traceSpans(t.receiver, MARKER_TRACE, 2), 'GET');
    await t.close();
    const { readFileSync } = await import('node:fs');
    const line = JSON.parse(readFileSync(file, 'utf8').trim()) as Record<string, unknown>;
    assert.deepEqual({ TraceId: line.TraceId, SpanId: line.SpanId }, { TraceId: MARKER_TRACE, SpanId: entry.spanId });
  } finally {
    tmp.remove();
  }
});

test('a collector that refuses connections costs clients nothing; the failure is logged', async () => {
  const { log, messages } = memoryLog();
  const port = await closedPort();
  const t = await traced({ log, endpointArgs: () => [`--tracing.otlp.http.endpoint=http://127.0.0.1:${port}`] });
  try {
    for (let i = 0; i < 50; i++) assert.equal((await request(t.port, { path: `/down${i}` })).status, 200);
    assert.equal(t.upstream.length, 50);
    await eventually(() => messages.find((m) => m.startsWith(`tracing: cannot export`) && m.includes(`http://127.0.0.1:${port}/v1/traces`)), 'the failed export logged');
  } finally {
    await t.close();
  }
});

test('a collector that never answers: requests go on, the queue stays at its bound and the drops are counted', async () => {
  const { log, messages } = memoryLog();
  const collector = await silentCollector();
  process.env.OTEL_BSP_MAX_QUEUE_SIZE = '20';
  process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE = '10';
  const t = await traced({ log, endpointArgs: () => [`--tracing.otlp.http.endpoint=${collector.url}`] }).finally(() => {
    delete process.env.OTEL_BSP_MAX_QUEUE_SIZE;
    delete process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE;
  });
  try {
    for (let i = 0; i < 100; i++) assert.equal((await request(t.port, { path: `/hang${i}` })).status, 200);
    await eventually(() => collector.connections() > 0, 'an export under way');
  } finally {
    await t.close();
    await collector.close();
  }
  // 200 spans ended; one batch (at most 10) is stuck in the export, 20 wait in the queue: the rest was dropped.
  const counts = messages.map((m) => /^tracing: dropped \d+ spans \((\d+) since start\)/.exec(m)).filter((m) => m !== null);
  assert.ok(counts.length > 0, `drops reported in: ${messages.join(' | ')}`);
  const total = Number(counts.at(-1)![1]);
  assert.ok(total >= 200 - 10 - 20 && total <= 200 - 20 - 1, `${total} dropped`);
});
