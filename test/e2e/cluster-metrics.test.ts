// Prometheus metrics with --workers=2: any worker's /metrics reports the whole gateway, merged in the primary.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { childPids, eventually, get, request, sleep, spawnWharf, startBackend, tempDir, type Backend, type Reply, type TempDir, type WharfProcess, routesYaml } from '@wharf/test-helpers';

const WORKERS = 2;
// Each on a new connection, so the primary hands them to the workers in turn: each worker counts about half.
const REQUESTS = 40;
// Bound for the scrapes to show every finished request (a response is counted when its connection closes).
const SETTLE_MS = 10_000;

/** Sum of the samples of `name` whose labels include every one of `labels`. */
function total(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Times the output shows `pattern`. */
function count(wharf: WharfProcess, pattern: RegExp): number {
  return wharf.stdout().match(new RegExp(pattern, 'g'))?.length ?? 0;
}

let backend: Backend;
let dir: TempDir;
let wharf: WharfProcess;
let web: number;
let traefik: number;

before(async () => {
  backend = await startBackend('metrics');
  dir = tempDir();
  const dynamic = dir.write('dynamic.yml', routesYaml(backend.url, ['app']));
  wharf = spawnWharf([
    `--workers=${WORKERS}`,
    '--entrypoints.web.address=127.0.0.1:0',
    '--entrypoints.traefik.address=127.0.0.1:0',
    '--metrics.prometheus',
    `--providers.file.filename=${dynamic}`,
    '--providers.providersThrottleDuration=50ms',
  ]);
  web = await wharf.port('web');
  traefik = await wharf.port('traefik');
  await wharf.waitFor(new RegExp(`running ${WORKERS} workers`));
  await eventually(() => count(wharf, /entrypoint traefik listening on/) >= WORKERS, 'every worker to listen');
  // A second generation, applied by every worker while the metrics plugin follows (a worker's first one
  // is applied before plugins are set up, and no 'reload' event reaches them for it).
  dir.write('dynamic.yml', routesYaml(backend.url, ['app', 'other']));
  await eventually(() => count(wharf, /applied: 2 routers/) >= WORKERS, 'every worker to apply the second configuration');
});

after(async () => {
  await wharf.stop();
  await backend.close();
  dir.remove();
});

test(`/metrics sums every worker: ${REQUESTS} requests, plus each earlier scrape, counted exactly once`, async () => {
  for (let i = 0; i < REQUESTS; i++) assert.equal((await get(web, `/app-${i}`)).status, 200);
  // Scrapes are requests on the traefik entrypoint too: each shows the ones before it, never itself.
  let scrapes = 0;
  let seen: { web: number; durations: number; scrapes: number };
  let text: string;
  const deadline = Date.now() + SETTLE_MS;
  do {
    const reply = await get(traefik, '/metrics');
    assert.equal(reply.status, 200, reply.body);
    text = reply.body;
    seen = {
      web: total(text, 'wharf_entrypoint_requests_total', { entrypoint: 'web' }),
      durations: total(text, 'wharf_entrypoint_request_duration_seconds_count', { entrypoint: 'web' }),
      scrapes: total(text, 'wharf_entrypoint_requests_total', { entrypoint: 'traefik' }),
    };
    scrapes++;
    if (seen.web === REQUESTS && seen.scrapes === scrapes - 1) break;
    await sleep(50);
  } while (Date.now() < deadline);
  assert.deepEqual(seen, { web: REQUESTS, durations: REQUESTS, scrapes: scrapes - 1 }, `last scrape:\n${text}`);

  // One family each, not one per worker.
  assert.equal(text.match(/^# TYPE wharf_entrypoint_requests_total /gm)?.length, 1);
  // Gauges that every worker reports alike are not summed.
  assert.equal(total(text, 'wharf_service_server_up', { service: 's@file', url: backend.url }), 1);
  const lastReload = total(text, 'wharf_config_last_reload_success');
  assert.ok(Math.abs(lastReload - Date.now() / 1000) < 600, `wharf_config_last_reload_success ${lastReload} is a time, not a sum of times`);
});

test('a worker that does not answer (stopped): the scrape fails with 503 and says why, and works again once it is back', async () => {
  const [stopped] = childPids(wharf.pid);
  // Two scrapes on new connections reach both workers; the one on the stopped worker waits for it.
  process.kill(stopped!, 'SIGSTOP');
  const pending = [get(traefik, '/metrics'), get(traefik, '/metrics')];
  try {
    const first = await Promise.race(pending);
    assert.equal(first.status, 503, first.body);
    assert.match(first.body, /not every worker sent its metrics within \d+ ms/);
  } finally {
    process.kill(stopped!, 'SIGCONT');
    await Promise.allSettled(pending);
  }
  const replies = await Promise.all([get(traefik, '/metrics'), get(traefik, '/metrics')]);
  assert.deepEqual(replies.map((r) => r.status), [200, 200]);
});

test('a primary that does not answer (stopped): a worker fails the scrape after the shared-call timeout, naming the reducer', async () => {
  // A kept-alive connection reaches its worker without the primary, which hands out new connections.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.equal((await request(traefik, { path: '/metrics', agent })).status, 200);
    process.kill(wharf.pid, 'SIGSTOP');
    let reply: Reply;
    const started = Date.now();
    try {
      reply = await request(traefik, { path: '/metrics', agent });
    } finally {
      process.kill(wharf.pid, 'SIGCONT');
    }
    assert.equal(reply.status, 503, reply.body);
    assert.match(reply.body, /shared reducer 'metrics:aggregate' \(key ''\): the cluster primary did not answer within 5000 ms/);
    assert.ok(Date.now() - started < 8_000, 'bounded by the timeout');
  } finally {
    agent.destroy();
  }
  assert.equal((await get(traefik, '/metrics')).status, 200);
});
