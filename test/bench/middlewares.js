// The `middlewares` suite: each HTTP middleware's cost per request against the empty chain, side by side in one run,
// plus what HTTP load cannot show: one cold bcrypt verification (basicAuth) and digestAuth's check, measured in-process.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { benchDir, fmt, measureFreshRounds, median, printTable, probe, runLoad, standardColumns, warnIfContended, withRatios } from './lib.js';
import { origin, startBackend, startWharf } from './targets.js';

export const description = 'middleware cost: each HTTP middleware alone on a router vs the empty chain (req/s, CPU µs/req), and one cold bcrypt verification';

const PATH = '/api/bench';
const BASELINES = { empty: 'empty' };

// basicAuth's user: a bcrypt hash at cost 10 as `htpasswd -nbB -C 10 bench wharf-bench-pw` writes it.
const BASIC_PASSWORD = 'wharf-bench-pw';
const BASIC_SECRET = '$2y$10$6QsfELQdWmulQ0a/1GhOHueuQtep5AwDXgrhVkyiolYdFs6Q5qfha';
const BASIC_AUTHORIZATION = `Basic ${Buffer.from(`bench:${BASIC_PASSWORD}`).toString('base64')}`;

/**
 * One row per middleware: `name` (the middleware type, also the router's host label), the options it gets, the request
 * headers the case needs and a label saying which path it measures. Every case must answer 200 (checked before
 * measuring), so a rejecting or redirecting middleware measures its forwarding path. Adding a middleware is one line.
 *
 * Not here: digestAuth (each request needs a nonce the server issued and a nonce count above the last one, which a load
 * generator repeating one header cannot send: its check is measured in-process below); passTLSClientCert (needs client
 * certificates, which neither wrk nor autocannon present).
 */
export const CASES = [
  { name: 'stripPrefix', options: { prefixes: ['/api'] } },
  { name: 'stripPrefixRegex', options: { regex: ['^/[a-z]+'] } },
  { name: 'addPrefix', options: { prefix: '/v1' } },
  { name: 'replacePath', options: { path: '/bench' } },
  { name: 'replacePathRegex', options: { regex: '^/api/(.*)', replacement: '/v2/$1' } },
  { name: 'redirectRegex', label: 'redirectRegex (no match, forwards)', options: { regex: '^http://www\\.(.+)', replacement: 'https://$1' } },
  { name: 'redirectScheme', label: 'redirectScheme (already http, forwards)', options: { scheme: 'http' } },
  { name: 'headers', label: 'headers (2 custom, 3 security)', options: { customRequestHeaders: { 'X-Bench': 'middlewares' }, customResponseHeaders: { 'X-Served-By': 'wharf' }, frameDeny: true, contentTypeNosniff: true, referrerPolicy: 'no-referrer' } },
  { name: 'rateLimit', label: 'rateLimit (memory, never reached)', options: { average: 10_000_000, burst: 10_000_000 } },
  { name: 'ipAllowList', options: { sourceRange: ['10.0.0.0/8', '192.168.0.0/16', '127.0.0.1/32'] } },
  { name: 'basicAuth', label: 'basicAuth (bcrypt, cached success)', options: { users: [`bench:${BASIC_SECRET}`] }, headers: { authorization: BASIC_AUTHORIZATION } },
  { name: 'inFlightReq', label: 'inFlightReq (amount above connections)', options: { amount: 100_000 } },
  { name: 'retry', label: 'retry (healthy backend)', options: { attempts: 3 } },
  { name: 'cors', type: 'headers', label: 'headers (CORS, allowed origin)', options: { accessControlAllowOriginList: ['https://app.example'], accessControlAllowMethods: ['GET'] }, headers: { origin: 'https://app.example' } },
  { name: 'chain', label: 'chain (stripPrefix + headers)', options: { middlewares: ['stripPrefix', 'headers'] } },
  { name: 'errors', label: 'errors (500-599, nothing caught)', options: { status: ['500-599'], service: 'backend', query: '/{status}' } },
  { name: 'circuitBreaker', label: 'circuitBreaker (closed)', options: { expression: 'NetworkErrorRatio() > 0.5' } },
  { name: 'contentType', label: 'contentType (type already set)', options: {} },
  { name: 'forwardAuth', label: 'forwardAuth (auth server = the backend)', options: (url) => ({ address: url }) },
  { name: 'compress', label: 'compress (gzip asked, body under minResponseBodyBytes)', options: {}, headers: { 'accept-encoding': 'gzip, br' } },
  { name: 'buffering', label: 'buffering (response held whole, no request body)', options: { maxRequestBodyBytes: 1_048_576 } },
  { name: 'grpcWeb', label: 'grpcWeb (not a gRPC-Web request, forwards)', options: { allowOrigins: ['*'] } },
];

/** One Host router per case (`<name>.bench`) and one without middlewares (`empty.bench`), all on one service. */
export function suiteConfig(backend, cases = CASES) {
  const routers = { empty: { rule: 'Host(`empty.bench`)', service: 'backend' } };
  const middlewares = {};
  for (const c of cases) {
    routers[c.name] = { rule: `Host(\`${hostOf(c)}\`)`, service: 'backend', middlewares: [c.name] };
    // `type` when a second row uses the same middleware; options may need the backend's URL (forwardAuth).
    middlewares[c.name] = { [c.type ?? c.name]: typeof c.options === 'function' ? c.options(origin(backend)) : c.options };
  }
  return { http: { routers, middlewares, services: { backend: { loadBalancer: { servers: [{ url: origin(backend) }] } } } } };
}

function hostOf(c) {
  return `${c.name.toLowerCase()}.bench`;
}

/** Runs the suite; resolves to the JSON document written to test-output/bench-middlewares.json. */
export async function run({ settings, log }) {
  const backend = await startBackend();
  const dynamic = suiteConfig(backend);
  const rows = [{ name: 'empty', label: 'empty chain', host: 'empty.bench' }, ...CASES.map((c) => ({ name: c.name, label: c.label ?? c.name, host: hostOf(c), headers: c.headers }))];
  // Every row is a router of one Wharf process, fresh each round: a process's JIT luck (up to 13 % in CPU per
  // request between two identical processes, see measureFreshRounds) then falls on every row alike.
  let wharf;
  const startRound = async (round) => {
    const started = Date.now();
    wharf = await startWharf({ name: 'wharf-middlewares', dynamic, probe: { path: PATH, headers: { host: 'empty.bench' } } });
    await expectForwarded(wharf, rows);
    if (round === 0) log(`Wharf with ${rows.length} routers: ready in ${Date.now() - started} ms, every case answers 200; each round warms every row for ${settings.warmupSeconds}s first`);
    await warmEveryRow(wharf, rows, settings);
    return rows.map((r) => ({ ...r, handle: wharf, path: PATH }));
  };
  const stopRound = () => wharf.stop(20_000);

  log(`\nmeasuring ${rows.length} rows × ${settings.rounds} rounds, one fresh Wharf per round (${settings.warmupSeconds * 3}s warm-up + ${settings.seconds}s each, ${settings.connections} connections)`);
  const measured = await measureFreshRounds(startRound, settings, { alsoRunning: [backend.pid], log, stop: stopRound });
  const table = withCpuOverhead(withRatios(measured, BASELINES), 'empty');
  const columns = standardColumns(BASELINES);
  columns.splice(columns.findIndex((c) => c.title === 'CPU µs/req') + 1, 0, { title: '+CPU µs/req', value: (r) => (r.name === 'empty' ? '' : fmt(r.cpuOverUs, 1)) });
  printTable(`middlewares: median of ${settings.rounds} rounds, ${settings.seconds}s each, ${settings.connections} connections, loader ${settings.loader}`, table, columns, log);
  const otherLoad = warnIfContended(table, log);
  for (const r of table) if (r.errors + r.non2xx > 0) log(`  note: ${r.label}: ${r.errors} errors, ${r.non2xx} non-2xx (a limit reached? the row's figures are not a forwarding path)`);

  log('\nmeasured in one process (test/bench/verification-cost.js), not over HTTP:');
  const verification = await measureVerifications(settings, log);
  return { request: { path: PATH, hosts: Object.fromEntries(rows.map((r) => [r.name, r.host])) }, cases: CASES, otherLoad, rows: table, verification };
}

/** Fails the run before measuring when a case does not forward: a 401, 403 or redirect would be timed instead. */
async function expectForwarded(wharf, rows) {
  for (const r of rows) {
    const status = await probe(wharf.port, PATH, { host: r.host, ...r.headers });
    if (status !== 200) throw new Error(`middlewares: the ${r.label} row answered ${status}, not 200; fix its options in CASES (test/bench/middlewares.js)`);
  }
}

/**
 * Load on every row before any is measured: the code all rows share (routing, proxying) settles on the shapes every
 * middleware gives it, so the row measured first in a fresh process is not measured on a JIT state the others never see.
 */
async function warmEveryRow(wharf, rows, settings) {
  for (const r of rows) {
    await runLoad({ loader: settings.loader, port: wharf.port, path: PATH, host: r.host, headers: r.headers, connections: settings.connections, seconds: settings.warmupSeconds });
  }
}

/** CPU µs per request above the baseline row: the median of the per-round differences, as rpsRatio does for req/s. */
function withCpuOverhead(rows, baseline) {
  const base = rows.find((r) => r.name === baseline);
  return rows.map((r) => {
    const pairs = r.samples.map((s, i) => [s.cpuUsPerRequest, base.samples[i]?.cpuUsPerRequest]);
    const known = pairs.every(([a, b]) => a !== undefined && b !== undefined);
    return { ...r, cpuOverUs: known && pairs.length > 0 ? median(pairs.map(([a, b]) => a - b)) : undefined };
  });
}

const execFileAsync = promisify(execFile);

/** basicAuth's cold verification, digestAuth's check and passTLSClientCert's headers, in a child process bounded by BENCH_SECONDS per measurement. */
async function measureVerifications(settings, log) {
  const script = join(benchDir, 'verification-cost.js');
  // Four measurements of at most `seconds` each (bcrypt's are bounded by count too), plus start-up.
  const { stdout } = await execFileAsync(process.execPath, [script, String(settings.seconds), BASIC_SECRET, BASIC_PASSWORD], { timeout: (settings.seconds * 4 + 60) * 1000 });
  const line = stdout.split('\n').find((l) => l.startsWith('COST_JSON '));
  if (!line) throw new Error(`verification-cost.js printed no result:\n${stdout}`);
  const cost = JSON.parse(line.slice('COST_JSON '.length));
  const us = (v) => `${fmt(v, 0)} µs`;
  log(`  basicAuth cold: one bcrypt verification (cost ${cost.bcryptCost}) in the plugin's worker thread: ${us(cost.worker.cpuUs)} CPU, ${us(cost.worker.wallUs)} wall, ${us(cost.worker.eventLoopUs)} of event-loop time (mean of ${cost.worker.checks} in a row)`);
  log(`  the same verification on the event loop (bcryptjs inline, what offloading avoids): ${us(cost.inline.eventLoopUs)} of event-loop time, ${us(cost.inline.cpuUs)} CPU (mean of ${cost.inline.checks})`);
  log(`  basicAuth warm: the cached-success path is the basicAuth row above (one verification per header per minute, the cache's lifetime)`);
  log(`  digestAuth: one check of a valid header (parse, digests, nonce count): ${fmt(cost.digest.eventLoopUs, 1)} µs of event-loop time (mean of ${cost.digest.checks})`);
  log(`  passTLSClientCert (pem and every info field, client chain of 2), µs of event-loop time: a connection's first request ${fmt(cost.clientCert.first.eventLoopUs, 1)} (reads and parses the chain; mean of ${cost.clientCert.first.checks}), every later request ${fmt(cost.clientCert.next.eventLoopUs, 1)} (mean of ${cost.clientCert.next.checks})`);
  return cost;
}
