// The `core` suite: Wharf (empty chain, stripPrefix+headers, 10,000 routers) against the backend, the reference proxy, http-proxy and nginx.
import { measureFreshRounds, printChecks, printTable, rpsRatio, standardColumns, warnIfContended, withRatios } from './lib.js';
import { origin, startBackend, startHttpProxy, startNginx, startReferenceProxy, startWharf } from './targets.js';
import { profiling } from './profile-summary.js';

export const description = 'gateway overhead: direct vs reference proxy vs http-proxy vs nginx vs Wharf (empty chain, stripPrefix+headers, 10k routers)';

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
    { name: 'wharf-10k', label: `Wharf, ${ROUTERS.toLocaleString('en')} Host routers`, dynamic: wharfConfig(backend, { extraRouters: ROUTERS }), profiled: true },
  ];
  // Every proxy is a fresh process in every round (see measureFreshRounds); the backend stays.
  const direct = { name: 'direct', label: 'backend direct', handle: backend };
  let lastRound = [];
  const startTargets = async (round) => {
    const targets = [direct];
    targets.push({ name: 'reference', label: 'reference proxy (undici)', handle: await startReferenceProxy(backend, profiled('reference')), profiled: true });
    targets.push({ name: 'http-proxy', label: 'http-proxy (keep-alive agent)', handle: await startHttpProxy(backend) });
    const nginx = await startNginx(backend, { host: HOST });
    if (nginx) targets.push({ name: 'nginx', label: 'nginx (1 worker, keepalive 64)', handle: nginx });
    if (round === 0) log(nginx ? 'nginx: installed, row included' : 'nginx: not installed, row skipped');
    for (const target of wharfTargets) {
      const started = Date.now();
      const handle = await startWharf({ name: target.name, dynamic: target.dynamic, probe: { path: PATH, headers: { host: HOST } }, ...profiled(target.name) });
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

/** One router for HOST; optionally stripPrefix+headers on it, optionally many other Host routers beside it. */
function wharfConfig(backend, { chain = false, extraRouters = 0 }) {
  const routers = {};
  for (let i = 0; i < extraRouters; i++) routers[`h${i}`] = { rule: `Host(\`h${i}.example\`)`, service: 'backend' };
  routers.bench = { rule: `Host(\`${HOST}\`)`, service: 'backend', ...(chain ? { middlewares: ['strip', 'tag'] } : {}) };
  const http = { routers, services: { backend: { loadBalancer: { servers: [{ url: origin(backend) }] } } } };
  if (chain) {
    http.middlewares = {
      strip: { stripPrefix: { prefixes: ['/api'] } },
      tag: { headers: { customRequestHeaders: { 'X-Bench': 'core' }, customResponseHeaders: { 'X-Served-By': 'wharf' } } },
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
  const p99Over = (name) => (row(name) && row('direct') ? row(name).p99 - row('direct').p99 : undefined);
  return [
    both('Wharf empty chain / reference proxy, req/s', 'wharf', 'reference', 0.9),
    both('Wharf empty chain / http-proxy, req/s', 'wharf', 'http-proxy', 1.8),
    both('Wharf stripPrefix+headers / empty chain, req/s', 'wharf-chain', 'wharf', 0.85),
    both(`Wharf ${ROUTERS} routers / one router, req/s`, 'wharf-10k', 'wharf', 0.95),
    { label: 'Wharf empty chain p99 − direct p99', measured: p99Over('wharf'), op: '<=', target: 3, unit: ' ms' },
    { label: 'Wharf stripPrefix+headers p99 − direct p99', measured: p99Over('wharf-chain'), op: '<=', target: 3, unit: ' ms' },
    { label: `Wharf ${ROUTERS} routers p99 − direct p99`, measured: p99Over('wharf-10k'), op: '<=', target: 3, unit: ' ms' },
  ];
}
