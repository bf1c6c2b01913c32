// The `hardening` suite: memory per idle keep-alive connection at 5,000 connections, and p99 of normal traffic
// while 200 slow-header (slowloris) connections are held open — each beside the same figure with no attack.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { fmt, printTable, runLoad, sleep } from './lib.js';
import { startBackend, startWharf } from './targets.js';

export const description = 'hostile clients: memory per idle connection (5,000), p99 with 200 slow-header connections held open';

const IDLE_CONNECTIONS = Number(process.env.BENCH_IDLE_CONNECTIONS ?? 5000);
const SLOW_CONNECTIONS = 200;

/** Resident memory of a process in KiB, from /proc. */
function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/** Opens `count` keep-alive connections that each make one request and then stay idle. */
async function openIdle(port, count) {
  const sockets = [];
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, () => oneIdle(port));
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

function oneIdle(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /bench HTTP/1.1\r\nHost: bench.example\r\n\r\n'));
    socket.once('data', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Slowloris: connections that send a partial head and then one more header line every second. */
function openSlow(port, count) {
  const sockets = Array.from({ length: count }, () => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /bench HTTP/1.1\r\nHost: bench.example\r\n'));
    socket.on('error', () => undefined);
    return socket;
  });
  const drip = setInterval(() => {
    for (const s of sockets) if (s.writable) s.write('X-Slow: 1\r\n');
  }, 1000);
  return { sockets, stop: () => (clearInterval(drip), sockets.forEach((s) => s.destroy())) };
}

export async function run({ settings, log }) {
  const backend = await startBackend();
  const dynamic = {
    http: {
      routers: { bench: { rule: 'Host(`bench.example`)', service: 'b' } },
      services: { b: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${backend.port}` }] } } },
    },
  };
  // readTimeout 60s (the default): slow clients stay for the whole measurement, as an attacker's would.
  const wharf = await startWharf({ name: 'wharf', dynamic, probe: { path: '/bench', headers: { host: 'bench.example' } } });
  const load = { loader: settings.loader, port: wharf.port, path: '/bench', host: 'bench.example', connections: settings.connections, seconds: settings.seconds };

  await runLoad({ ...load, seconds: settings.warmupSeconds * 3 });
  await sleep(500);
  const rssBefore = rssKiB(wharf.pid);
  const idle = await openIdle(wharf.port, IDLE_CONNECTIONS);
  await sleep(1000);
  const rssIdle = rssKiB(wharf.pid);
  const withIdle = await runLoad(load);
  idle.forEach((s) => s.destroy());
  const perConnection = ((rssIdle - rssBefore) * 1024) / IDLE_CONNECTIONS;
  log(`idle connections: ${IDLE_CONNECTIONS}, RSS ${fmt(rssBefore / 1024, 1)} → ${fmt(rssIdle / 1024, 1)} MiB, ${fmt(perConnection / 1024, 2)} KiB each; ${fmt(withIdle.rps, 0)} req/s served meanwhile (${withIdle.errors} errors)`);

  await sleep(1000);
  const rows = [];
  for (let round = 0; round < settings.rounds; round++) {
    const calm = await runLoad(load);
    const slow = openSlow(wharf.port, SLOW_CONNECTIONS);
    await sleep(500);
    const attacked = await runLoad(load);
    slow.stop();
    rows.push({ calm, attacked });
    log(`  round ${round + 1}: no attack p99 ${fmt(calm.p99, 2)} ms (${fmt(calm.rps, 0)} req/s) | ${SLOW_CONNECTIONS} slow-header connections p99 ${fmt(attacked.p99, 2)} ms (${fmt(attacked.rps, 0)} req/s, ${attacked.errors} errors)`);
  }
  const med = (pick) => pick(rows).sort((a, b) => a - b)[rows.length >> 1];
  const summary = [
    { label: 'no attack', rps: med((r) => r.map((x) => x.calm.rps)), p50: med((r) => r.map((x) => x.calm.p50)), p99: med((r) => r.map((x) => x.calm.p99)) },
    { label: `${SLOW_CONNECTIONS} slow-header connections held`, rps: med((r) => r.map((x) => x.attacked.rps)), p50: med((r) => r.map((x) => x.attacked.p50)), p99: med((r) => r.map((x) => x.attacked.p99)) },
  ];
  printTable('normal traffic through Wharf (median of rounds)', summary, [
    { title: 'condition', value: (r) => r.label, left: true },
    { title: 'req/s', value: (r) => fmt(r.rps, 0) },
    { title: 'p50 ms', value: (r) => fmt(r.p50, 2) },
    { title: 'p99 ms', value: (r) => fmt(r.p99, 2) },
  ]);
  printTable('memory per idle keep-alive connection', [{ label: `${IDLE_CONNECTIONS} idle connections`, before: rssBefore, after: rssIdle, each: perConnection }], [
    { title: 'condition', value: (r) => r.label, left: true },
    { title: 'RSS before MiB', value: (r) => fmt(r.before / 1024, 1) },
    { title: 'RSS with idle MiB', value: (r) => fmt(r.after / 1024, 1) },
    { title: 'KiB / connection', value: (r) => fmt(r.each / 1024, 2) },
  ]);
  return { idle: { connections: IDLE_CONNECTIONS, rssBeforeKiB: rssBefore, rssIdleKiB: rssIdle, bytesPerConnection: perConnection, servedMeanwhile: withIdle }, slowHeaders: { connections: SLOW_CONNECTIONS, rounds: rows, summary } };
}
