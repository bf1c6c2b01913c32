// tracing: OpenTelemetry traces as Traefik writes them (entrypoint, router, middleware, service and upstream spans),
// W3C trace context and baggage carried from the client to the upstream, exported over OTLP in batches.
import { readFileSync } from 'node:fs';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { definePlugin, Type, messageOf, type PluginHost } from '@wharf/core';
import { compileCapture } from './attributes.js';
import { createTraceExport } from './export.js';
import { entryPointFields, tracingSchema, validateTracing, type TracingConfig, type Verbosity } from './options.js';
import { entryPointTracing, routerInstrumentation, type Tracing } from './spans.js';

export { tracingSchema, entryPointFields } from './options.js';
export { httpTracesURL } from './export.js';
export { safeQuery, statusFor } from './attributes.js';

/** Before the access log (-1000), so its line carries the entrypoint span's TraceId and SpanId, as Traefik's does. */
export const TRACING_ORDER = -2000;

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function entryPointSettings(host: PluginHost): Map<string, { tracing: boolean; verbosity: Verbosity }> {
  const entryPoints = host.staticConfig.entryPoints as Record<string, { observability?: { tracing?: boolean; traceVerbosity?: Verbosity } }>;
  return new Map(
    Object.entries(entryPoints).map(([name, ep]) => [name, { tracing: ep.observability?.tracing !== false, verbosity: ep.observability?.traceVerbosity ?? 'minimal' }]),
  );
}

export default definePlugin({
  name: 'tracing',
  description: "OpenTelemetry tracing with Traefik's spans and options, exported over OTLP (HTTP or gRPC).",
  schema: Type.Object({}, { additionalProperties: false }),
  config: { static: { key: 'tracing', schema: tracingSchema }, entryPoint: entryPointFields },
  setup(config, host) {
    const settings = config as TracingConfig;
    validateTracing(settings);
    const exported = createTraceExport(settings, VERSION, host.log);
    const entryPoints = entryPointSettings(host);
    const tracing: Tracing = {
      tracer: exported.provider.getTracer('wharf', VERSION),
      propagator: new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
      capture: compileCapture(settings.capturedRequestHeaders, settings.capturedResponseHeaders, settings.safeQueryParams),
      addInternals: settings.addInternals,
      entryPoints,
    };
    const traced = [...entryPoints].filter(([, ep]) => ep.tracing).map(([name]) => name);
    host.entrypoints.use(entryPointTracing(tracing), { entrypoints: traced, order: TRACING_ORDER });
    host.routers.instrument(routerInstrumentation(tracing));
    host.log.info(`tracing: sampling ${settings.sampleRate * 100}% of new traces, exporting to ${exported.target}`);
    host.lifecycle.onStop(async function stopTracing() {
      try {
        await exported.shutdown();
      } catch (err) {
        host.log.warn(`tracing: spans still queued at shutdown were not exported: ${messageOf(err)}`);
      }
    });
  },
});
