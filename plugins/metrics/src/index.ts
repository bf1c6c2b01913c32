// metrics: Prometheus metrics (prom-client) for entrypoints, routers, services, servers, reloads and rejections,
// under Wharf's names (wharf.ts) or Traefik's (traefik.ts, for its Grafana dashboards).
import cluster from 'node:cluster';
import type { ServerResponse } from 'node:http';
import { AggregatorRegistry, Registry, collectDefaultMetrics, type PrometheusContentType } from 'prom-client';
import { defineReducer, definePlugin, onResponseHeaders, Type, type Middleware, type PluginHost, type WharfContext, type Next } from '@wharf/core';
import { countRequestBytes, countResponseBytes } from './bytes.js';
import { traefikProtocolLabel } from './labels.js';
import { OtlpMetricPipeline } from '@wharf/otlp';
import { compileOptions, entryPointDefaults, entryPointFields, otlpRecorderOptions, staticSchema, type EntryPointDefaults, type MetricsOptions, type OtlpMetricsConfig, type StaticConfig } from './options.js';
import { createOtelTraefikMetrics } from './otel.js';
import { semconvRecorder } from './semconv.js';
import { createTraefikMetrics, followGatewayTraefik, traefikRecorder, type RequestStart, type TraefikMetrics } from './traefik.js';
import { PruningRegistry } from './stale.js';
import { createWharfMetrics, followGatewayWharf, wharfRecorder } from './wharf.js';

// Under --workers a scrape reaches one worker, which asks the primary (ctx.shared) to gather every worker's
// registry with prom-client's cluster messages and merge them by each metric's `aggregator`.
const AGGREGATE_REDUCER = 'metrics:aggregate';
// Below the worker's 5 s shared-call timeout, so a scrape that fails says which step did not answer.
const AGGREGATE_TIMEOUT_MS = 3_000;

let aggregator: AggregatorRegistry<PrometheusContentType> | undefined;

/** In the primary: the whole gateway's metrics text, merged from every worker. */
async function aggregateWorkers(): Promise<string> {
  aggregator ??= new AggregatorRegistry();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`not every worker sent its metrics within ${AGGREGATE_TIMEOUT_MS} ms (a worker starting or stuck); scrape again`)), AGGREGATE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([aggregator.clusterMetrics(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
defineReducer(AGGREGATE_REDUCER, aggregateWorkers);

// A worker answers the primary's requests from module load on (before it even asks for a configuration),
// with nothing until setup hands it the registry: a worker starting up never stalls a scrape.
if (cluster.isWorker) {
  AggregatorRegistry.setRegistries([]);
  new AggregatorRegistry();
}

/** wharf_* names: a recorder that follows the gateway. */
function wharfRecording(host: PluginHost, registry: Registry, options: MetricsOptions, entryPoints: EntryPointDefaults): WharfRecord {
  const metrics = createWharfMetrics(registry, options);
  const recorder = wharfRecorder(metrics, options, entryPoints);
  followGatewayWharf(host, metrics, recorder.forget);
  return recorder.record;
}

/** wharf_* names alone: records each request when its response closes. */
function wharfMeasurer(record: WharfRecord): Middleware {
  return async function measure(ctx: WharfContext, next: Next) {
    const started = ctx.wharf.startTime;
    // 'close' covers streamed, aborted and upgraded responses as well as finished ones.
    (ctx.res as ServerResponse).once('close', () => record(ctx, started));
    await next();
  };
}

/** One traefik_* recorder (Prometheus or OTLP) and the registry whose stale series it prunes, if any. */
type TraefikRecord = (ctx: WharfContext, start: RequestStart) => void;
type WharfRecord = (ctx: WharfContext, started: bigint) => void;

/** Builds a traefik_* recorder over `metrics` and has it follow the gateway (reloads, health, connections). */
function traefikRecording(host: PluginHost, metrics: TraefikMetrics, options: MetricsOptions, entryPoints: EntryPointDefaults, registry?: PruningRegistry) {
  const recorder = traefikRecorder(metrics, options, entryPoints);
  registry?.stale.update(host.configuration.runtime());
  followGatewayTraefik(host, metrics, (info) => {
    recorder.forget();
    registry?.stale.update(info);
  });
  return recorder;
}

/**
 * traefik_* names (Prometheus, OTLP or both, and Prometheus's wharf_* names beside OTLP): counts body bytes and
 * feeds every recorder from the one 'close' of the response.
 */
function traefikMeasurer(records: readonly TraefikRecord[], wharfRecord: WharfRecord | undefined): Middleware {
  const [only] = records;
  const recordAll: TraefikRecord =
    records.length === 1 && wharfRecord === undefined
      ? only!
      : (ctx, start) => {
          for (const record of records) record(ctx, start);
          wharfRecord?.(ctx, start.started);
        };
  return async function measureTraefik(ctx: WharfContext, next: Next) {
    const res: ServerResponse = ctx.res;
    // Protocol as the request arrived, before any middleware changes its headers (Traefik's order).
    const start: RequestStart = { started: ctx.wharf.startTime, protocol: traefikProtocolLabel(ctx.req) };
    countRequestBytes(ctx.req);
    countResponseBytes(res);
    if (start.protocol === 'grpc' || start.protocol === 'grpc-web') watchGrpcStatus(ctx, res, start);
    res.once('close', () => recordAll(ctx, start));
    await next();
  };
}

/**
 * gRPC answers carry grpc-status in their headers (trailers-only answers) or trailers: keep it for the `code` label
 * (gRPC requests only). The proxy hands the upstream's headers to writeHead, where getHeader cannot see them.
 */
function watchGrpcStatus(ctx: WharfContext, res: ServerResponse, start: RequestStart): void {
  onResponseHeaders(ctx, function grpcHeaders(_status, headers) {
    const status = headers['grpc-status'];
    if (typeof status === 'string' || typeof status === 'number') start.grpcHeaderStatus = String(status);
  });
  const addTrailers = res.addTrailers.bind(res);
  res.addTrailers = function grpcTrailers(trailers) {
    const status = (trailers as Record<string, unknown>)['grpc-status'];
    if (typeof status === 'string' || typeof status === 'number') start.grpcTrailerStatus = String(status);
    addTrailers(trailers);
  };
}

/**
 * metrics.otlp: Traefik's instruments and the semantic-convention histograms on an OTLP meter, pushed every
 * pushInterval until the gateway stops.
 */
function otlpRecording(host: PluginHost, otlp: OtlpMetricsConfig, config: StaticConfig, entryPoints: EntryPointDefaults): TraefikRecord {
  const pipeline = new OtlpMetricPipeline(otlp, { field: 'metrics.otlp', log: host.log, pushIntervalMs: otlp.pushInterval });
  host.lifecycle.onStop(() => pipeline.shutdown());
  const options = otlpRecorderOptions(otlp, config.prometheus, config.addInternals);
  const recorder = traefikRecording(host, createOtelTraefikMetrics(pipeline.meter, options), options, entryPoints);
  const semconv = semconvRecorder(pipeline.meter, { boundaries: otlp.explicitBoundaries, counted: recorder.counted });
  return function recordOtlp(ctx, start) {
    recorder.record(ctx, start);
    semconv(ctx, start);
  };
}

/** One process: its own registry. */
function serveLocal(registry: Registry) {
  return async function metricsText(ctx: WharfContext): Promise<void> {
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  };
}

/** A cluster worker: the primary's merge of every worker; 503 (never a partial count) when it fails. */
function serveAggregated(host: PluginHost, registry: Registry) {
  return async function aggregatedMetricsText(ctx: WharfContext): Promise<void> {
    try {
      const text = await host.shared.call<string>(AGGREGATE_REDUCER, '', null);
      ctx.type = registry.contentType;
      ctx.body = text;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      host.log.warn({ err }, `metrics: cannot gather the workers' metrics: ${reason}`);
      ctx.status = 503;
      ctx.body = `cannot gather the workers' metrics: ${reason}\n`;
    }
  };
}

export default definePlugin({
  name: 'metrics',
  description: "Prometheus metrics at /metrics (or the prometheus@internal service), and Traefik's metrics pushed over OTLP.",
  schema: Type.Object({}, { additionalProperties: false }),
  config: { static: { schema: staticSchema }, entryPoint: entryPointFields },
  setup(config, host) {
    if (!config?.prometheus && !config?.otlp) return;
    const entryPoints = entryPointDefaults(host.staticConfig.entryPoints);
    const records: TraefikRecord[] = [];
    let wharfRecord: WharfRecord | undefined;
    if (config.otlp) records.push(otlpRecording(host, config.otlp, config, entryPoints));
    if (!config.prometheus) {
      host.entrypoints.use(traefikMeasurer(records, undefined), { order: -90 });
      return;
    }
    const prometheus = compileOptions(config.prometheus, config.addInternals);
    let registry: Registry;
    if (prometheus.names === 'traefik') {
      // Traefik drops the series of removed routers and services after their last scrape; Wharf's names keep them.
      const pruning = new PruningRegistry();
      records.unshift(traefikRecording(host, createTraefikMetrics(pruning, prometheus), prometheus, entryPoints, pruning).record);
      registry = pruning;
    } else {
      registry = new Registry();
      wharfRecord = wharfRecording(host, registry, prometheus, entryPoints);
    }
    // Traefik exports the Go client's process_* collector unprefixed; prom-client's has the same names.
    collectDefaultMetrics({ register: registry, prefix: prometheus.names === 'wharf' ? 'wharf_process_' : '' });
    const measure = records.length === 0 ? wharfMeasurer(wharfRecord!) : traefikMeasurer(records, wharfRecord);
    host.entrypoints.use(measure, { order: -90 });
    if (cluster.isWorker) AggregatorRegistry.setRegistries([registry]);

    const serve = cluster.isWorker ? serveAggregated(host, registry) : serveLocal(registry);
    host.services.provide('prometheus', async function prometheusService(ctx: WharfContext) {
      await serve(ctx);
    });
    if (prometheus.manualRouting) return;
    if (!Object.keys(host.staticConfig.entryPoints as object).includes(prometheus.entryPoint)) {
      throw new Error(`metrics.prometheus.entryPoint: entrypoint '${prometheus.entryPoint}' does not exist; define it with --entrypoints.${prometheus.entryPoint}.address=:8080`);
    }
    host.entrypoints.use(
      async function metricsEndpoint(ctx: WharfContext, next: Next) {
        if (ctx.path === '/metrics' && ctx.method === 'GET') return serve(ctx);
        await next();
      },
      { entrypoints: [prometheus.entryPoint], order: 90 },
    );
  },
});
