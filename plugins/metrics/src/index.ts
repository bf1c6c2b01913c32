// metrics: Prometheus metrics (prom-client) for entrypoints, routers, services, servers, reloads and rejections.
import cluster from 'node:cluster';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type PrometheusContentType } from 'prom-client';
import { defineReducer, definePlugin, Section, Type, type Static, type PluginHost, type WharfContext, type Next } from '@wharf/core';

const PrometheusSchema = Type.Object(
  {
    entryPoint: Type.String({ default: 'traefik', description: 'Entrypoint that serves /metrics (default traefik).' }),
    buckets: Type.Array(Type.Number({ exclusiveMinimum: 0 }), { default: [0.1, 0.3, 1.2, 5], minItems: 1, description: 'Histogram buckets in seconds (default 0.1,0.3,1.2,5).' }),
    addEntryPointsLabels: Type.Boolean({ default: true, description: 'Record per-entrypoint metrics (default true).' }),
    addRoutersLabels: Type.Boolean({ default: false, description: 'Record per-router metrics (default false).' }),
    addServicesLabels: Type.Boolean({ default: true, description: 'Record per-service metrics (default true).' }),
    manualRouting: Type.Boolean({ default: false, description: 'Only offer the prometheus@internal service for your own router (default false).' }),
  },
  { additionalProperties: false },
);

const staticSchema = Type.Object({ prometheus: Type.Optional(Section(PrometheusSchema)) }, { additionalProperties: false });
type PrometheusConfig = Static<typeof PrometheusSchema>;

// Label values come only from configuration names and a fixed method set, so cardinality stays bounded.
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

function methodLabel(method: string | undefined): string {
  return method && METHODS.has(method) ? method : 'EXTENSION_METHOD';
}

function protocolLabel(req: IncomingMessage): string {
  if (req.headers.upgrade?.toLowerCase() === 'websocket') return 'websocket';
  if (req.headers.accept === 'text/event-stream') return 'sse';
  return 'http';
}

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

/** Every metric Wharf exports, registered in one registry; `aggregator` says how workers merge (default sum). */
function createMetrics(config: PrometheusConfig) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'wharf_process_' });
  const buckets = config.buckets;
  const m = {
    registry,
    epRequests: new Counter({ name: 'wharf_entrypoint_requests_total', help: 'Requests per entrypoint.', labelNames: ['code', 'method', 'protocol', 'entrypoint'], registers: [registry] }),
    epDuration: new Histogram({ name: 'wharf_entrypoint_request_duration_seconds', help: 'Request durations per entrypoint.', labelNames: ['code', 'method', 'protocol', 'entrypoint'], buckets, registers: [registry] }),
    routerRequests: new Counter({ name: 'wharf_router_requests_total', help: 'Requests per router.', labelNames: ['code', 'method', 'protocol', 'router', 'service'], registers: [registry] }),
    routerDuration: new Histogram({ name: 'wharf_router_request_duration_seconds', help: 'Request durations per router.', labelNames: ['code', 'method', 'protocol', 'router', 'service'], buckets, registers: [registry] }),
    serviceRequests: new Counter({ name: 'wharf_service_requests_total', help: 'Requests per service.', labelNames: ['code', 'method', 'protocol', 'service'], registers: [registry] }),
    serviceDuration: new Histogram({ name: 'wharf_service_request_duration_seconds', help: 'Request durations per service.', labelNames: ['code', 'method', 'protocol', 'service'], buckets, registers: [registry] }),
    // Every worker checks health itself: down as soon as one of them sees the server down.
    serverUp: new Gauge({ name: 'wharf_service_server_up', help: 'Server health: 1 up, 0 down.', labelNames: ['service', 'url'], aggregator: 'min', registers: [registry] }),
    openConnections: new Gauge({ name: 'wharf_open_connections', help: 'Open client connections per entrypoint.', labelNames: ['entrypoint'], registers: [registry] }),
    // Every worker applies every generation: the gateway applied as many as the busiest worker, not their sum.
    reloads: new Counter({ name: 'wharf_config_reloads_total', help: 'Configuration generations applied.', aggregator: 'max', registers: [registry] }),
    lastReload: new Gauge({ name: 'wharf_config_last_reload_success', help: 'Unix time of the last applied configuration.', aggregator: 'max', registers: [registry] }),
    certsNotAfter: new Gauge({ name: 'wharf_tls_certs_not_after', help: 'Expiry (Unix time) of each served TLS certificate.', labelNames: ['cn', 'sans'], aggregator: 'min', registers: [registry] }),
    rejections: new Counter({ name: 'wharf_middleware_rejections_total', help: 'Requests a middleware answered itself (rate limited, unauthorized, …).', labelNames: ['middleware', 'code'], registers: [registry] }),
  };
  return m;
}
type Metrics = ReturnType<typeof createMetrics>;

/** Records one finished request into every enabled family. */
function recorder(metrics: Metrics, config: PrometheusConfig) {
  return function record(ctx: WharfContext, started: bigint): void {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const code = String(ctx.res.statusCode);
    const method = methodLabel(ctx.req.method);
    const protocol = protocolLabel(ctx.req);
    const { entrypoint, router, service, observability, rejectedBy } = ctx.wharf;
    if (config.addEntryPointsLabels) {
      metrics.epRequests.inc({ code, method, protocol, entrypoint });
      metrics.epDuration.observe({ code, method, protocol, entrypoint }, seconds);
    }
    if (rejectedBy) metrics.rejections.inc({ middleware: rejectedBy, code });
    if (observability?.metrics === false) return;
    if (router && config.addRoutersLabels) {
      metrics.routerRequests.inc({ code, method, protocol, router, service: service ?? '' });
      metrics.routerDuration.observe({ code, method, protocol, router, service: service ?? '' }, seconds);
    }
    if (service && config.addServicesLabels) {
      metrics.serviceRequests.inc({ code, method, protocol, service });
      metrics.serviceDuration.observe({ code, method, protocol, service }, seconds);
    }
  };
}

/** Follows gateway events: reloads, server health and open connections. */
function followGateway(host: PluginHost, metrics: Metrics): void {
  host.events.on('reload', (info) => {
    metrics.reloads.inc();
    metrics.lastReload.set(Date.now() / 1000);
    metrics.serverUp.reset();
    for (const service of Object.values(info.services)) {
      for (const [url, status] of Object.entries(service.serverStatus ?? {})) metrics.serverUp.set({ service: service.name, url }, status === 'UP' ? 1 : 0);
    }
  });
  host.events.on('health', (e) => metrics.serverUp.set({ service: e.service, url: e.url }, e.up ? 1 : 0));
  host.events.on('certificates', (certificates) => {
    metrics.certsNotAfter.reset();
    for (const cert of certificates) metrics.certsNotAfter.set({ cn: cert.names[0] ?? '', sans: cert.names.join(',') }, cert.notAfter);
  });
  host.events.on('listening', ({ entrypoint, server }) => {
    metrics.openConnections.set({ entrypoint }, 0);
    server.on('connection', (socket) => {
      metrics.openConnections.inc({ entrypoint });
      socket.once('close', () => metrics.openConnections.dec({ entrypoint }));
    });
  });
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
  description: 'Prometheus metrics at /metrics (or the prometheus@internal service).',
  schema: Type.Object({}, { additionalProperties: false }),
  config: { static: { schema: staticSchema } },
  setup(config, host) {
    const prometheus = config?.prometheus;
    if (!prometheus) return;
    const metrics = createMetrics(prometheus);
    const record = recorder(metrics, prometheus);
    followGateway(host, metrics);
    if (cluster.isWorker) AggregatorRegistry.setRegistries([metrics.registry]);

    host.entrypoints.use(
      async function measure(ctx: WharfContext, next: Next) {
        const started = ctx.wharf.startTime;
        const res: ServerResponse = ctx.res;
        // 'close' covers streamed, aborted and upgraded responses as well as finished ones.
        res.once('close', () => record(ctx, started));
        await next();
      },
      { order: -90 },
    );

    const serve = cluster.isWorker ? serveAggregated(host, metrics.registry) : serveLocal(metrics.registry);
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
