import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '@wharf/core';
import { eventually, startServer, type Listening } from '@wharf/test-helpers';
import metrics from './index.js';
import { refuse } from './traefik.test.helper.js';


function backend(status: number): Promise<Listening> {
  return startServer((_req, res) => {
    res.statusCode = status;
    res.end('x');
  });
}

/** Value of one sample line `name{labels} value` in the exposition text, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

test('metrics after a known traffic pattern', async () => {
  const ok = await backend(200);
  const failing = await backend(503);
  const gateway = await startGateway({
    plugins: [metrics, refuse],
    args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.traefik.address=127.0.0.1:0', '--metrics.prometheus.addRoutersLabels=true', '--metrics.prometheus.headerLabels.agent=User-Agent'],
    dynamic: {
      http: {
        routers: {
          ok: { rule: 'Path(`/ok`)', service: 'ok' },
          bad: { rule: 'Path(`/bad`)', service: 'failing' },
          limited: { rule: 'Path(`/limited`)', middlewares: ['rl'], service: 'ok' },
          quiet: { rule: 'Path(`/quiet`)', service: 'ok', observability: { metrics: false } },
        },
        middlewares: { rl: { refuse: {} } },
        services: { ok: { loadBalancer: { servers: [{ url: ok.url }] } }, failing: { loadBalancer: { servers: [{ url: failing.url }] } } },
      },
    },
  });
  try {
    const web = `http://127.0.0.1:${gateway.address('web').port}`;
    for (let i = 0; i < 5; i++) await (await fetch(`${web}/ok`)).text();
    for (let i = 0; i < 3; i++) await (await fetch(`${web}/bad`)).text();
    for (let i = 0; i < 2; i++) await (await fetch(`${web}/limited`)).text();
    await (await fetch(`${web}/quiet`)).text();
    await (await fetch(`${web}/nowhere`)).text();
    const ep = { entrypoint: 'web', method: 'GET', protocol: 'http' };
    // A request is counted when its response finishes, which can be just after the client has read it.
    const text = await eventually(async () => {
      const t = await (await fetch(`http://127.0.0.1:${gateway.address('traefik').port}/metrics`)).text();
      const counted = ['200', '503', '429', '404'].reduce((n, code) => n + sample(t, 'wharf_entrypoint_requests_total', { ...ep, code }), 0);
      return counted === 12 && t;
    }, 'the 12 requests counted');
    assert.equal(sample(text, 'wharf_entrypoint_requests_total', { ...ep, code: '200' }), 6);
    assert.equal(sample(text, 'wharf_entrypoint_requests_total', { ...ep, code: '503' }), 3);
    assert.equal(sample(text, 'wharf_entrypoint_requests_total', { ...ep, code: '429' }), 2);
    assert.equal(sample(text, 'wharf_entrypoint_requests_total', { ...ep, code: '404' }), 1);
    assert.equal(sample(text, 'wharf_entrypoint_request_duration_seconds_count', { ...ep, code: '200' }), 6);
    assert.equal(sample(text, 'wharf_entrypoint_requests_total', { ...ep, code: '200', agent: 'node' }), 6, "the header label: fetch's User-Agent");
    assert.equal(sample(text, 'wharf_service_requests_total', { service: 'failing@inline', agent: 'node' }), 3);
    assert.ok(!/^wharf_entrypoint_request_duration_seconds_count\{[^}]*agent=/m.test(text), 'header labels only on the requests counters');
    assert.equal(sample(text, 'wharf_router_requests_total', { router: 'ok@inline', service: 'ok@inline', code: '200' }), 5);
    assert.equal(sample(text, 'wharf_router_requests_total', { router: 'quiet@inline' }), 0, 'observability.metrics=false');
    assert.equal(sample(text, 'wharf_service_requests_total', { service: 'failing@inline', code: '503' }), 3);
    assert.equal(sample(text, 'wharf_middleware_rejections_total', { middleware: 'rl@inline', code: '429' }), 2);
    assert.equal(sample(text, 'wharf_service_server_up', { service: 'ok@inline', url: ok.url }), 1);
    assert.ok(sample(text, 'wharf_config_reloads_total', {}) >= 1);
    assert.ok(sample(text, 'wharf_config_last_reload_success', {}) > 1.7e9);
    assert.ok(!/127\.0\.0\.1"\s/.test(text.replace(/url="[^"]*"/g, '')), 'no client addresses as labels');
    gateway.health.set('ok@inline', ok.url, false, 'test');
    const after = await (await fetch(`http://127.0.0.1:${gateway.address('traefik').port}/metrics`)).text();
    assert.equal(sample(after, 'wharf_service_server_up', { service: 'ok@inline', url: ok.url }), 0);
    assert.ok(sample(after, 'wharf_open_connections', { entrypoint: 'traefik' }) >= 1);
  } finally {
    await gateway.stop();
    await ok.close();
    await failing.close();
  }
});

test('--metrics.prometheus defaults to the traefik entrypoint on :8080 only when asked; manualRouting offers prometheus@internal', async () => {
  const gateway = await startGateway({
    plugins: [metrics],
    args: ['--entrypoints.web.address=127.0.0.1:0', '--metrics.prometheus.entryPoint=web', '--metrics.prometheus.manualRouting=true'],
    dynamic: { http: { routers: { m: { rule: 'Path(`/custom-metrics`)', service: 'prometheus@internal' } } } },
  });
  try {
    const web = `http://127.0.0.1:${gateway.address('web').port}`;
    assert.equal((await fetch(`${web}/metrics`)).status, 404);
    const res = await fetch(`${web}/custom-metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /wharf_config_reloads_total/);
  } finally {
    await gateway.stop();
  }
});

test('buckets, and entrypoint and service families turned off by their flags', async () => {
  const ok = await backend(200);
  const gateway = await startGateway({
    plugins: [metrics],
    args: [
      '--entrypoints.web.address=127.0.0.1:0',
      '--entrypoints.traefik.address=127.0.0.1:0',
      '--metrics.prometheus.buckets=0.25,2',
      '--metrics.prometheus.addEntryPointsLabels=false',
      '--metrics.prometheus.addServicesLabels=false',
      '--metrics.prometheus.addRoutersLabels=true',
    ],
    dynamic: { http: { routers: { ok: { rule: 'Path(`/ok`)', service: 'ok' } }, services: { ok: { loadBalancer: { servers: [{ url: ok.url }] } } } } },
  });
  try {
    for (let i = 0; i < 3; i++) await (await fetch(`http://127.0.0.1:${gateway.address('web').port}/ok`)).text();
    const router = { router: 'ok@inline', service: 'ok@inline', code: '200', method: 'GET', protocol: 'http' };
    // A request is counted when its response finishes, which can be just after the client has read it.
    const text = await eventually(async () => {
      const t = await (await fetch(`http://127.0.0.1:${gateway.address('traefik').port}/metrics`)).text();
      return sample(t, 'wharf_router_requests_total', router) === 3 && t;
    }, 'the 3 requests counted');
    assert.equal(sample(text, 'wharf_router_requests_total', router), 3);
    const buckets = text.split('\n').filter((l) => l.startsWith('wharf_router_request_duration_seconds_bucket{')).map((l) => /le="([^"]+)"/.exec(l)?.[1]);
    assert.deepEqual(buckets, ['0.25', '2', '+Inf']);
    assert.equal(sample(text, 'wharf_router_request_duration_seconds_count', router), 3);
    assert.ok(!/^wharf_entrypoint_requests_total\{/m.test(text), 'no entrypoint samples with addEntryPointsLabels=false');
    assert.ok(!/^wharf_service_requests_total\{/m.test(text), 'no service samples with addServicesLabels=false');
  } finally {
    await gateway.stop();
    await ok.close();
  }
});
