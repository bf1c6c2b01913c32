// TraceId and SpanId: the span a tracing plugin opened before the access log, as Traefik writes them (json only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { definePlugin, Type, type Next, type WharfContext } from '@wharf/core';
import { startServer, tempDir } from '@wharf/test-helpers';
import { gateway, readLines, request, route } from './harness.test.helper.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

/**
 * Stands for the tracing plugin: before the access log it makes a span context current; on /untraced it drops the
 * trace before the service answers, as the tracing plugin does for a router whose observability.tracing is false.
 */
const fakeTracing = definePlugin({
  name: 'fakeTracing',
  schema: Type.Object({}),
  setup(_config, host) {
    const current = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
    host.entrypoints.use(
      async (ctx: WharfContext, next: Next) => {
        ctx.wharf.traceContext = current;
        return next();
      },
      { order: -2000 },
    );
    // After the access log began (order -1000), before the service: where the tracing plugin's router step is.
    host.entrypoints.use((ctx: WharfContext, next: Next) => {
      if (ctx.path === '/untraced') ctx.wharf.traceContext = undefined;
      return next();
    });
  },
});

const cases = [
  { desc: 'json: the current span’s ids', format: 'json', path: '/traced', extra: [], expected: { TraceId: TRACE_ID, SpanId: SPAN_ID } },
  { desc: 'json: none for a request whose trace was dropped', format: 'json', path: '/untraced', extra: [], expected: {} },
  { desc: 'json: dropped by fields.names', format: 'json', path: '/traced', extra: ['--accessLog.fields.names.SpanId=drop'], expected: { TraceId: TRACE_ID } },
];

for (const c of cases) {
  test(c.desc, async () => {
    const backend = await startServer((_req, res) => res.end('ok'));
    const tmp = tempDir('wharf-accesslog-trace-');
    const file = join(tmp.path, 'access.log');
    const gw = await gateway({ args: [`--accessLog.format=${c.format}`, `--accessLog.filePath=${file}`, ...c.extra], dynamic: route('r', backend.url), plugins: [fakeTracing] });
    try {
      assert.equal((await request(`${gw.web}${c.path}`)).status, 200);
      await gw.stop();
      const line = JSON.parse(readLines(file)[0]!) as Record<string, unknown>;
      assert.deepEqual({ TraceId: line.TraceId, SpanId: line.SpanId }, { TraceId: undefined, SpanId: undefined, ...c.expected });
    } finally {
      await backend.close();
      tmp.remove();
    }
  });
}
