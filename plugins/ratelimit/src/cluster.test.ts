// --workers=3 with the memory store: the buckets live in the cluster primary, so three workers share one limit.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort } from '@wharf/test-helpers';
import { accuracy, backend, childCpuTicks, get, overloads, WharfProcess } from './harness.test.helper.js';

const b = await backend();
const dir = await mkdtemp(join(tmpdir(), 'wharf-ratelimit-cluster-'));
const config = join(dir, 'dynamic.yml');
await writeFile(config, `
http:
  routers:
    api: { rule: "PathPrefix(\`/api\`)", middlewares: [api-rl], service: b }
    ready: { rule: "PathPrefix(\`/ready\`)", service: b }
  middlewares:
    api-rl: { rateLimit: { average: 50, burst: 50 } }
  services:
    b: { loadBalancer: { servers: [{ url: "${b.url}" }] } }
`);
const port = await freePort();
const wharf = WharfProcess.start(['--workers=3', `--entrypoints.web.address=127.0.0.1:${port}`, `--providers.file.filename=${config}`, '--log.level=WARN']);
after(async () => {
  await wharf.stop();
  await b.close();
  await rm(dir, { recursive: true, force: true });
});
const base = `http://127.0.0.1:${port}`;

test('three workers, load spread over all of them, serve one limit together (±5%)', async (t) => {
  // Every worker has the configuration once a run of fresh connections (spread round-robin) all get 200.
  let streak = 0;
  await eventually(async () => {
    if (wharf.exited) throw new Error(`wharf exited:\n${wharf.log}`);
    const status = await get(`${base}/ready`, {}, true).then((a) => a.status, () => 0);
    streak = status === 200 ? streak + 1 : 0;
    return streak >= 12;
  }, 'three ready workers', 30_000, 25);
  const before = await childCpuTicks(wharf.pid);
  assert.equal(before.size, 3, 'three worker processes');
  const [r] = await overloads([{ urls: [`${base}/api`], options: { perSecond: 100, durationMs: 5000, maxInFlight: 30, fresh: true } }]);
  const { ideal, error } = accuracy(r!.served, 50, 50, r!.seconds);
  const after = await childCpuTicks(wharf.pid);
  const work = [...before].map(([pid, ticks]) => (after.get(pid) ?? ticks) - ticks);
  t.diagnostic(`--workers=3, memory store: served ${r!.served} of ${r!.sent} in ${r!.seconds.toFixed(2)}s, ideal for one limit ${ideal.toFixed(1)} (${(error * 100).toFixed(2)}%); worker CPU ticks ${work.join(', ')}`);
  assert.equal(r!.other + r!.unavailable, 0);
  // At least two workers did a real share of the work, so per-worker buckets would have served at least twice the
  // limit. (Connections are handed out as workers come up, so a worker that listened last may get few of them.)
  const [busiest, second] = [...work].sort((a, b) => b - a);
  assert.ok(second! > 0.2 * busiest!, `load split over workers: ${work.join(', ')}`);
  assert.ok(Math.abs(error) <= 0.05, `served ${r!.served}, ideal ${ideal.toFixed(1)}`);
});
