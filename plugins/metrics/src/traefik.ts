// --metrics.prometheus.names=traefik: the series of Traefik v3.7's Prometheus exporter (pkg/observability/metrics/
// prometheus.go), with its names, types, label names and label values, so Traefik's Grafana dashboards work.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CertificateInfo, PluginHost, RuntimeInfo, WharfContext } from '@wharf/core';
import { requestBytes, responseBytes } from './bytes.js';
import { grpcCodeLabel, headerValue, tlsLabels, traefikMethodLabel, type TraefikProtocol } from './labels.js';
import type { EntryPointDefaults, MetricsOptions } from './options.js';

export type Labels = Record<string, string>;

/*
 * What the recorder calls, as prom-client's Counter, Histogram and Gauge declare it: the same recorder feeds the
 * Prometheus series and the OTLP instruments (otel.ts).
 */
export interface CounterLike {
  inc(value?: number): void;
  inc(labels: Labels, value?: number): void;
}
export interface HistogramLike {
  observe(labels: Labels, value: number): void;
}
export interface GaugeLike {
  set(value: number): void;
  set(labels: Labels, value: number): void;
  inc(labels: Labels): void;
  dec(labels: Labels): void;
  reset(): void;
}

/** The five request families Traefik keeps per level (entrypoint, router, service). */
export interface RequestFamilies {
  readonly requests: CounterLike;
  readonly tls: CounterLike;
  readonly duration: HistogramLike;
  readonly requestBytes: CounterLike;
  readonly responseBytes: CounterLike;
}

export type Level = 'entrypoint' | 'router' | 'service';

const LEVEL_LABELS: Record<Level, readonly string[]> = { entrypoint: ['entrypoint'], router: ['router', 'service'], service: ['service'] };
// Traefik's help texts, word for word: `# HELP` lines match a Traefik scrape.
export const HELP: Record<Level, Record<keyof RequestFamilies, string>> = {
  entrypoint: {
    requests: 'How many HTTP requests processed on an entrypoint, partitioned by status code, protocol, and method.',
    tls: 'How many HTTP requests with TLS processed on an entrypoint, partitioned by TLS Version and TLS cipher Used.',
    duration: 'How long it took to process the request on an entrypoint, partitioned by status code, protocol, and method.',
    requestBytes: 'The total size of requests in bytes handled by an entrypoint, partitioned by status code, protocol, and method.',
    responseBytes: 'The total size of responses in bytes handled by an entrypoint, partitioned by status code, protocol, and method.',
  },
  router: {
    requests: 'How many HTTP requests are processed on a router, partitioned by service, status code, protocol, and method.',
    tls: 'How many HTTP requests with TLS are processed on a router, partitioned by service, TLS Version, and TLS cipher Used.',
    duration: 'How long it took to process the request on a router, partitioned by service, status code, protocol, and method.',
    requestBytes: 'The total size of requests in bytes handled by a router, partitioned by service, status code, protocol, and method.',
    responseBytes: 'The total size of responses in bytes handled by a router, partitioned by service, status code, protocol, and method.',
  },
  service: {
    requests: 'How many HTTP requests processed on a service, partitioned by status code, protocol, and method.',
    tls: 'How many HTTP requests with TLS processed on a service, partitioned by TLS version and TLS cipher.',
    duration: 'How long it took to process the request on a service, partitioned by status code, protocol, and method.',
    requestBytes: 'The total size of requests in bytes received by a service, partitioned by status code, protocol, and method.',
    responseBytes: 'The total size of responses in bytes returned by a service, partitioned by status code, protocol, and method.',
  },
};

function requestFamilies(registry: Registry, level: Level, options: MetricsOptions): RequestFamilies {
  const prefix = `traefik_${level}_`;
  const own = LEVEL_LABELS[level];
  const labelNames = ['code', 'method', 'protocol', ...own];
  const help = HELP[level];
  const registers = [registry];
  return {
    requests: new Counter({ name: `${prefix}requests_total`, help: help.requests, labelNames: [...labelNames, ...options.headerLabelList.map((h) => h.label)], registers }),
    tls: new Counter({ name: `${prefix}requests_tls_total`, help: help.tls, labelNames: ['tls_version', 'tls_cipher', ...own], registers }),
    duration: new Histogram({ name: `${prefix}request_duration_seconds`, help: help.duration, labelNames, buckets: options.buckets, registers }),
    requestBytes: new Counter({ name: `${prefix}requests_bytes_total`, help: help.requestBytes, labelNames, registers }),
    responseBytes: new Counter({ name: `${prefix}responses_bytes_total`, help: help.responseBytes, labelNames, registers }),
  };
}

/** Every traefik_* instrument; a per-level family is undefined when its add…Labels switch is off. */
export interface TraefikInstruments {
  readonly reloads: CounterLike;
  readonly lastReload: GaugeLike;
  readonly certsNotAfter: GaugeLike;
  readonly openConnections: GaugeLike;
  readonly entrypoint: RequestFamilies | undefined;
  readonly router: RequestFamilies | undefined;
  readonly service: RequestFamilies | undefined;
  readonly retries: CounterLike | undefined;
  readonly serverUp: GaugeLike | undefined;
}

/** Every traefik_* series; the per-level families exist only when their add…Labels switch is on, as in Traefik. */
export function createTraefikMetrics(registry: Registry, options: MetricsOptions): TraefikInstruments {
  const registers = [registry];
  return {
    // Every worker applies every generation: the gateway applied as many as the busiest worker, not their sum.
    reloads: new Counter({ name: 'traefik_config_reloads_total', help: 'Config reloads', aggregator: 'max', registers }),
    lastReload: new Gauge({ name: 'traefik_config_last_reload_success', help: 'Last config reload success', aggregator: 'max', registers }),
    certsNotAfter: new Gauge({ name: 'traefik_tls_certs_not_after', help: 'Certificate expiration timestamp', labelNames: ['cn', 'serial', 'sans'], aggregator: 'min', registers }),
    openConnections: new Gauge({ name: 'traefik_open_connections', help: 'How many open connections exist, by entryPoint and protocol', labelNames: ['entrypoint', 'protocol'], registers }),
    entrypoint: options.addEntryPointsLabels ? requestFamilies(registry, 'entrypoint', options) : undefined,
    router: options.addRoutersLabels ? requestFamilies(registry, 'router', options) : undefined,
    service: options.addServicesLabels ? requestFamilies(registry, 'service', options) : undefined,
    retries: options.addServicesLabels ? new Counter({ name: 'traefik_service_retries_total', help: 'How many request retries happened on a service.', labelNames: ['service'], registers }) : undefined,
    // Every worker checks health itself: down as soon as one of them sees the server down.
    serverUp: options.addServicesLabels
      ? new Gauge({ name: 'traefik_service_server_up', help: 'service server is up, described by gauge value of 0 or 1.', labelNames: ['service', 'url'], aggregator: 'min', registers })
      : undefined,
  };
}
export type TraefikMetrics = TraefikInstruments;

/** The label objects of one kind of request at each level, built once and reused (prom-client keeps them). */
interface LabelSets {
  readonly entrypoint: Labels;
  readonly router: Labels | undefined;
  readonly service: Labels | undefined;
}

/** What the measuring middleware saw when the request came in. */
export interface RequestStart {
  readonly started: bigint;
  readonly protocol: TraefikProtocol;
  /** grpc-status of the upstream's headers, as the proxy relayed them (gRPC requests only). */
  grpcHeaderStatus?: string;
  /** grpc-status relayed in the trailers (gRPC requests only). */
  grpcTrailerStatus?: string;
}

/** Records one finished request into every enabled traefik_* family. */
export function traefikRecorder(metrics: TraefikMetrics, options: MetricsOptions, entryPoints: EntryPointDefaults) {
  const sets = new Map<string, LabelSets>();
  const tlsSets = new Map<string, LabelSets>();
  const headerLabels = options.headerLabelList;
  const scrapeEntryPoint = options.manualRouting ? undefined : options.entryPoint;
  const countInternals = options.addInternals;

  /** The label objects of a kind of request at each level, built the first time (`served`: the service handled it). */
  function buildSets(cache: Map<string, LabelSets>, key: string, base: Labels, entrypoint: string, router: string | undefined, service: string | undefined, served: boolean): LabelSets {
    const set: LabelSets = {
      entrypoint: { ...base, entrypoint },
      router: router === undefined ? undefined : { ...base, router, service: service ?? '' },
      service: service === undefined || !served ? undefined : { ...base, service },
    };
    cache.set(key, set);
    return set;
  }

  /**
   * Traefik leaves its internal services out unless metrics.addInternals: routers to `…@internal`
   * services, and the /metrics endpoint this plugin serves before routing.
   */
  function isInternal(ctx: WharfContext): boolean {
    if (countInternals) return false;
    if (ctx.wharf.service?.endsWith('@internal')) return true;
    return scrapeEntryPoint === ctx.wharf.entrypoint && ctx.method === 'GET' && ctx.path === '/metrics';
  }

  /** requests_total's labels: the shared set, or a copy with the header labels when there are some. */
  function requestLabels(labels: Labels, req: IncomingMessage): Labels {
    if (headerLabels.length === 0) return labels;
    const withHeaders: Labels = { ...labels };
    for (const { label, header } of headerLabels) withHeaders[label] = headerValue(req, header);
    return withHeaders;
  }

  function observe(families: RequestFamilies, labels: Labels, req: IncomingMessage, seconds: number, bytesIn: number, bytesOut: number): void {
    families.requests.inc(requestLabels(labels, req));
    families.duration.observe(labels, seconds);
    families.requestBytes.inc(labels, bytesIn);
    families.responseBytes.inc(labels, bytesOut);
  }

  /** Traefik's observability.metrics (the router's, else its entrypoint's) turns off every level, the entrypoint's included. */
  function counted(ctx: WharfContext): boolean {
    const { entrypoint, observability } = ctx.wharf;
    return (observability?.metrics ?? entryPoints.get(entrypoint) ?? true) && !isInternal(ctx);
  }

  function record(ctx: WharfContext, start: RequestStart): void {
    const seconds = Number(process.hrtime.bigint() - start.started) / 1e9;
    const req = ctx.req;
    const res: ServerResponse = ctx.res;
    const { entrypoint, router, service, rejectedBy, retryAttempts } = ctx.wharf;
    if (!counted(ctx)) return;
    // Traefik measures a service inside the router's chain: a request a middleware answered never reached it.
    const served = rejectedBy === undefined;
    const grpc = start.protocol === 'grpc' || start.protocol === 'grpc-web';
    const code = grpc ? grpcCodeLabel(res, start.grpcTrailerStatus ?? start.grpcHeaderStatus) : String(res.statusCode);
    const method = traefikMethodLabel(req.method);
    const { protocol } = start;
    const where = `${entrypoint}\n${router ?? '\0'}\n${service ?? '\0'}\n${served}`;
    const key = `${where}\n${code}\n${method}\n${protocol}`;
    const set = sets.get(key) ?? buildSets(sets, key, { code, method, protocol }, entrypoint, router, service, served);
    const bytesIn = requestBytes(req);
    const bytesOut = responseBytes(res);
    const tls = tlsLabels(req);
    let tlsSet: LabelSets | undefined;
    if (tls) {
      const tlsKey = `${where}\n${tls.version}\n${tls.cipher}`;
      tlsSet = tlsSets.get(tlsKey) ?? buildSets(tlsSets, tlsKey, { tls_version: tls.version, tls_cipher: tls.cipher }, entrypoint, router, service, served);
    }
    if (metrics.entrypoint) {
      observe(metrics.entrypoint, set.entrypoint, req, seconds, bytesIn, bytesOut);
      if (tlsSet) metrics.entrypoint.tls.inc(tlsSet.entrypoint);
    }
    if (metrics.router && set.router) {
      observe(metrics.router, set.router, req, seconds, bytesIn, bytesOut);
      if (tlsSet?.router) metrics.router.tls.inc(tlsSet.router);
    }
    if (metrics.service && set.service) {
      observe(metrics.service, set.service, req, seconds, bytesIn, bytesOut);
      if (tlsSet?.service) metrics.service.tls.inc(tlsSet.service);
    }
    if (metrics.retries && service !== undefined && retryAttempts > 0) metrics.retries.inc({ service }, retryAttempts);
  }

  /** A new generation: label sets of removed routers and services are not kept. */
  function forget(): void {
    sets.clear();
    tlsSets.clear();
  }

  return { record, forget, counted };
}

/** Traefik's cn/serial/sans labels: the subject CN and the sorted DNS names. */
function certificateLabels(cert: CertificateInfo): Labels {
  return { cn: cert.names[0] ?? '', serial: cert.serial ?? '', sans: [...cert.names].sort().join(',') };
}

/** Follows gateway events: reloads, server health, certificates and open connections. */
export function followGatewayTraefik(host: PluginHost, metrics: TraefikMetrics, onReload: (info: RuntimeInfo) => void): void {
  const { serverUp } = metrics;
  host.events.on('reload', (info) => {
    onReload(info);
    metrics.reloads.inc();
    metrics.lastReload.set(Math.floor(Date.now() / 1000));
    if (!serverUp) return;
    serverUp.reset();
    for (const service of Object.values(info.services)) {
      for (const [url, status] of Object.entries(service.serverStatus ?? {})) serverUp.set({ service: service.name, url }, status === 'UP' ? 1 : 0);
    }
  });
  if (serverUp) host.events.on('health', (e) => serverUp.set({ service: e.service, url: e.url }, e.up ? 1 : 0));
  host.events.on('certificates', (certificates) => {
    metrics.certsNotAfter.reset();
    for (const cert of certificates) metrics.certsNotAfter.set(certificateLabels(cert), cert.notAfter);
  });
  host.events.on('listening', ({ entrypoint, server }) => {
    // Every HTTP entrypoint is a TCP one in Traefik's terms.
    const labels = { entrypoint, protocol: 'TCP' };
    metrics.openConnections.set(labels, 0);
    server.on('connection', (socket: NodeJS.EventEmitter) => {
      metrics.openConnections.inc(labels);
      socket.once('close', () => metrics.openConnections.dec(labels));
    });
  });
}
