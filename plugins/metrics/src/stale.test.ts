// names=traefik: the series of a router and service that a new configuration removed are exported on one more scrape,
// then dropped (Traefik's promState); those still configured stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '@wharf/core';
import { eventually, request, startServer } from '@wharf/test-helpers';
import metrics from './index.js';
import { parseScrape } from './promql.test.helper.js';
import { sampleValue } from './traefik.test.helper.js';

function dynamic(backendUrl: string, names: string[]) {
  return {
    http: {
      routers: Object.fromEntries(names.map((n) => [n, { rule: `Path(\`/${n}\`)`, service: n }])),
      services: Object.fromEntries(names.map((n) => [n, { loadBalancer: { servers: [{ url: backendUrl }] } }])),
    },
  };
}

test('a removed router and service: on the next scrape still, then gone; the kept ones stay', async () => {
  const backend = await startServer((_req, res) => res.end('x'));
  const gateway = await startGateway({
    plugins: [metrics],
    args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.traefik.address=127.0.0.1:0', '--metrics.prometheus.names=traefik', '--metrics.prometheus.addRoutersLabels=true'],
    dynamic: dynamic(backend.url, ['kept', 'dropped']),
  });
  const scrape = async () => parseScrape((await request(gateway.address('traefik').port, { path: '/metrics' })).body).samples;
  const count = (samples: Awaited<ReturnType<typeof scrape>>, name: string, labels: Record<string, string>) => sampleValue(samples, name, labels);
  try {
    for (const path of ['/kept', '/dropped']) assert.equal((await request(gateway.address('web').port, { path })).status, 200);
    await eventually(async () => count(await scrape(), 'traefik_service_requests_total', {}) === 2, 'both requests counted');
    const reloads = count(await scrape(), 'traefik_config_reloads_total', {});
    gateway.configure(dynamic(backend.url, ['kept']));
    // The scrape that first sees the new generation still has the removed router's series, one last time.
    const last = await eventually(async () => {
      const samples = await scrape();
      return count(samples, 'traefik_config_reloads_total', {}) > reloads && samples;
    }, 'the new configuration applied');
    assert.equal(count(last, 'traefik_router_requests_total', { router: 'dropped@inline' }), 1);
    const after = await scrape();
    assert.equal(count(after, 'traefik_router_requests_total', { router: 'dropped@inline' }), 0);
    assert.ok(!after.some((s) => s.labels.service === 'dropped@inline'), 'no series of the removed service, histograms and server_up included');
    assert.equal(count(after, 'traefik_router_requests_total', { router: 'kept@inline', service: 'kept@inline' }), 1);
    assert.equal(count(after, 'traefik_service_request_duration_seconds_count', { service: 'kept@inline' }), 1);
    assert.equal(count(after, 'traefik_entrypoint_requests_total', { entrypoint: 'web' }), 2, 'entrypoint series keep counting both');
  } finally {
    await gateway.stop();
    await backend.close();
  }
});
