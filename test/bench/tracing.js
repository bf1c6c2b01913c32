// The `tracing` suite: Wharf without tracing vs tracing at sampleRate 0.01 and 1 (and 1 with detailed spans), same
// route, middleware and backend, in one run; spans go over OTLP/HTTP to the test collector, which answers at once.
import { measureFreshRounds, printChecks, printTable, rpsRatio, standardColumns, warnIfContended, withRatios } from './lib.js';
import { origin, startBackend, startWharf } from './targets.js';
import { profiling } from './profile-summary.js';
import { startOtlpReceiver } from '@wharf/test-helpers';

export const description = 'tracing cost: Wharf without tracing vs sampleRate 0.01 vs 1 (minimal) vs 1 (detailed), spans exported over OTLP/HTTP';

const PATH = '/bench';
const BASELINES = { off: 'off' };

/** Runs the suite; resolves to the JSON document written to test-output/bench-tracing.json. */
export async function run({ settings, log }) {
  const backend = await startBackend();
  // Counts exports and bytes, decodes nothing: the bench process should spend its CPU on the load.
  const collector = await startOtlpReceiver({ discard: true });
  // One middleware, so detailed tracing has a middleware span to make.
  const dynamic = {
    http: {
      routers: { bench: { rule: `PathPrefix(\`${PATH}\`)`, service: 'backend', middlewares: ['tag'] } },
      middlewares: { tag: { headers: { customRequestHeaders: { 'X-Bench': '1' } } } },
      services: { backend: { loadBalancer: { servers: [{ url: origin(backend) }] } } },
    },
  };
  const tracing = (rate, verbosity = 'minimal') => [
    `--tracing.sampleRate=${rate}`,
    `--tracing.otlp.http.endpoint=${collector.url}`,
    `--entrypoints.web.observability.traceVerbosity=${verbosity}`,
  ];
  const variants = [
    { name: 'off', label: 'Wharf, no tracing', args: [] },
    { name: 'rate-0.01', label: 'Wharf, tracing sampleRate 0.01', args: tracing(0.01) },
    { name: 'rate-1', label: 'Wharf, tracing sampleRate 1', args: tracing(1) },
    { name: 'rate-1-detailed', label: 'Wharf, tracing sampleRate 1, detailed', args: tracing(1, 'detailed') },
  ];
  const profile = profiling(settings, 'tracing');
  const startVariants = async (round) => {
    for (const v of variants) v.handle = await startWharf({ name: v.name, dynamic, probe: { path: PATH }, args: v.args, ...profile.nodeArgs(v.name) });
    if (round === 0) log(`${variants.map((v) => v.label).join(', ')}: ready (fresh processes every round)`);
    return variants.map((t) => ({ ...t, path: PATH }));
  };
  log(`\nmeasuring ${settings.rounds} rounds (${settings.warmupSeconds * 3}s warm-up + ${settings.seconds}s each, ${settings.connections} connections)`);
  try {
    const measured = await measureFreshRounds(startVariants, settings, { alsoRunning: [backend.pid], log });
    const rows = withRatios(measured, BASELINES);
    printTable(`tracing: median of ${settings.rounds} rounds, ${settings.seconds}s each, ${settings.connections} connections, loader ${settings.loader}`, rows, standardColumns(BASELINES), log);
    const otherLoad = warnIfContended(rows, log);
    const profiles = await profile.stopAndSummarise(variants, rows, log);
    const row = (name) => rows.find((r) => r.name === name);
    const byCpu = (name) => (row(name)?.cpuUsPerRequest && row('off')?.cpuUsPerRequest ? row('off').cpuUsPerRequest / row(name).cpuUsPerRequest : undefined);
    log(`collector: ${collector.counts.exports} exports, ${collector.counts.bytes} bytes`);
    const checks = printChecks(
      [
        { label: 'tracing 0.01 / no tracing, req/s', measured: rpsRatio(row('rate-0.01'), row('off')), op: '>=', target: 0.9, byCpu: byCpu('rate-0.01') },
        { label: 'tracing 1 / no tracing, req/s', measured: rpsRatio(row('rate-1'), row('off')), op: '>=', target: 0.7, byCpu: byCpu('rate-1') },
        { label: 'tracing 1 detailed / no tracing, req/s', measured: rpsRatio(row('rate-1-detailed'), row('off')), op: '>=', target: 0.6, byCpu: byCpu('rate-1-detailed') },
        { label: 'OTLP exports received', measured: collector.counts.exports, op: '>=', target: 1, unit: '', digits: 0 },
      ],
      log,
    );
    return { request: { path: PATH }, rows, checks, otherLoad, profiles, collector: collector.counts };
  } finally {
    await collector.close();
  }
}
