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
type Labels = Record<string, string>;

interface LabelSets {
  readonly entrypoint: Labels;
  readonly router: Labels | undefined;
  readonly service: Labels | undefined;
}

/**
 * Records one finished request into every enabled family. An entrypoint's observability.metrics=false leaves out its
 * entrypoint series; a router's (or, unset, its entrypoint's) leaves out its router and service series.
 */
export function wharfRecorder(metrics: WharfMetrics, options: MetricsOptions, entryPoints: EntryPointDefaults) {
  const headerLabels = options.headerLabelList;
  // Label objects per kind of request, built once (prom-client keeps the objects it is given; none is changed).
  const sets = new Map<string, LabelSets>();

  function buildSets(key: string, code: string, method: string, protocol: string, entrypoint: string, router: string | undefined, service: string | undefined): LabelSets {
    const set: LabelSets = {
      entrypoint: { code, method, protocol, entrypoint },
      router: router === undefined ? undefined : { code, method, protocol, router, service: service ?? '' },
      service: service === undefined ? undefined : { code, method, protocol, service },
    };
    sets.set(key, set);
    return set;
  }

  /** requests_total's labels: the shared set, or a copy with the header labels when there are some. */
  function requestLabels(ctx: WharfContext, labels: Labels): Labels {
    if (headerLabels.length === 0) return labels;
    const withHeaders: Labels = { ...labels };
    for (const { label, header } of headerLabels) withHeaders[label] = headerValue(ctx.req, header);
    return withHeaders;
  }

  function record(ctx: WharfContext, started: bigint): void {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const res: ServerResponse = ctx.res;
    const code = String(res.statusCode);
    const method = methodLabel(ctx.req.method);
    const protocol = protocolLabel(ctx.req);
    const { entrypoint, router, service, observability, rejectedBy } = ctx.wharf;
    const key = `${entrypoint}\n${router ?? '\0'}\n${service ?? '\0'}\n${code}\n${method}\n${protocol}`;
    const set = sets.get(key) ?? buildSets(key, code, method, protocol, entrypoint, router, service);
    const entrypointOn = entryPoints.get(entrypoint) ?? true;
    if (options.addEntryPointsLabels && entrypointOn) {
      metrics.epRequests.inc(requestLabels(ctx, set.entrypoint));
      metrics.epDuration.observe(set.entrypoint, seconds);
    }
    if (rejectedBy) metrics.rejections.inc({ middleware: rejectedBy, code });
    if (!(observability?.metrics ?? entrypointOn)) return;
    if (set.router && options.addRoutersLabels) {
      metrics.routerRequests.inc(requestLabels(ctx, set.router));
      metrics.routerDuration.observe(set.router, seconds);
    }
    if (set.service && options.addServicesLabels) {
      metrics.serviceRequests.inc(requestLabels(ctx, set.service));
      metrics.serviceDuration.observe(set.service, seconds);
    }
  }

  /** A new generation: label sets of removed routers and services are not kept. */
  function forget(): void {
    sets.clear();
  }

  return { record, forget };
}

/** Follows gateway events: reloads, server health and open connections. */
export function followGatewayWharf(host: PluginHost, metrics: WharfMetrics, onReload: () => void): void {
  host.events.on('reload', (info) => {
    onReload();
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
