// Benchmark harness shared by every suite: child processes with readiness, load runs (wrk or autocannon), rounds, tables, checks, JSON.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const benchDir = fileURLToPath(new URL('.', import.meta.url));
export const outputDir = join(repoRoot, 'test-output');

/** Every process this run started, so any exit path (error, Ctrl-C) can stop them. */
const started = new Set();
const tempDirs = new Set();

// ---------------------------------------------------------------- settings

/**
 * Run settings from the environment. Defaults keep a 7-target suite at ~2.5 minutes; more, shorter
 * rounds rather than fewer long ones, because a median of 5 shrugs off a disturbed sample better.
 * Whole seconds only: wrk takes no fractions.
 */
export function settingsFromEnv(env = process.env) {
  return {
    seconds: positiveInteger(env.BENCH_SECONDS, 3),
    rounds: positiveInteger(env.BENCH_ROUNDS, 5),
    warmupSeconds: positiveInteger(env.BENCH_WARMUP, 1),
    connections: positiveInteger(env.BENCH_CONNECTIONS, 50),
    loader: env.BENCH_LOADER ?? 'auto',
    profile: env.BENCH_PROFILE === '1' || env.BENCH_PROFILE === 'true',
  };
}

function positiveNumber(raw, fallback) {
  const value = Number(raw);
  return raw !== undefined && raw !== '' && Number.isFinite(value) && value > 0 ? value : fallback;
}

function positiveInteger(raw, fallback) {
  return Math.max(1, Math.round(positiveNumber(raw, fallback)));
}

/** A temporary directory removed when the run ends. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(os.tmpdir(), `wharf-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

export function commandExists(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** A port that was free a moment ago, for programs that cannot report the one they bound (nginx, wharf). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- processes

/**
 * Spawns `command args` and resolves once it is ready: either a stdout line matches `readyLine`
 * (its first group, if any, is the port) or `readyProbe` answers `expectStatus`. Rejects with the
 * output tail if the process exits or `timeoutMs` passes first.
 */
export async function startProcess({ name, command, args = [], cwd = repoRoot, env, readyLine, readyProbe, port, timeoutMs = 30_000 }) {
  // Own process group: nginx forks workers, and a group kill reaches them even after a hard stop.
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const handle = { name, child, pid: child.pid, port, output: tailBuffer(), stop: (graceMs) => stopProcess(handle, graceMs) };
  started.add(handle);
  child.stdout.on('data', (chunk) => handle.output.push(chunk));
  child.stderr.on('data', (chunk) => handle.output.push(chunk));
  try {
    await withTimeout(readiness(handle, readyLine, readyProbe), timeoutMs, `${name}: not ready after ${timeoutMs} ms`);
  } catch (err) {
    await stopProcess(handle, 1000);
    throw new Error(`${err.message}\n--- ${name} output ---\n${handle.output.text()}`, { cause: err });
  }
  return handle;
}

function readiness(handle, readyLine, readyProbe) {
  const exited = new Promise((_, reject) =>
    handle.child.once('exit', (code, signal) => reject(new Error(`${handle.name}: exited (${signal ?? code}) before it was ready`))),
  );
  const ready = readyLine ? waitForLine(handle, readyLine) : waitForProbe(handle, readyProbe);
  return Promise.race([ready, exited]);
}

function waitForLine(handle, pattern) {
  return new Promise((resolve) => {
    let pending = '';
    const onData = (chunk) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) {
        const match = pattern.exec(line);
        if (!match) continue;
        if (match[1] !== undefined) handle.port = Number(match[1]);
        handle.child.stdout.off('data', onData);
        resolve();
        return;
      }
    };
    handle.child.stdout.on('data', onData);
  });
}

/** Polls until the probe request gets the expected status: a listening socket is not enough, routes must be loaded. */
async function waitForProbe(handle, { path = '/', headers = {}, expectStatus = 200 } = {}) {
  for (;;) {
    if (handle.child.exitCode !== null || handle.child.signalCode !== null) return;
    const status = await probe(handle.port, path, headers).catch(() => undefined);
    if (status === expectStatus) return;
    await sleep(100);
  }
}

/** One request on a fresh connection; resolves to the status code. */
export function probe(port, path = '/', headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('probe timeout')));
    req.on('error', reject);
  });
}

/** SIGTERM, then SIGKILL to the whole group after graceMs; resolves when the process is gone. */
async function stopProcess(handle, graceMs = 5000) {
  started.delete(handle);
  const { child } = handle;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  signalGroup(child.pid, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
  // A forking program's leftovers (nginx workers) go with the group.
  signalGroup(child.pid, 'SIGKILL');
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Stops everything still running and removes temp dirs; safe to call more than once. */
export async function cleanup() {
  await Promise.all([...started].map((handle) => stopProcess(handle, 5000)));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Ctrl-C or a crash must not leave gateways and nginx behind. */
export function installCleanupHandlers() {
  const onSignal = (signal) => {
    console.error(`\n${signal}: stopping benchmark processes`);
    cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', () => {
    for (const handle of started) signalGroup(handle.pid, 'SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

function tailBuffer(limit = 8192) {
  let text = '';
  return {
    push(chunk) {
      text = (text + chunk.toString('utf8')).slice(-limit);
    },
    text: () => text,
  };
}

function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------- load

/** 'wrk' when installed (or asked for), else 'autocannon' (a dev dependency, run in its own process). */
export function chooseLoader(preference = 'auto') {
  if (preference === 'wrk' && !commandExists('wrk')) throw new Error('BENCH_LOADER=wrk but wrk is not installed');
  if (preference === 'wrk' || preference === 'autocannon') return preference;
  return commandExists('wrk') ? 'wrk' : 'autocannon';
}

// wrk's summary only prints rounded text; a done() hook gives exact numbers in one parseable line.
const WRK_REPORT = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests":%.0f,"durationUs":%.0f,"p50Us":%.1f,"p99Us":%.1f,"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout))
end
`;
let wrkScript;

/**
 * One load run against http://127.0.0.1:<port><path> from a separate process; `headers` ({ name: value }) go on
 * every request besides Host. Resolves to { rps, p50, p99 (ms), requests, errors, non2xx }.
 */
export function runLoad({ loader, port, path = '/', host, headers = {}, connections = 50, seconds = 5, scheme = 'http' }) {
  // https: wrk and autocannon both skip certificate verification, so a self-signed benchmark certificate will do.
  const url = `${scheme}://127.0.0.1:${port}${path}`;
  return loader === 'wrk' ? runWrk(url, host, headers, connections, seconds) : runAutocannon(url, host, headers, connections, seconds);
}

async function runWrk(url, host, headers, connections, seconds) {
  // cleanup() between suites removes temp dirs, so the script is written again when it is gone.
  if (wrkScript === undefined || !existsSync(wrkScript)) {
    wrkScript = join(tempDir('wrk'), 'report.lua');
    writeFileSync(wrkScript, WRK_REPORT);
  }
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', wrkScript];
  if (host) args.push('-H', `Host: ${host}`);
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  const stdout = await capture('wrk', [...args, url], seconds);
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk printed no report:\n${stdout}`);
  const r = JSON.parse(line.slice('WRK_JSON '.length));
  return {
    rps: r.requests / (r.durationUs / 1e6),
    p50: r.p50Us / 1000,
    p99: r.p99Us / 1000,
    requests: r.requests,
    errors: r.connect + r.read + r.write + r.timeout,
    non2xx: r.status,
  };
}

const autocannonBin = () => createRequire(join(benchDir, '..', 'package.json')).resolve('autocannon/autocannon.js');

async function runAutocannon(url, host, headers, connections, seconds) {
  const args = [autocannonBin(), '-c', String(connections), '-d', String(seconds), '--json'];
  if (host) args.push('-H', `host=${host}`);
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}=${value}`);
  const stdout = await capture(process.execPath, [...args, url], seconds);
  const r = JSON.parse(stdout.slice(stdout.indexOf('{')));
  return {
    rps: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

/** Runs a load generator to completion; killed if it overruns its duration by 30 s. */
function capture(command, args, seconds) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} failed (${signal ?? code}): ${stderr || stdout}`));
    });
  });
}

// ---------------------------------------------------------------- CPU accounting (Linux /proc)

// On a shared or small machine req/s moves with whatever else runs; CPU time per request of the
// measured process barely does, and the CPU used by other processes says how disturbed a sample was.
const hasProc = existsSync('/proc/stat');
const TICK_US = 1e6 / 100; // USER_HZ is 100 on every Linux Node supports

/** Fields after the command name of /proc/<pid>/stat (index 0 = state, 2 = pgrp, 11/12 = utime/stime, 13/14 = children's). */
function statFields(path) {
  try {
    const text = readFileSync(path, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // the process ended while we looked
  }
}

/** CPU ticks of every process in a group: a target and its forks (nginx workers). */
function groupTicks(pgids) {
  const ticks = new Map(pgids.map((pgid) => [pgid, 0]));
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) > 0x39) continue; // not a pid
    const fields = statFields(`/proc/${entry}/stat`);
    const pgid = fields && Number(fields[2]);
    if (ticks.has(pgid)) ticks.set(pgid, ticks.get(pgid) + Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}

/** A CPU-time snapshot: the whole machine's busy ticks, this process plus its reaped children (the finished load generator), and the given groups. */
function cpuSnapshot(pgids) {
  if (!hasProc) return undefined;
  const [user, nice, system, , , , , steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  // irq/softirq left out: loopback traffic of the benchmark itself is processed there, charged to no process.
  const busy = user + nice + system + steal;
  const self = statFields('/proc/self/stat');
  const selfTicks = Number(self[11]) + Number(self[12]) + Number(self[13]) + Number(self[14]);
  return { at: process.hrtime.bigint(), busy, selfTicks, groups: groupTicks(pgids) };
}

/** CPU of the measured group per request, and the share of the machine used by processes outside the benchmark. */
function cpuDelta(before, after, targetPgid, otherPgids, requests) {
  if (before === undefined || after === undefined || targetPgid === undefined) return {};
  const delta = (pgid) => after.groups.get(pgid) - before.groups.get(pgid);
  const ours = [...new Set([targetPgid, ...otherPgids])].reduce((sum, pgid) => sum + delta(pgid), 0) + (after.selfTicks - before.selfTicks);
  const capacity = (Number(after.at - before.at) / 1e9) * (1e6 / TICK_US) * os.cpus().length;
  return {
    cpuUsPerRequest: (delta(targetPgid) * TICK_US) / requests,
    otherLoad: Math.max(0, (after.busy - before.busy - ours) / capacity),
  };
}

// ---------------------------------------------------------------- rounds

/**
 * Measures every target once per round, interleaved (the starting target rotates each round so
 * none always runs first), each after a warm-up (longer in the first round, while the JIT settles).
 * A target is { name, label, port, pid?, path?, host?, headers? }: pid is the process (group) whose CPU is
 * charged to it; `alsoRunning` lists other pids taking part (the backend) so they are not counted
 * as outside load. Resolves to one result per target with medians of rps, p50, p99 (ms),
 * cpuUsPerRequest and otherLoad, plus samples, errors, non2xx and served (all requests, warm-ups included).
 */
export async function measureRounds(targets, settings, options = {}) {
  // A bare function as third argument is the log (the first form of this API, still used by some suites).
  const { alsoRunning = [], log = console.log, firstRound = 0, totalRounds = settings.rounds } = typeof options === 'function' ? { log: options } : options;
  const results = new Map(targets.map((t) => [t.name, { name: t.name, label: t.label, samples: [], errors: 0, non2xx: 0, served: 0 }]));
  const pgids = [...new Set([...targets.map((t) => t.pid), ...alsoRunning])].filter((pid) => pid !== undefined);
  for (let round = firstRound; round < firstRound + settings.rounds; round++) {
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(round + i) % targets.length];
      const result = results.get(target.name);
      const load = { loader: settings.loader, port: target.port, path: target.path, host: target.host, headers: target.headers, scheme: target.scheme, connections: settings.connections };
      // A round 0 (or a fresh process, see measureFreshRounds) gets a longer warm-up: the JIT is still at work.
      const warm = await runLoad({ ...load, seconds: round === firstRound ? settings.warmupSeconds * 3 : settings.warmupSeconds });
      const before = cpuSnapshot(pgids);
      const startUs = nowUs();
      const sample = await runLoad({ ...load, seconds: settings.seconds });
      // The window lets a CPU profile of the target be cut down to the measured seconds.
      sample.window = [startUs, nowUs()];
      Object.assign(sample, cpuDelta(before, cpuSnapshot(pgids), target.pid, alsoRunning, sample.requests));
      result.samples.push(sample);
      result.errors += sample.errors;
      result.non2xx += sample.non2xx;
      result.served += warm.requests + sample.requests;
      log(`  round ${round + 1}/${totalRounds}  ${sampleLine(target, sample)}`);
    }
  }
  return targets.map((t) => withMedians(results.get(t.name)));
}

/**
 * measureRounds with fresh processes in every round: `start(round)` starts the targets (resolving to
 * [{ name, label, handle, path, host? }]), they are measured once, interleaved, and stopped. Two processes started
 * from the same configuration differed by up to 13 % in CPU per request here, for a whole run (JIT decisions
 * taken while warming up); one process per target made that a bias of every round. Restarting turns it into
 * noise that the per-round medians (rpsRatio) absorb. `stop(targets)` replaces the plain stop (e.g. to profile).
 */
export async function measureFreshRounds(start, settings, { alsoRunning = [], log = console.log, stop } = {}) {
  const merged = new Map();
  for (let round = 0; round < settings.rounds; round++) {
    const targets = await start(round);
    const measured = await measureRounds(
      targets.map((t) => ({ name: t.name, label: t.label, port: t.handle.port, pid: t.handle.pid, path: t.path, host: t.host, headers: t.headers })),
      { ...settings, rounds: 1 },
      { alsoRunning, log, firstRound: round, totalRounds: settings.rounds },
    );
    for (const m of measured) {
      const into = merged.get(m.name) ?? merged.set(m.name, { name: m.name, label: m.label, samples: [], errors: 0, non2xx: 0, served: 0 }).get(m.name);
      into.samples.push(...m.samples);
      into.errors += m.errors;
      into.non2xx += m.non2xx;
      into.served += m.served;
    }
    if (stop) await stop(targets, round);
    else for (const t of targets) await t.handle.stop(20_000);
  }
  return [...merged.values()].map(withMedians);
}

/** Monotonic microseconds, the clock V8 CPU profiles use. */
function nowUs() {
  return Number(process.hrtime.bigint() / 1000n);
}

function sampleLine(target, s) {
  const cpu = s.cpuUsPerRequest === undefined ? '' : `  CPU ${fmt(s.cpuUsPerRequest, 1)} µs/req  other load ${fmt(s.otherLoad * 100, 0)}%`;
  const errors = s.errors + s.non2xx > 0 ? `  errors ${s.errors} non-2xx ${s.non2xx}` : '';
  return `${target.label.padEnd(34)} ${fmt(s.rps, 0).padStart(7)} req/s  p50 ${fmt(s.p50, 2)} ms  p99 ${fmt(s.p99, 2)} ms${cpu}${errors}`;
}

function withMedians(result) {
  const pick = (key) => (result.samples.some((s) => s[key] === undefined) ? undefined : median(result.samples.map((s) => s[key])));
  const rpsAll = result.samples.map((s) => s.rps);
  return {
    ...result,
    rps: pick('rps'),
    p50: pick('p50'),
    p99: pick('p99'),
    cpuUsPerRequest: pick('cpuUsPerRequest'),
    otherLoad: pick('otherLoad'),
    rpsMin: Math.min(...rpsAll),
    rpsMax: Math.max(...rpsAll),
  };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// ---------------------------------------------------------------- reporting

export function fmt(value, digits) {
  return value === undefined || value === null || Number.isNaN(value) ? 'n/a' : value.toFixed(digits);
}

/**
 * req/s of row `a` over row `b`: the median of the per-round ratios. Each round measures every target back to back,
 * so a round's ratio cancels what drifts between rounds (other tenants of the VM, CPU frequency, the page cache);
 * the ratio of the two medians mixes rounds and moved by ±5 % between identical runs here.
 */
export function rpsRatio(a, b) {
  if (!a || !b) return undefined;
  if (a === b) return 1;
  if (a.samples?.length !== b.samples?.length || a.samples.length === 0) return a.rps / b.rps;
  return median(a.samples.map((s, i) => s.rps / b.samples[i].rps));
}

/** Adds ratio-of-req/s columns (rpsRatio) against the named baseline rows (e.g. { direct: 'direct', reference: 'reference' }). */
export function withRatios(results, baselines) {
  return results.map((r) => {
    const ratios = {};
    for (const [key, name] of Object.entries(baselines)) ratios[key] = rpsRatio(r, results.find((b) => b.name === name));
    return { ...r, ratios };
  });
}

/** Prints rows as an aligned table; columns are { title, value: (row) => string, left? }. */
export function printTable(title, rows, columns, write = console.log) {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((r) => r[i].length)));
  const line = (values) => values.map((v, i) => (columns[i].left ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  write(`\n${title}`);
  write(line(columns.map((c) => c.title)));
  write(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells) write(line(row));
}

/** The usual columns for a throughput/latency comparison with ratio columns from withRatios. */
export function standardColumns(baselines) {
  return [
    { title: 'target', value: (r) => r.label, left: true },
    { title: 'req/s', value: (r) => fmt(r.rps, 0) },
    { title: 'min–max', value: (r) => `${fmt(r.rpsMin, 0)}–${fmt(r.rpsMax, 0)}` },
    { title: 'p50 ms', value: (r) => fmt(r.p50, 2) },
    { title: 'p99 ms', value: (r) => fmt(r.p99, 2) },
    ...Object.keys(baselines).map((key) => ({ title: `×${key}`, value: (r) => fmt(r.ratios[key], 2) })),
    { title: 'CPU µs/req', value: (r) => fmt(r.cpuUsPerRequest, 1) },
    { title: 'other load', value: (r) => (r.otherLoad === undefined ? 'n/a' : `${fmt(r.otherLoad * 100, 0)}%`) },
    { title: 'errors', value: (r) => String(r.errors + r.non2xx) },
  ];
}

/**
 * Evaluates target checks: { label, measured: number | undefined, op: '>=' | '<=', target, unit, byCpu? }.
 * Prints one line each (figures, not assertions) and returns them with PASS/MISS/n/a. `byCpu`, the same
 * ratio from CPU time per request, is shown beside it but does not decide the verdict.
 */
export function printChecks(checks, write = console.log) {
  write('\ntargets (measured vs target; figures, not assertions):');
  return checks.map((check) => {
    const { label, measured, op, target, unit = '×', digits = 2, byCpu } = check;
    const verdict = measured === undefined || Number.isNaN(measured) ? 'n/a' : (op === '>=' ? measured >= target : measured <= target) ? 'PASS' : 'MISS';
    const cpu = byCpu === undefined ? '' : `  [by CPU/request: ${fmt(byCpu, 2)}×]`;
    write(`  ${verdict.padEnd(4)}  ${label}: ${fmt(measured, digits)}${unit} (target ${op === '>=' ? '≥' : '≤'} ${fmt(target, digits)}${unit})${cpu}`);
    return { label, measured, byCpu, op, target, unit, verdict };
  });
}

/** A loud line when other processes used a large share of the machine: then req/s and p99 say little, CPU µs/req still does. */
export function warnIfContended(rows, write = console.log, threshold = 0.2) {
  const loads = rows.map((r) => r.otherLoad).filter((l) => l !== undefined);
  if (loads.length === 0) return undefined;
  const load = median(loads);
  if (load > threshold) {
    write(`\nWARNING: other processes used ${fmt(load * 100, 0)}% of the machine (median over samples) while this ran:`);
    write('         req/s, p99 and their ratios are disturbed; the CPU µs/req column and the [by CPU/request] ratios are the steadier figures.');
  }
  return load;
}

export function machineInfo() {
  const cpus = os.cpus();
  return { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: cpus.length, cpuModel: cpus[0]?.model, loadavg: os.loadavg() };
}

/** Writes test-output/<name>.json and returns its path. */
export function writeJson(name, data) {
  const path = join(outputDir, `${name}.json`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}
