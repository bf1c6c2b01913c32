// Summarises a V8 .cpuprofile (node --cpu-prof): top self-time functions and modules; `node profile-summary.js <file|dir> [requests] [top]`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { outputDir, repoRoot } from './lib.js';
import { cpuProfileArgs } from './targets.js';

const IDLE = '(idle)';

/**
 * Self time (µs) per profile node: sample i lasts until sample i+1 (DevTools' convention). With
 * `windows` ([startUs, endUs] pairs on the monotonic clock, which V8's timestamps and
 * process.hrtime share), only samples inside them count: start-up and warm-ups stay out.
 */
function selfTimes(profile, windows) {
  const self = new Map();
  const { samples, timeDeltas } = profile;
  let at = profile.startTime;
  for (let i = 0; i < samples.length - 1; i++) {
    at += timeDeltas[i];
    if (windows && !windows.some(([start, end]) => at >= start && at < end)) continue;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + timeDeltas[i + 1]);
  }
  return self;
}

/** `core/dist/service/proxy.js`, `undici/lib/…`, `node:internal/…`: short enough for a table. */
function shortUrl(url) {
  if (url === '') return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) return path.slice(modules + '/node_modules/'.length);
  return path.startsWith(repoRoot) ? path.slice(repoRoot.length) : path;
}

/** Which code a function belongs to: a package, Wharf's own code, Node's internals, or V8's pseudo-frames. */
function moduleOf(url, functionName) {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const short = shortUrl(url);
  if (short.startsWith('node:')) return short.split('/').slice(0, 2).join('/');
  if (url.includes('/node_modules/')) return short.startsWith('@') ? short.split('/').slice(0, 2).join('/') : short.split('/')[0];
  return short.split('/').slice(0, 2).join('/');
}

/** Aggregates one profile (optionally only inside `windows`) into { busyUs, idleUs, functions, modules } sorted by self time. */
export function summariseProfile(profile, windows) {
  const self = selfTimes(profile, windows);
  const functions = new Map();
  const modules = new Map();
  let busyUs = 0;
  let idleUs = 0;
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === IDLE) {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const name = functionName || '(anonymous)';
    const key = url ? `${name}  ${shortUrl(url)}:${lineNumber + 1}` : name;
    functions.set(key, (functions.get(key) ?? 0) + us);
    const mod = moduleOf(url, name);
    modules.set(mod, (modules.get(mod) ?? 0) + us);
  }
  const sorted = (map) => [...map].map(([name, us]) => ({ name, us, share: us / busyUs })).sort((a, b) => b.us - a.us);
  return { busyUs, idleUs, functions: sorted(functions), modules: sorted(modules) };
}

/** Prints the top self-time functions and modules; with `requests`, also CPU µs per request. */
export function printProfileSummary(title, summary, { requests, top = 20, log = console.log } = {}) {
  const perRequest = (us) => (requests ? `  ${(us / requests).toFixed(2).padStart(7)} µs/req` : '');
  log(`\n${title}: busy ${(summary.busyUs / 1e6).toFixed(1)} s, idle ${(summary.idleUs / 1e6).toFixed(1)} s${requests ? `, ${requests} requests → ${(summary.busyUs / requests).toFixed(1)} µs CPU per request` : ''}`);
  log('  by module (self time):');
  for (const m of summary.modules.slice(0, 12)) log(`    ${(m.share * 100).toFixed(1).padStart(5)}%${perRequest(m.us)}  ${m.name}`);
  log(`  top ${top} functions (self time):`);
  for (const f of summary.functions.slice(0, top)) log(`    ${(f.share * 100).toFixed(1).padStart(5)}%${perRequest(f.us)}  ${f.name}`);
}

/**
 * The newest .cpuprofile in dir (or dir itself if it is a file), summarised and printed. Pass the
 * measurement `windows` and the `requests` served in them for a steady-state cost per request.
 */
export function summariseProfileDir(dirOrFile, { requests, windows, samples, cpuUsPerRequest, top = 20, log = console.log } = {}) {
  const file = newestProfile(dirOrFile);
  if (file === undefined) {
    log(`\nno .cpuprofile in ${dirOrFile} (did the process exit cleanly?)`);
    return undefined;
  }
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  if (samples) ({ requests, windows, cpuUsPerRequest } = withinProfile(samples, profile));
  const summary = summariseProfile(profile, windows);
  const title = `${file.startsWith(repoRoot) ? file.slice(repoRoot.length) : file}${windows ? ' (measurement windows only)' : ''}`;
  printProfileSummary(title, summary, { requests, top, log });
  if (cpuUsPerRequest !== undefined && requests) {
    // V8 samples on a wall clock: time the process sat preempted (loopback writev wakes the peer) is charged to the running call.
    const inflation = summary.busyUs / requests / cpuUsPerRequest;
    log(`  process CPU time (/proc): ${cpuUsPerRequest.toFixed(1)} µs/req; the profile's busy time is ${inflation.toFixed(2)}× that`);
  }
  return { file, requests, busyUs: summary.busyUs, idleUs: summary.idleUs, modules: summary.modules.slice(0, 12), functions: summary.functions.slice(0, top) };
}

/**
 * The measurement samples taken while this profile's process ran (with fresh processes per round, only the last
 * round's): their windows, requests and CPU per request.
 */
function withinProfile(samples, profile) {
  const inside = samples.filter((s) => s.window[0] >= profile.startTime && s.window[1] <= profile.endTime);
  const requests = inside.reduce((sum, s) => sum + s.requests, 0);
  const withCpu = inside.every((s) => s.cpuUsPerRequest !== undefined);
  return {
    requests,
    windows: inside.map((s) => s.window),
    cpuUsPerRequest: withCpu && requests > 0 ? inside.reduce((sum, s) => sum + s.cpuUsPerRequest * s.requests, 0) / requests : undefined,
  };
}

function newestProfile(path) {
  if (statSync(path, { throwIfNoEntry: false })?.isFile()) return path;
  let names;
  try {
    names = readdirSync(path).filter((n) => n.endsWith('.cpuprofile'));
  } catch {
    return undefined;
  }
  return names.map((n) => join(path, n)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

/**
 * BENCH_PROFILE for a suite (profiles go to test-output/bench-profiles/<suite>-<target>/): `nodeArgs(name)` gives the --cpu-prof flags for a target (none when profiling is
 * off), and `stopAndSummarise(targets, rows, log)` stops those targets (Node writes the profile at a clean exit)
 * and prints each one's top functions over the measured seconds only, so start-up and warm-ups stay out.
 */
export function profiling(settings, suite) {
  const dirOf = (name) => join(outputDir, 'bench-profiles', `${suite}-${name}`);
  return {
    enabled: settings.profile,
    nodeArgs: (name) => (settings.profile ? { nodeArgs: cpuProfileArgs(dirOf(name)) } : {}),
    async stopAndSummarise(targets, rows, log) {
      if (!settings.profile) return undefined;
      const summaries = {};
      for (const target of targets) {
        await target.handle.stop(20_000);
        const { samples } = rows.find((r) => r.name === target.name);
        summaries[target.name] = summariseProfileDir(dirOf(target.name), { samples, log });
      }
      return summaries;
    },
  };
}

// Command line: node test/bench/profile-summary.js <file.cpuprofile|dir> [requests] [top]
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [target, requests, top] = process.argv.slice(2);
  if (target === undefined) {
    console.error('usage: node test/bench/profile-summary.js <file.cpuprofile|dir> [requests] [top]');
    process.exit(2);
  }
  summariseProfileDir(resolve(target), { requests: requests ? Number(requests) : undefined, top: top ? Number(top) : 20 });
}
