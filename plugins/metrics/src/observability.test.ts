// entryPoints.<name>.observability.metrics and routers' observability.metrics, under both sets of names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '@wharf/core';
import { eventually, request, startServer } from '@wharf/test-helpers';
import metrics from './index.js';
import { parseScrape } from './promql.test.helper.js';
import { sampleValue } from './traefik.test.helper.js';

/**
 * Entrypoint `quiet` has observability.metrics=false; on it, router `plain` says nothing (the entrypoint's default
 * applies) and router `loud` turns metrics back on. Entrypoint `web` counts as usual. Each router gets 2 requests
 * on its entrypoint; web's `marker` request is last, so once it is counted the others are too.
 */
async function scrapeAfterTraffic(names: 'wharf' | 'traefik') {
  const backend = await startServer((_req, res) => res.end('x'));
  const gateway = await startGateway({
    plugins: [metrics],
    args: [
      '--entrypoints.web.address=127.0.0.1:0',
      '--entrypoints.quiet.address=127.0.0.1:0',
      '--entrypoints.quiet.observability.metrics=false',
      '--entrypoints.traefik.address=127.0.0.1:0',
      `--metrics.prometheus.names=${names}`,
      '--metrics.prometheus.addRoutersLabels=true',
    ],
    dynamic: {
      http: {
        routers: {
          plain: { rule: 'Path(`/plain`)', entryPoints: ['quiet'], service: 'b' },
          loud: { rule: 'Path(`/loud`)', entryPoints: ['quiet'], service: 'b', observability: { metrics: true } },
          marker: { rule: 'Path(`/marker`)', entryPoints: ['web'], service: 'b' },
        },
        services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } },
      },
    },
  });
  try {
    for (const path of ['/plain', '/plain', '/loud', '/loud']) assert.equal((await request(gateway.address('quiet').port, { path })).status, 200);
    assert.equal((await request(gateway.address('web').port, { path: '/marker' })).status, 200);
    const prefix = names === 'wharf' ? 'wharf' : 'traefik';
    return await eventually(async () => {
      const { samples } = parseScrape((await request(gateway.address('traefik').port, { path: '/metrics' })).body);
      return sampleValue(samples, `${prefix}_router_requests_total`, { router: 'marker@inline' }) === 1 && samples;
    }, 'the marker request counted');
  } finally {
    await gateway.stop();
    await backend.close();
  }
}

test('names=traefik: the entrypoint default turns off every level; a router may turn it back on', async () => {
  const samples = await scrapeAfterTraffic('traefik');
  assert.equal(sampleValue(samples, 'traefik_router_requests_total', { router: 'plain@inline' }), 0);
  assert.equal(sampleValue(samples, 'traefik_router_requests_total', { router: 'loud@inline' }), 2);
  assert.equal(sampleValue(samples, 'traefik_entrypoint_requests_total', { entrypoint: 'quiet' }), 2, 'the loud router only');
  assert.equal(sampleValue(samples, 'traefik_service_requests_total', { service: 'b@inline' }), 3, 'loud ×2 and marker');
});

test('names=wharf: the entrypoint option leaves out its entrypoint series and is its routers’ default', async () => {
  const samples = await scrapeAfterTraffic('wharf');
  assert.equal(sampleValue(samples, 'wharf_router_requests_total', { router: 'plain@inline' }), 0);
  assert.equal(sampleValue(samples, 'wharf_router_requests_total', { router: 'loud@inline' }), 2);
  assert.equal(sampleValue(samples, 'wharf_entrypoint_requests_total', { entrypoint: 'quiet' }), 0);
  assert.equal(sampleValue(samples, 'wharf_entrypoint_requests_total', { entrypoint: 'web' }), 1);
});

test('names=traefik: internal services and /metrics scrapes are counted only with metrics.addInternals', async () => {
  for (const addInternals of [false, true]) {
    const gateway = await startGateway({
      plugins: [metrics],
      args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.traefik.address=127.0.0.1:0', '--metrics.prometheus.names=traefik', '--metrics.prometheus.addRoutersLabels=true', `--metrics.addInternals=${addInternals}`],
      dynamic: { http: { routers: { own: { rule: 'Path(`/own-metrics`)', entryPoints: ['web'], service: 'prometheus@internal' } } } },
    });
    try {
      assert.equal((await request(gateway.address('web').port, { path: '/own-metrics' })).status, 200);
      assert.equal((await request(gateway.address('traefik').port, { path: '/metrics' })).status, 200);
      const expected = addInternals ? 1 : 0;
      // Without addInternals nothing is ever counted: a later scrape shows the first two requests either way.
      const samples = await eventually(async () => {
        const { samples: s } = parseScrape((await request(gateway.address('traefik').port, { path: '/metrics' })).body);
        return (!addInternals || (sampleValue(s, 'traefik_entrypoint_requests_total', { entrypoint: 'traefik' }) >= 1 && sampleValue(s, 'traefik_entrypoint_requests_total', { entrypoint: 'web' }) >= 1)) && s;
      }, 'the requests counted');
      assert.equal(sampleValue(samples, 'traefik_router_requests_total', { router: 'own@inline', service: 'prometheus@internal' }), expected, `addInternals=${addInternals}`);
      assert.equal(sampleValue(samples, 'traefik_entrypoint_requests_total', { entrypoint: 'web' }), expected);
      assert.equal(sampleValue(samples, 'traefik_entrypoint_requests_total', { entrypoint: 'traefik' }) >= 1, addInternals);
    } finally {
      await gateway.stop();
    }
  }
});
