// The `core` suite: Wharf (empty chain, stripPrefix+headers, the full chain users run, 10,000 routers) against the backend,
// the reference proxy, @fastify/http-proxy, http-proxy and nginx.
import { join } from 'node:path';
import { measureFreshRounds, printChecks, printTable, rpsRatio, standardColumns, warnIfContended, withRatios } from './lib.js';
import { origin, startBackend, startFastifyProxy, startHttpProxy, startNginx, startReferenceProxy, startWharf } from './targets.js';
import { profiling } from './profile-summary.js';

export const description = 'gateway overhead: direct vs reference proxy vs @fastify/http-proxy vs http-proxy vs nginx vs Wharf (empty chain, stripPrefix+headers, full chain, 10k routers)';

// Every target gets the same request, so differences are the proxies' own.
const HOST = 'bench.example';
const PATH = '/api/bench';
const ROUTERS = 10_000;
const BASELINES = { direct: 'direct', reference: 'reference' };

/** Runs the suite; resolves to the JSON document written to test-output/bench-core.json. */
export async function run({ settings, log }) {
  const backend = await startBackend();
  // With BENCH_PROFILE the reference proxy is profiled too: its profile is the floor to read Wharf's against.
  const profile = profiling(settings, 'core');
  const profiled = profile.nodeArgs;
  const wharfTargets = [
    { name: 'wharf', label: 'Wharf, empty chain', dynamic: wharfConfig(backend, {}), profiled: true },
    { name: 'wharf-chain', label: 'Wharf, stripPrefix+headers', dynamic: wharfConfig(backend, { chain: true }), profiled: true },
    // What users run: the chain above plus a rate limit that is never reached and a JSON access log written into
    // the folder of the watched configuration file.
    {
      name: 'wharf-full',
      label: 'Wharf, full chain (+rateLimit, json access log)',
      dynamic: wharfConfig(backend, { chain: true, rateLimit: true }),
      watch: true,
      args: (dir) => [`--accessLog.filePath=${join(dir, 'access.log')}`, '--accessLog.format=json'],
      profiled: true,
    },
    { name: 'wharf-10k', label: `Wharf, ${ROUTERS.toLocaleString('en')} Host routers`, dynamic: wharfConfig(backend, { extraRouters: ROUTERS }), profiled: true },
  ];
  // Every proxy is a fresh process in every round (see measureFreshRounds); the backend stays.
  const direct = { name: 'direct', label: 'backend direct', handle: backend };
  let lastRound = [];
  const startTargets = async (round) => {
    const targets = [direct];
    targets.push({ name: 'reference', label: 'reference proxy (undici)', handle: await startReferenceProxy(backend, profiled('reference')), profiled: true });
    targets.push({ name: 'fastify', label: '@fastify/http-proxy (undici)', handle: await startFastifyProxy(backend) });
    targets.push({ name: 'http-proxy', label: 'http-proxy (keep-alive agent)', handle: await startHttpProxy(backend) });
    const nginx = await startNginx(backend, { host: HOST });
    if (nginx) targets.push({ name: 'nginx', label: 'nginx (1 worker, keepalive 64)', handle: nginx });
    if (round === 0) log(nginx ? 'nginx: installed, row included' : 'nginx: not installed, row skipped');
    for (const target of wharfTargets) {
      const started = Date.now();
      const { name, dynamic, watch, args } = target;
      const handle = await startWharf({ name, dynamic, watch, args, probe: { path: PATH, headers: { host: HOST } }, ...profiled(name) });
      if (round === 0) log(`${target.label}: ready in ${Date.now() - started} ms`);
      targets.push({ ...target, handle });
    }
    lastRound = targets;
    return targets.map((t) => ({ ...t, path: PATH, host: HOST }));
  };
  const stopProxies = async (targets) => {
    for (const t of targets) if (t.handle !== backend) await t.handle.stop(20_000);
  };

  log(`\nmeasuring ${settings.rounds} rounds, fresh proxy processes each (${settings.warmupSeconds * 3}s warm-up + ${settings.seconds}s each, ${settings.connections} connections)`);
  const measured = await measureFreshRounds(startTargets, settings, { alsoRunning: [backend.pid], log, stop: stopProxies });
  const rows = withRatios(measured, BASELINES);
  printTable(`core: median of ${settings.rounds} rounds, ${settings.seconds}s each, ${settings.connections} connections, loader ${settings.loader}`, rows, standardColumns(BASELINES), log);
  const checks = printChecks(coreChecks(rows), log);
  const otherLoad = warnIfContended(rows, log);

  const profiles = await profile.stopAndSummarise(lastRound.filter((t) => t.profiled), rows, log);
  return { request: { host: HOST, path: PATH }, otherLoad, rows, checks, profiles };
}

/** One router for HOST; optionally stripPrefix+headers (+rateLimit) on it, optionally many other Host routers beside it. */
function wharfConfig(backend, { chain = false, rateLimit = false, extraRouters = 0 }) {
  const routers = {};
  for (let i = 0; i < extraRouters; i++) routers[`h${i}`] = { rule: `Host(\`h${i}.example\`)`, service: 'backend' };
  const middlewares = chain ? ['strip', 'tag', ...(rateLimit ? ['limit'] : [])] : [];
  routers.bench = { rule: `Host(\`${HOST}\`)`, service: 'backend', ...(chain ? { middlewares } : {}) };
  const http = { routers, services: { backend: { loadBalancer: { servers: [{ url: origin(backend) }] } } } };
  if (chain) {
    http.middlewares = {
      strip: { stripPrefix: { prefixes: ['/api'] } },
      tag: { headers: { customRequestHeaders: { 'X-Bench': 'core' }, customResponseHeaders: { 'X-Served-By': 'wharf' } } },
      // Memory store, a limit the bench never reaches.
      ...(rateLimit ? { limit: { rateLimit: { average: 10_000_000, burst: 10_000_000 } } } : {}),
    };
  }
  return { http };
}

/** The targets, as measured ratios against their goals. */
function coreChecks(rows) {
  const row = (name) => rows.find((r) => r.name === name);
  const ratio = (a, b) => rpsRatio(row(a), row(b));
  // The same comparison by CPU time per request (b's ÷ a's), which other load on the machine disturbs far less.
  const cpuRatio = (a, b) => (row(a)?.cpuUsPerRequest && row(b)?.cpuUsPerRequest ? row(b).cpuUsPerRequest / row(a).cpuUsPerRequest : undefined);
  const both = (label, a, b, target) => ({ label, measured: ratio(a, b), byCpu: cpuRatio(a, b), op: '>=', target });
  const p99Over = (name, base) => (row(name) && row(base) ? row(name).p99 - row(base).p99 : undefined);
  const cpuOver = (a, b) => (row(a)?.cpuUsPerRequest && row(b)?.cpuUsPerRequest ? row(a).cpuUsPerRequest / row(b).cpuUsPerRequest : undefined);
  return [
    { label: 'Wharf empty chain CPU/request ÷ reference proxy CPU/request', measured: cpuOver('wharf', 'reference'), op: '<=', target: 1.05 },
    both('Wharf empty chain / reference proxy, req/s', 'wharf', 'reference', 0.95),
    both('Wharf empty chain / @fastify/http-proxy, req/s', 'wharf', 'fastify', 1),
    both('Wharf empty chain / http-proxy, req/s', 'wharf', 'http-proxy', 1.8),
    both('Wharf stripPrefix+headers / empty chain, req/s', 'wharf-chain', 'wharf', 0.85),
    both('Wharf full chain / empty chain, req/s', 'wharf-full', 'wharf', 0.75),
    both(`Wharf ${ROUTERS} routers / one router, req/s`, 'wharf-10k', 'wharf', 0.95),
    { label: 'Wharf empty chain p99 − reference proxy p99', measured: p99Over('wharf', 'reference'), op: '<=', target: 1, unit: ' ms' },
    { label: 'Wharf empty chain p99 − direct p99', measured: p99Over('wharf', 'direct'), op: '<=', target: 3, unit: ' ms' },
    { label: `Wharf ${ROUTERS} routers p99 − direct p99`, measured: p99Over('wharf-10k', 'direct'), op: '<=', target: 3, unit: ' ms' },
  ];
}
