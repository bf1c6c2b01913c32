// `npm run bench [-- suite…]`: runs benchmark suites (default `core`) and writes test-output/bench-<suite>.json.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { chooseLoader, cleanup, installCleanupHandlers, machineInfo, repoRoot, settingsFromEnv, writeJson } from './lib.js';

// Each suite exports description and run(); `npm run bench -- all` runs every one.
const SUITES = {
  core: () => import('./core.js'),
  tls: () => import('./tls.js'),
  accesslog: () => import('./accesslog.js'),
  ratelimit: () => import('./ratelimit.js'),
  hardening: () => import('./hardening.js'),
  'docker-rollout': () => import('./docker-rollout.js'),
  swarm: () => import('./swarm.js'),
  middlewares: () => import('./middlewares.js'),
  compress: () => import('./compress.js'),
  udp: () => import('./udp.js'),
  tracing: () => import('./tracing.js'),
  tcp: () => import('./tcp.js'),
};

async function main(argv) {
  if (argv.includes('--help') || argv.includes('-h')) return usage(0);
  const names = argv.length === 0 ? ['core'] : argv.includes('all') ? Object.keys(SUITES) : argv;
  const unknown = names.filter((n) => !(n in SUITES));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')}`);
    return usage(2);
  }
  if (!existsSync(join(repoRoot, 'core', 'dist', 'cli', 'main.js'))) {
    console.error('core/dist is missing: run `npx tsc --build` first (npm run bench does)');
    return 1;
  }
  installCleanupHandlers();
  const settings = settingsFromEnv();
  settings.loader = chooseLoader(settings.loader);
  printPreamble(settings);
  for (const name of names) {
    const suite = await SUITES[name]();
    console.log(`\n=== suite ${name}: ${suite.description}`);
    const started = Date.now();
    const result = await suite.run({ settings, log: console.log });
    await cleanup();
    const path = writeJson(`bench-${name}`, { suite: name, date: new Date().toISOString(), machine: machineInfo(), settings, elapsedSeconds: (Date.now() - started) / 1000, ...result });
    console.log(`\nsuite ${name} took ${((Date.now() - started) / 1000).toFixed(0)} s; results in ${path.slice(repoRoot.length)}`);
  }
  return 0;
}

function printPreamble(settings) {
  const { cpus, cpuModel, node, loadavg } = machineInfo();
  console.log(`machine: ${cpus} CPUs (${cpuModel}), node ${node}, load average ${loadavg.map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`load generator: ${describeLoader(settings)}`);
  if (settings.profile) console.log('profiling: the reference proxy and Wharf processes run with --cpu-prof (test-output/bench-profiles/)');
  // Everything shares these CPUs: with few cores the loader, the proxy and the backend compete.
  if (cpus < 4) console.log(`note: only ${cpus} CPUs; load generator, proxy and backend share them, so compare ratios rather than absolute req/s`);
}

function describeLoader({ loader, connections, seconds }) {
  if (loader === 'wrk') {
    const version = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
    const name = `${version.stdout}${version.stderr}`.split('\n')[0]?.split(' [')[0] || 'wrk';
    return `${name} (-t1 -c${connections} -d${seconds}s --latency)`;
  }
  return `autocannon (child process, -c ${connections} -d ${seconds} --json; install wrk for a lighter load generator)`;
}

function usage(code) {
  console.log(`usage: node test/bench/run.js [suite…]   (suites: ${Object.keys(SUITES).join(', ')}; default core)
environment: BENCH_SECONDS (3) BENCH_ROUNDS (5) BENCH_WARMUP (1; 3× in round 1) BENCH_CONNECTIONS (50)
             BENCH_LOADER=wrk|autocannon (default: wrk when installed) BENCH_PROFILE=1 (--cpu-prof the reference proxy and Wharf)`);
  return code;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  async (err) => {
    console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    await cleanup();
    process.exitCode = 1;
  },
);
