// The `accesslog` suite: Wharf with the access log off vs on (json to a file, and common to a file), same route and backend;
// nginx with its access log off, json and combined beside it, as the reference for what a log line costs a proxy.
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { measureFreshRounds, printChecks, printTable, rpsRatio, standardColumns, tempDir, warnIfContended, withRatios } from './lib.js';
import { origin, startBackend, startNginx, startWharf } from './targets.js';
import { profiling } from './profile-summary.js';

export const description = 'access-log cost: Wharf without access log vs json to a file vs common to a file (nginx the same, as reference)';

const PATH = '/bench';
const BASELINES = { off: 'off' };
// nginx rows are compared with nginx without its log: each server with its own log off.
const NGINX = [
  { name: 'nginx', label: 'nginx, access_log off' },
  { name: 'nginx-json', label: 'nginx, access_log json → file', format: 'json' },
  { name: 'nginx-combined', label: 'nginx, access_log combined → file', format: 'combined' },
];

/** Newlines in a file, read in chunks: nginx's logs pass the longest string V8 can make within a run. */
function countLines(file) {
  const fd = openSync(file, 'r');
  const chunk = Buffer.alloc(1 << 20);
  let lines = 0;
  try {
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) {
      for (let at = chunk.indexOf(10); at !== -1 && at < n; at = chunk.indexOf(10, at + 1)) lines++;
    }
  } finally {
    closeSync(fd);
  }
  return lines;
}

/** The nginx rows (none when nginx is not installed). */
async function startNginxVariants(backend, dir) {
  const started = [];
  for (const v of NGINX) {
    const handle = await startNginx(backend, v.format ? { accessLog: { file: join(dir, `${v.name}.log`), format: v.format } } : {});
    if (!handle) return [];
    started.push({ ...v, handle, file: v.format && join(dir, `${v.name}.log`) });
  }
  return started;
}

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
  // Each round appends to the same files, so the line count covers every process.
  const startVariants = async (round) => {
    for (const v of variants) {
      const args = v.file ? [...v.args, `--accessLog.filePath=${v.file}`] : v.args;
      v.handle = await startWharf({ name: v.name, dynamic, probe: { path: PATH }, args, ...profile.nodeArgs(v.name) });
    }
    const nginx = await startNginxVariants(backend, dir);
    if (round === 0) {
      log(`${variants.map((v) => v.label).join(', ')}: ready (fresh processes every round)`);
      log(nginx.length > 0 ? 'nginx: installed, reference rows included' : 'nginx: not installed, reference rows skipped (apt-get install -y nginx)');
    }
    return [...variants, ...nginx].map((t) => ({ ...t, path: PATH }));
  };
  log(`\nmeasuring ${settings.rounds} rounds (${settings.warmupSeconds * 3}s warm-up + ${settings.seconds}s each, ${settings.connections} connections)`);
  const measured = await measureFreshRounds(startVariants, settings, { alsoRunning: [backend.pid], log });
  const rows = withRatios(measured, BASELINES).map((r) => ({ ...r, ratios: { off: rpsRatio(r, measured.find((b) => b.name === (r.name.startsWith('nginx') ? 'nginx' : 'off'))) } }));
  printTable(`accesslog: median of ${settings.rounds} rounds, ${settings.seconds}s each, ${settings.connections} connections, loader ${settings.loader}; ×off = vs the same server without its log`, rows, standardColumns(BASELINES), log);
  const otherLoad = warnIfContended(rows, log);

  // Every round's processes were stopped (gracefully: that flushes their logs) before this; every request served
  // (warm-ups and probes included) must have its line.
  const profiles = await profile.stopAndSummarise(variants, rows, log);
  const row = (name) => rows.find((r) => r.name === name);
  const lines = {};
  for (const v of [...variants, ...NGINX]) {
    const file = v.file ?? (v.format && join(dir, `${v.name}.log`));
    if (file && row(v.name)) lines[v.name] = countLines(file);
  }
  // Ratios from CPU time per request are the steady figure when the machine is shared.
  const byCpu = (name, base = 'off') => (row(name)?.cpuUsPerRequest && row(base)?.cpuUsPerRequest ? row(base).cpuUsPerRequest / row(name).cpuUsPerRequest : undefined);
  for (const name of Object.keys(lines)) log(`  ${name}: ${lines[name]} lines for ${row(name).served} requests served in the runs (+ readiness probes, + requests in flight when a run ended)`);
  const checks = printChecks(
    [
      { label: 'json access log / no access log, req/s', measured: rpsRatio(row('json'), row('off')), op: '>=', target: 0.8, byCpu: byCpu('json') },
      { label: 'common access log / no access log, req/s', measured: rpsRatio(row('common'), row('off')), op: '>=', target: 0.8, byCpu: byCpu('common') },
      { label: 'json lines − measured requests', measured: lines.json - row('json').served, op: '>=', target: 0, unit: '', digits: 0 },
    ],
    log,
  );
  if (row('nginx')) {
    log('reference (no target): nginx with its own access log, buffered 64 KiB');
    for (const name of ['nginx-json', 'nginx-combined']) {
      log(`  ${row(name).label} / access_log off, req/s: ${rpsRatio(row(name), row('nginx')).toFixed(2)}×  [by CPU/request: ${byCpu(name, 'nginx')?.toFixed(2) ?? 'n/a'}×]`);
    }
  }
  return { request: { path: PATH }, rows, lines, checks, otherLoad, profiles };
}
