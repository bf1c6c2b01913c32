// Test harness: backends on 127.0.0.1 whose health path can be switched, and a gateway with this plugin.
import http, { type IncomingHttpHeaders } from 'node:http';
import { startGateway, type EmbeddedGateway, type HealthEvent } from '@wharf/core';
import { startServer } from '@wharf/test-helpers';
import healthCheck from './index.js';

/** ok: 200; fail: 500; hang: never answers; slow: answers 200 after `slowMs`. */
export type HealthMode = 'ok' | 'fail' | 'hang' | 'slow';

export interface Probe {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface HealthBackend {
  name: string;
  port: number;
  url: string;
  mode: HealthMode;
  /** Status of answers outside the health path (default 200). */
  trafficStatus: number;
  /** Requests to paths starting with /health, in order. */
  probes: Probe[];
  /** Other requests (live traffic) received. */
  served: number;
  close(): Promise<void>;
}

export async function startHealthBackend(name: string, options: { slowMs?: number } = {}): Promise<HealthBackend> {
  const backend = { name, mode: 'ok', trafficStatus: 200, probes: [] as Probe[], served: 0 } as HealthBackend;
  const listening = await startServer((req, res) => {
    if (req.url?.startsWith('/health')) {
      backend.probes.push({ method: req.method ?? '', url: req.url, headers: req.headers });
      if (backend.mode === 'hang') return;
      if (backend.mode === 'slow') {
        setTimeout(() => res.end('late'), options.slowMs ?? 1000);
        return;
      }
      res.statusCode = backend.mode === 'ok' ? 200 : 500;
      res.end(backend.mode);
      return;
    }
    backend.served++;
    res.statusCode = backend.trafficStatus;
    res.setHeader('x-backend', name);
    res.end(name);
  });
  backend.port = listening.port;
  backend.url = listening.url;
  backend.close = listening.close;
  return backend;
}

export interface TestGateway {
  gateway: EmbeddedGateway;
  port: number;
  /** Every health transition, in order. */
  events: HealthEvent[];
  /** GET on the web entrypoint: status and the backend that answered. */
  get(path?: string): Promise<{ status: number; body: string; backend?: string }>;
  status(service: string, url: string): 'UP' | 'DOWN' | undefined;
  stop(): Promise<void>;
}

/** A gateway with only this plugin (plus `plugins`), `web` on 127.0.0.1:0, configured with `dynamic`. */
export async function startTestGateway(dynamic: unknown, plugins: Parameters<typeof startGateway>[0] = {}): Promise<TestGateway> {
  const gateway = await startGateway({
    ...plugins,
    plugins: [healthCheck, ...(plugins.plugins ?? [])],
    args: ['--entrypoints.web.address=127.0.0.1:0', ...(plugins.args ?? [])],
  });
  const events: HealthEvent[] = [];
  gateway.on('health', (e: HealthEvent) => events.push(e));
  gateway.configure(dynamic);
  const port = gateway.address('web').port;
  return {
    gateway,
    port,
    events,
    get: (path = '/') =>
      new Promise((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body, backend: res.headers['x-backend'] as string | undefined }));
          })
          .on('error', reject);
      }),
    status: (service, url) => gateway.info.services[service]?.serverStatus?.[url],
    stop: () => gateway.stop(),
  };
}

/** One load-balancer service `s` behind a catch-all router, with extra loadBalancer fields. */
export function serviceConfig(urls: string[], lb: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown {
  return {
    http: {
      routers: { r: { rule: 'PathPrefix(`/`)', service: 's' }, ...((extra.routers as object) ?? {}) },
      services: { s: { loadBalancer: { servers: urls.map((url) => ({ url })), ...lb } }, ...((extra.services as object) ?? {}) },
      ...(extra.middlewares ? { middlewares: extra.middlewares } : {}),
    },
  };
}
