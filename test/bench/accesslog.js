// The `accesslog` suite: Wharf with the access log off vs on (json to a file, and common to a file), same route and backend.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { measureRounds, printChecks, printTable, rpsRatio, standardColumns, tempDir, warnIfContended, withRatios } from './lib.js';
import { origin, startBackend, startWharf } from './targets.js';
import { profiling } from './profile-summary.js';

export const description = 'access-log cost: Wharf without access log vs json to a file vs common to a file';

const PATH = '/bench';
const BASELINES = { off: 'off' };

/** Runs the suite; resolves to the JSON document written to test-output/bench-accesslog.json. */
export async function run({ settings, log }) {
  const backend = await startBackend();
  const dynamic = { http: { routers: { bench: { rule: `PathPrefix(\`${PATH}\`)`, service: 'backend' } }, services: { backend: { loadBalancer: { servers: [{ url: origin(backend) }] } } } } };
  const dir = tempDir('accesslog');
  const variants = [
    { name: 'off', label: 'Wharf, no access log', args: [] },
    { name: 'json', label: 'Wharf, accessLog json → file', file: join(dir, 'json.log'), args: ['--accessLog.format=json'] },
    { name: 'common', label: 'Wharf, accessLog common → file', file: join(dir, 'common.log'), args: ['--accessLog.format=common'] },
  ];
  const profile = profiling(settings, 'accesslog');
  for (const v of variants) {
    const args = v.file ? [...v.args, `--accessLog.filePath=${v.file}`] : v.args;
    v.handle = await startWharf({ name: v.name, dynamic, probe: { path: PATH }, args, ...profile.nodeArgs(v.name) });
    log(`${v.label}: ready`);
  }

  log(`\nmeasuring ${variants.length} targets × ${settings.rounds} rounds (${settings.warmupSeconds}s warm-up + ${settings.seconds}s each, ${settings.connections} connections)`);
  const measured = await measureRounds(
    variants.map((v) => ({ name: v.name, label: v.label, port: v.handle.port, pid: v.handle.pid, path: PATH })),
    settings,
    { alsoRunning: [backend.pid], log },
  );
  const rows = withRatios(measured, BASELINES);
  printTable(`accesslog: median of ${settings.rounds} rounds, ${settings.seconds}s each, ${settings.connections} connections, loader ${settings.loader}`, rows, standardColumns(BASELINES), log);
  const otherLoad = warnIfContended(rows, log);

  // Stopping flushes the logs (profiled targets stop, gracefully, to write their profiles first); every request
  // served (warm-ups and probe included) must have its line.
  const profiles = await profile.stopAndSummarise(variants, rows, log);
  const lines = {};
  for (const v of variants) {
    await v.handle.stop();
    if (v.file) lines[v.name] = readFileSync(v.file, 'utf8').split('\n').filter(Boolean).length;
  }
  const row = (name) => rows.find((r) => r.name === name);
  // Ratios from CPU time per request are the steady figure when the machine is shared.
  const byCpu = (name) => (row(name).cpuUsPerRequest && row('off').cpuUsPerRequest ? row('off').cpuUsPerRequest / row(name).cpuUsPerRequest : undefined);
  for (const name of Object.keys(lines)) log(`  ${name}: ${lines[name]} lines for ${row(name).served} requests served in the runs (+ readiness probes, + requests in flight when a run ended)`);
  const checks = printChecks(
    [
      { label: 'json access log / no access log, req/s', measured: rpsRatio(row('json'), row('off')), op: '>=', target: 0.8, byCpu: byCpu('json') },
      { label: 'common access log / no access log, req/s', measured: rpsRatio(row('common'), row('off')), op: '>=', target: 0.8, byCpu: byCpu('common') },
      { label: 'json lines − measured requests', measured: lines.json - row('json').served, op: '>=', target: 0, unit: '', digits: 0 },
    ],
    log,
  );
  return { request: { path: PATH }, rows, lines, checks, otherLoad, profiles };
}
