// The `ratelimit` suite: a router whose limit is never reached, without rateLimit, with the memory store and with the
// Redis store (a redis-server started for the run), side by side; targets: memory < 5 %, redis < 25 % of throughput.
import { join } from 'node:path';
import { commandExists, freePort, measureFreshRounds, printChecks, printTable, rpsRatio, standardColumns, startProcess, tempDir, withRatios } from './lib.js';
import { origin, startBackend, startWharf } from './targets.js';
import { profiling } from './profile-summary.js';

export const description = 'rate-limit cost: no rateLimit vs memory store vs Redis store (limit never reached)';

const PATH = '/bench';
const BASELINES = { off: 'off' };
// Far above what 2 cores can serve, so every request takes a token and none is refused.
const NEVER_REACHED = { average: 10_000_000, burst: 10_000_000 };

async function startRedis() {
  if (!commandExists('redis-server')) return undefined;
  const port = await freePort();
  const dir = tempDir('redis');
  return startProcess({
    name: 'redis',
    command: 'redis-server',
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    port,
    readyLine: /Ready to accept connections/,
  });
}

function config(backend, rateLimit) {
  return {
    http: {
      routers: { bench: { rule: `PathPrefix(\`${PATH}\`)`, service: 'backend', ...(rateLimit ? { middlewares: ['rl'] } : {}) } },
      ...(rateLimit ? { middlewares: { rl: { rateLimit } } } : {}),
      services: { backend: { loadBalancer: { servers: [{ url: origin(backend) }] } } },
    },
  };
}

export async function run({ settings, log }) {
  const backend = await startBackend();
  const redis = await startRedis();
  log(redis ? `redis-server on 127.0.0.1:${redis.port}` : 'redis-server not installed: Redis row skipped (apt-get install -y redis-server)');
  const variants = [
    { name: 'off', label: 'Wharf, no rateLimit', dynamic: config(backend) },
    { name: 'memory', label: 'Wharf, rateLimit memory store', dynamic: config(backend, NEVER_REACHED) },
  ];
  if (redis) variants.push({ name: 'redis', label: 'Wharf, rateLimit Redis store', dynamic: config(backend, { ...NEVER_REACHED, redis: { endpoints: [`127.0.0.1:${redis.port}`] } }) });
  const profile = profiling(settings, 'ratelimit');
  const startVariants = async (round) => {
    for (const v of variants) v.handle = await startWharf({ name: v.name, dynamic: v.dynamic, probe: { path: PATH }, ...profile.nodeArgs(v.name) });
    if (round === 0) log(`${variants.map((v) => v.label).join(', ')}: ready (fresh processes every round)`);
    return variants.map((v) => ({ ...v, path: PATH }));
  };
  const measured = await measureFreshRounds(startVariants, settings, { alsoRunning: [backend.pid, ...(redis ? [redis.pid] : [])], log });
  const rows = withRatios(measured, BASELINES);
  printTable(`ratelimit: median of ${settings.rounds} rounds, ${settings.seconds}s each, ${settings.connections} connections, loader ${settings.loader}`, rows, standardColumns(BASELINES), log);
  const row = (name) => rows.find((r) => r.name === name);
  const byCpu = (name) => (row(name)?.cpuUsPerRequest && row('off').cpuUsPerRequest ? row('off').cpuUsPerRequest / row(name).cpuUsPerRequest : undefined);
  const checks = printChecks(
    [
      { label: 'memory store / no rateLimit, req/s', measured: rpsRatio(row('memory'), row('off')), op: '>=', target: 0.95, byCpu: byCpu('memory') },
      ...(redis ? [{ label: 'Redis store / no rateLimit, req/s', measured: rpsRatio(row('redis'), row('off')), op: '>=', target: 0.75, byCpu: byCpu('redis') }] : []),
    ],
    log,
  );
  for (const r of rows) if (r.non2xx > 0) log(`  note: ${r.label} answered ${r.non2xx} non-2xx (a limit was reached?)`);
  const profiles = await profile.stopAndSummarise(variants, rows, log);
  return { request: { path: PATH }, rows, checks, profiles, redis: Boolean(redis), file: join('test-output', 'bench-ratelimit.json') };
}
