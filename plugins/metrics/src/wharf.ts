// --metrics.prometheus.names=wharf (the default): the wharf_* series.
import type { ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PluginHost, WharfContext } from '@wharf/core';
import { headerValue, methodLabel, protocolLabel } from './labels.js';
import type { EntryPointDefaults, MetricsOptions } from './options.js';

/** Every wharf_* metric, registered in one registry; `aggregator` says how workers merge (default sum). */
export function createWharfMetrics(registry: Registry, options: MetricsOptions) {
  const buckets = options.buckets;
  const headers = options.headerLabelList.map((h) => h.label);
  return {
    epRequests: new Counter({ name: 'wharf_entrypoint_requests_total', help: 'Requests per entrypoint.', labelNames: ['code', 'method', 'protocol', 'entrypoint', ...headers], registers: [registry] }),
    epDuration: new Histogram({ name: 'wharf_entrypoint_request_duration_seconds', help: 'Request durations per entrypoint.', labelNames: ['code', 'method', 'protocol', 'entrypoint'], buckets, registers: [registry] }),
    routerRequests: new Counter({ name: 'wharf_router_requests_total', help: 'Requests per router.', labelNames: ['code', 'method', 'protocol', 'router', 'service', ...headers], registers: [registry] }),
    routerDuration: new Histogram({ name: 'wharf_router_request_duration_seconds', help: 'Request durations per router.', labelNames: ['code', 'method', 'protocol', 'router', 'service'], buckets, registers: [registry] }),
    serviceRequests: new Counter({ name: 'wharf_service_requests_total', help: 'Requests per service.', labelNames: ['code', 'method', 'protocol', 'service', ...headers], registers: [registry] }),
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
}
type WharfMetrics = ReturnType<typeof createWharfMetrics>;

/**
 * Records one finished request into every enabled family. An entrypoint's observability.metrics=false leaves out its
 * entrypoint series; a router's (or, unset, its entrypoint's) leaves out its router and service series.
 */
export function wharfRecorder(metrics: WharfMetrics, options: MetricsOptions, entryPoints: EntryPointDefaults) {
  const headerLabels = options.headerLabelList;
  /** requests_total's labels: the header labels added when there are some. */
  function withHeaders(ctx: WharfContext, labels: Record<string, string>): Record<string, string> {
    for (const { label, header } of headerLabels) labels[label] = headerValue(ctx.req, header);
    return labels;
  }
  return function record(ctx: WharfContext, started: bigint): void {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const res: ServerResponse = ctx.res;
    const code = String(res.statusCode);
    const method = methodLabel(ctx.req.method);
    const protocol = protocolLabel(ctx.req);
    const { entrypoint, router, service, observability, rejectedBy } = ctx.wharf;
    const entrypointOn = entryPoints.get(entrypoint) ?? true;
    if (options.addEntryPointsLabels && entrypointOn) {
      metrics.epRequests.inc(withHeaders(ctx, { code, method, protocol, entrypoint }));
      metrics.epDuration.observe({ code, method, protocol, entrypoint }, seconds);
    }
    if (rejectedBy) metrics.rejections.inc({ middleware: rejectedBy, code });
    if (!(observability?.metrics ?? entrypointOn)) return;
    if (router && options.addRoutersLabels) {
      metrics.routerRequests.inc(withHeaders(ctx, { code, method, protocol, router, service: service ?? '' }));
      metrics.routerDuration.observe({ code, method, protocol, router, service: service ?? '' }, seconds);
    }
    if (service && options.addServicesLabels) {
      metrics.serviceRequests.inc(withHeaders(ctx, { code, method, protocol, service }));
      metrics.serviceDuration.observe({ code, method, protocol, service }, seconds);
    }
  };
}

/** Follows gateway events: reloads, server health and open connections. */
export function followGatewayWharf(host: PluginHost, metrics: WharfMetrics): void {
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
