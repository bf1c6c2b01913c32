// A real gateway with --metrics.prometheus.names=traefik, real backends and a TLS entrypoint, driven with a known
// traffic pattern; its /metrics text is what the traefik_* tests read.
import http2 from 'node:http2';
import https from 'node:https';
import { definePlugin, startGateway, Type, type EmbeddedGateway, type WharfContext } from '@wharf/core';
import tlsPlugin from '@wharf/plugin-tls';
import { closedPort, eventually, request, startServer, type Listening } from '@wharf/test-helpers';
import metrics from './index.js';
import { parseScrape, type Sample } from './promql.test.helper.js';

/** A test middleware that answers 429 itself, as a rate limiter would. */
export const refuse = definePlugin({
  name: 'refuse',
  schema: Type.Object({}, { additionalProperties: false }),
  create: (_o, { name }) =>
    async function refuseAll(ctx: WharfContext) {
      ctx.wharf.rejectedBy = name;
      ctx.status = 429;
      ctx.body = 'slow down';
    },
});

/** The body every backend answers: 5 bytes, so response byte counts are known. */
export const BODY = 'hello';
export const UPLOAD_BYTES = 1000;
/** Requests the pattern sends; the scrape is taken once every one of them is counted. */
// /quiet (observability.metrics=false) and the scrapes (internal, as in Traefik) are not counted.
export const TOTAL_REQUESTS = 18;

export interface Harness {
  gateway: EmbeddedGateway;
  ok: Listening;
  /** Parsed /metrics after the traffic pattern. */
  samples: Sample[];
  types: Map<string, string>;
  text: string;
  /** Statuses the clients saw, per path, in order. */
  seen: Record<string, number[]>;
  close(): Promise<void>;
}

function backend(status: number): Promise<Listening> {
  return startServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.statusCode = status;
      res.end(BODY);
    });
  });
}

function httpsGet(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

/** One HTTP/2 POST over TLS (ALPN h2); resolves to the status once the whole answer is read. */
function h2Post(port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    session.on('error', reject);
    const stream = session.request({ ':method': 'POST', ':path': path });
    let status = 0;
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('error', reject);
    stream.resume();
    stream.on('end', () => session.close(() => resolve(status)));
    stream.end(body);
  });
}

export function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string>): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

/**
 * Starts the gateway and sends: on `web`, 3 GET /ok with a User-Agent (header label), 1 POST /ok with a body,
 * 1 SSE GET /ok, 2 GET /missing (the backend's 404), 2 GET /bad (the backend's 503), 4 GET /retry (a service whose
 * first server is a closed port: connection failures are retried), 1 GET /limited (a middleware's 429), 1 GET
 * /nowhere (no router: 404), 1 GET /quiet (a router with observability.metrics=false); on the TLS entrypoint
 * `websecure`, 2 GET /ok over HTTP/1.1 and 1 POST /ok with a body over HTTP/2.
 */
export async function startHarness(): Promise<Harness> {
  const ok = await backend(200);
  const missing = await backend(404);
  const failing = await backend(503);
  const dead = `http://127.0.0.1:${await closedPort()}`;
  const gateway = await startGateway({
    plugins: [metrics, refuse, tlsPlugin],
    args: [
      '--entrypoints.web.address=127.0.0.1:0',
      '--entrypoints.websecure.address=127.0.0.1:0',
      '--entrypoints.websecure.http.tls=true',
      '--entrypoints.traefik.address=127.0.0.1:0',
      '--metrics.prometheus.names=traefik',
      '--metrics.prometheus.addRoutersLabels=true',
      '--metrics.prometheus.headerLabels.useragent=User-Agent',
    ],
    dynamic: {
      http: {
        routers: {
          ok: { rule: 'Path(`/ok`)', service: 'ok' },
          missing: { rule: 'Path(`/missing`)', service: 'missing' },
          bad: { rule: 'Path(`/bad`)', service: 'failing' },
          retry: { rule: 'Path(`/retry`)', service: 'flaky' },
          limited: { rule: 'Path(`/limited`)', middlewares: ['rl'], service: 'ok' },
          quiet: { rule: 'Path(`/quiet`)', service: 'missing', observability: { metrics: false } },
        },
        middlewares: { rl: { refuse: {} } },
        services: {
          ok: { loadBalancer: { servers: [{ url: ok.url }] } },
          missing: { loadBalancer: { servers: [{ url: missing.url }] } },
          failing: { loadBalancer: { servers: [{ url: failing.url }] } },
          flaky: { loadBalancer: { servers: [{ url: dead }, { url: ok.url }] } },
        },
      },
    },
  });
  const close = async () => {
    await gateway.stop();
    await Promise.all([ok.close(), missing.close(), failing.close()]);
  };
  try {
    return { gateway, ok, close, ...(await drive(gateway)) };
  } catch (err) {
    await close();
    throw err;
  }
}

async function drive(gateway: EmbeddedGateway): Promise<Pick<Harness, 'samples' | 'types' | 'text' | 'seen'>> {
  const web = gateway.address('web').port;
  const seen: Record<string, number[]> = {};
  const note = (path: string, status: number) => (seen[path] ??= []).push(status);
  for (let i = 0; i < 3; i++) note('/ok', (await request(web, { path: '/ok', headers: { 'user-agent': 'probe/1' } })).status);
  note('/ok POST', (await request(web, { method: 'POST', path: '/ok', body: 'x'.repeat(UPLOAD_BYTES) })).status);
  note('/ok SSE', (await request(web, { path: '/ok', headers: { accept: 'text/event-stream' } })).status);
  for (const path of ['/missing', '/missing', '/bad', '/bad', '/retry', '/retry', '/retry', '/retry', '/limited', '/nowhere', '/quiet']) note(path, (await request(web, { path })).status);
  for (let i = 0; i < 2; i++) note('/ok TLS', await httpsGet(gateway.address('websecure').port, '/ok'));
  note('/ok h2 POST', await h2Post(gateway.address('websecure').port, '/ok', 'y'.repeat(UPLOAD_BYTES)));

  const scrape = async () => (await request(gateway.address('traefik').port, { path: '/metrics' })).body;
  // A request is counted when its response closes, which can be just after the client has read it.
  const text = await eventually(async () => {
    const t = await scrape();
    const { samples } = parseScrape(t);
    const counted = sampleValue(samples, 'traefik_entrypoint_requests_total', {});
    return counted === TOTAL_REQUESTS && t;
  }, `the ${TOTAL_REQUESTS} requests counted`);
  return { ...parseScrape(text), text, seen };
}
