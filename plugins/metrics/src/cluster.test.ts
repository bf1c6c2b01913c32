// names=traefik with --workers=2: a scrape on any worker reports the whole gateway under Traefik's names, merged
// in the primary by each metric's rule (sums for counts, min for health, max for reload times).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, get, spawnWharf, startBackend, tempDir, type Backend, type TempDir, type WharfProcess, routesYaml } from '@wharf/test-helpers';
import { parseScrape } from './promql.test.helper.js';
import { sampleValue } from './traefik.test.helper.js';

const WORKERS = 2;
// Each on a new connection, so the primary hands them to the workers in turn.
const REQUESTS = 20;

let backend: Backend;
let dir: TempDir;
let wharf: WharfProcess;

before(async () => {
  backend = await startBackend('metrics');
  dir = tempDir();
  const dynamic = dir.write('dynamic.yml', routesYaml(backend.url, ['app']));
  wharf = spawnWharf([
    `--workers=${WORKERS}`,
    '--entrypoints.web.address=127.0.0.1:0',
    '--entrypoints.traefik.address=127.0.0.1:0',
    '--metrics.prometheus.names=traefik',
    '--metrics.prometheus.addRoutersLabels=true',
    `--providers.file.filename=${dynamic}`,
    '--providers.providersThrottleDuration=50ms',
  ]);
  await wharf.waitFor(new RegExp(`running ${WORKERS} workers`));
  await eventually(() => (wharf.stdout().match(/entrypoint traefik listening on/g)?.length ?? 0) >= WORKERS, 'every worker to listen');
  // A second generation, which every worker applies while the plugin follows (so reload series exist everywhere).
  dir.write('dynamic.yml', routesYaml(backend.url, ['app', 'other']));
  await eventually(() => (wharf.stdout().match(/applied: 2 routers/g)?.length ?? 0) >= WORKERS, 'every worker to apply the second configuration');
});

after(async () => {
  await wharf.stop();
  await backend.close();
  dir.remove();
});

test(`every worker's traefik_* series merged: ${REQUESTS} requests counted once, health and reload times not summed`, async () => {
  const web = await wharf.port('web');
  const traefik = await wharf.port('traefik');
  for (let i = 0; i < REQUESTS; i++) assert.equal((await get(web, `/app-${i}`)).status, 200);
  const text = await eventually(async () => {
    const reply = await get(traefik, '/metrics');
    assert.equal(reply.status, 200, reply.body);
    return sampleValue(parseScrape(reply.body).samples, 'traefik_entrypoint_requests_total', { entrypoint: 'web' }) === REQUESTS && reply.body;
  }, `the ${REQUESTS} requests counted across workers`);
  const { samples } = parseScrape(text);
  assert.equal(text.match(/^# TYPE traefik_entrypoint_requests_total /gm)?.length, 1, 'one family, not one per worker');
  assert.equal(sampleValue(samples, 'traefik_router_requests_total', { router: 'r-app@file', service: 's@file', code: '200' }), REQUESTS);
  assert.equal(sampleValue(samples, 'traefik_service_request_duration_seconds_count', { service: 's@file' }), REQUESTS);
  assert.equal(sampleValue(samples, 'traefik_service_server_up', { service: 's@file', url: backend.url }), 1);
  const lastReload = sampleValue(samples, 'traefik_config_last_reload_success', {});
  assert.ok(Math.abs(lastReload - Date.now() / 1000) < 600, `traefik_config_last_reload_success ${lastReload} is a time, not a sum of times`);
  assert.equal(sampleValue(samples, 'traefik_entrypoint_requests_total', { entrypoint: 'traefik' }), 0, 'scrapes are internal');
});
