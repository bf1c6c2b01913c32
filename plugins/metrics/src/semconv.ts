// metrics.otlp also records the OpenTelemetry semantic-convention histograms Traefik 3.7 records with OTLP
// (pkg/middlewares/observability/semconv.go, pkg/proxy/httputil/observability.go): http.server.request.duration
// per request on the entrypoint, http.client.request.duration per upstream answer, with Traefik's attributes.
import type { TLSSocket } from 'node:tls';
import type { Attributes, Histogram, Meter } from '@opentelemetry/api';
import type { WharfContext } from '@wharf/core';
import type { RequestStart } from './traefik.js';

// Go semconv's httpconv.RequestMethodAttr: other methods are `_OTHER`.
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE']);
// Attribute sets are reused per kind of request; server.address comes from the client, so the cache is bounded.
const MAX_CACHED_SETS = 1000;

/** Traefik's observability.Proto: `1.0`, `1.1`, else the protocol as Go writes it (HTTP/2.0). */
function protocolVersion(httpVersion: string): string {
  return httpVersion === '1.0' || httpVersion === '1.1' ? httpVersion : `HTTP/${httpVersion}`;
}

/** error.type as Traefik sets it: the status from 400 on, a note for a status outside 100–599. */
function errorType(status: number): string | undefined {
  if (status < 100 || status >= 600) return `Invalid HTTP status code ; ${status}`;
  return status >= 400 ? String(status) : undefined;
}

export interface SemconvOptions {
  boundaries: number[];
  /** Whether this request is counted at all (observability.metrics, internals): the traefik_* recorder's decision. */
  counted(ctx: WharfContext): boolean;
}

export function semconvRecorder(meter: Meter, options: SemconvOptions): (ctx: WharfContext, start: RequestStart) => void {
  const advice = { explicitBucketBoundaries: options.boundaries };
  const server: Histogram = meter.createHistogram('http.server.request.duration', { description: 'Duration of HTTP server requests.', unit: 's', advice });
  const client: Histogram = meter.createHistogram('http.client.request.duration', { description: 'Duration of HTTP client requests.', unit: 's', advice });
  const sets = new Map<string, Attributes>();

  function cached(key: string, build: () => Attributes): Attributes {
    let set = sets.get(key);
    if (set === undefined) {
      if (sets.size >= MAX_CACHED_SETS) sets.clear();
      set = build();
      sets.set(key, set);
    }
    return set;
  }

  function common(method: string, status: number, httpVersion: string, scheme: string): Attributes {
    const error = errorType(status);
    return {
      'http.request.method': method,
      'url.scheme': scheme,
      ...(error === undefined ? {} : { 'error.type': error }),
      'http.response.status_code': status,
      'network.protocol.name': `http/${httpVersion}`,
      'network.protocol.version': protocolVersion(httpVersion),
    };
  }

  function serverSet(method: string, status: number, httpVersion: string, scheme: string, host: string): Attributes {
    return cached(`s\n${method}\n${status}\n${httpVersion}\n${scheme}\n${host}`, () => ({ ...common(method, status, httpVersion, scheme), 'server.address': host }));
  }

  /** Go's req.URL.Host (host:port as written in the server URL) and the port, 80/443 by default. */
  function clientSet(method: string, status: number, httpVersion: string, scheme: string, url: string): Attributes {
    return cached(`c\n${method}\n${status}\n${httpVersion}\n${scheme}\n${url}`, () => {
      const parsed = new URL(url);
      const port = parsed.port !== '' ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
      return { ...common(method, status, httpVersion, scheme), 'server.address': parsed.host, 'server.port': port };
    });
  }

  return function recordSemconv(ctx: WharfContext, start: RequestStart): void {
    if (!options.counted(ctx)) return;
    const req = ctx.req;
    const method = req.method !== undefined && KNOWN_METHODS.has(req.method) ? req.method : '_OTHER';
    const scheme = (req.socket as Partial<TLSSocket> | null)?.encrypted ? 'https' : 'http';
    const seconds = Number(process.hrtime.bigint() - start.started) / 1e9;
    server.record(seconds, serverSet(method, ctx.res.statusCode, req.httpVersion, scheme, req.headers.host ?? ''));
    const upstream = ctx.wharf.upstream;
    if (upstream?.status === undefined || upstream.durationNs === undefined) return;
    // Traefik's client span speaks HTTP/1.1 to the servers it proxies to.
    client.record(Number(upstream.durationNs) / 1e9, clientSet(method, upstream.status, '1.1', scheme, upstream.url));
  };
}
