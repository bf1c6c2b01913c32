// The `udp` suite: UDP datagrams per second echoed through a Wharf UDP entrypoint, beside the same echo server
// reached directly. Each measurement is a bounded count of round trips (BENCH_UDP_PACKETS) from BENCH_UDP_CLIENTS
// client sockets (one Wharf session each) keeping BENCH_UDP_WINDOW datagrams in flight; datagrams lost on the way
// are counted after a quiet second instead of waited for.
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { benchDir, fmt, freePort, median, printTable, startProcess } from './lib.js';
import { startWharf } from './targets.js';

export const description = 'UDP packets/s through a Wharf UDP entrypoint vs the echo server directly (bounded count per round)';

const PACKETS = positive(process.env.BENCH_UDP_PACKETS, 200_000);
const CLIENTS = positive(process.env.BENCH_UDP_CLIENTS, 8);
const WINDOW = positive(process.env.BENCH_UDP_WINDOW, 16);
const PAYLOAD = Buffer.alloc(positive(process.env.BENCH_UDP_BYTES, 64), 'x');
const QUIET_MS = 1000;

function positive(raw, fallback) {
  const n = Number(raw);
  return raw !== undefined && Number.isInteger(n) && n > 0 ? n : fallback;
}

/** CPU ticks (user + system) a process has used, from /proc; undefined off Linux. */
function cpuTicks(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

async function openClients(count) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const socket = createSocket('udp4');
      socket.bind(0, '127.0.0.1');
      await once(socket, 'listening');
      return socket;
    }),
  );
}

/**
 * Sends `packets` datagrams to port in total, each client keeping `window` in flight, and resolves when every one
 * came back or the replies stopped for QUIET_MS. Returns { received, lost, seconds }.
 */
function exchange(clients, port, packets, window = WINDOW) {
  return new Promise((resolve) => {
    let sent = 0;
    let received = 0;
    let quiet;
    const started = process.hrtime.bigint();
    const finish = (lost) => {
      clearTimeout(quiet);
      for (const c of clients) c.removeAllListeners('message');
      resolve({ received, lost, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    };
    const armQuiet = () => {
      clearTimeout(quiet);
      quiet = setTimeout(() => finish(sent - received), QUIET_MS);
    };
    for (const client of clients) {
      client.on('message', () => {
        received++;
        if (received === packets) return finish(0);
        if (sent < packets) {
          sent++;
          client.send(PAYLOAD, port, '127.0.0.1');
        }
        if ((received & 1023) === 0) armQuiet();
      });
      for (let i = 0; i < window && sent < packets; i++) {
        sent++;
        client.send(PAYLOAD, port, '127.0.0.1');
      }
    }
    armQuiet();
  });
}

/** Waits until a datagram comes back through `port` (Wharf routes UDP once its file provider has loaded). */
async function routable(port, timeoutMs = 30_000) {
  const [client] = await openClients(1);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const got = await Promise.race([once(client, 'message').then(() => true), new Promise((r) => setTimeout(() => r(false), 200))]);
      if (got) return;
      if (Date.now() > deadline) throw new Error(`nothing came back through UDP port ${port} within ${timeoutMs} ms`);
      client.send('ping', port, '127.0.0.1');
    }
  } finally {
    client.close();
  }
}

async function measure(target, clients, packets) {
  const before = target.pid === undefined ? undefined : cpuTicks(target.pid);
  const result = await exchange(clients, target.port, packets);
  const after = target.pid === undefined ? undefined : cpuTicks(target.pid);
  const cpuUs = before === undefined || after === undefined ? undefined : ((after - before) * 1e6) / 100; // USER_HZ = 100 on Linux
  return { pps: result.received / result.seconds, lost: result.lost, cpuUsPerPacket: cpuUs === undefined ? undefined : cpuUs / Math.max(1, result.received) };
}

export async function run({ settings, log }) {
  const echo = await startProcess({ name: 'udp-echo', command: process.execPath, args: [`${benchDir}udp-echo.js`, '0'], readyLine: /^listening (\d+)/ });
  const udpPort = await freePort();
  const dynamic = {
    udp: { routers: { bench: { entryPoints: ['dns'], service: 'echo' } }, services: { echo: { loadBalancer: { servers: [{ address: `127.0.0.1:${echo.port}` }] } } } },
  };
  const wharf = await startWharf({ name: 'wharf-udp', dynamic, args: [`--entrypoints.dns.address=127.0.0.1:${udpPort}/udp`, '--entrypoints.dns.udp.timeout=60s'], probe: { expectStatus: 404 } });
  await routable(udpPort);
  const targets = [
    { label: 'direct (echo server)', port: echo.port, pid: undefined },
    { label: 'wharf udp entrypoint', port: udpPort, pid: wharf.pid },
  ];
  const samples = new Map(targets.map((t) => [t.label, []]));
  for (let round = 1; round <= settings.rounds; round++) {
    for (const target of targets) {
      const clients = await openClients(CLIENTS);
      await exchange(clients, target.port, Math.min(PACKETS, CLIENTS * WINDOW * 4)); // warm-up; opens the sessions
      const sample = await measure(target, clients, PACKETS);
      for (const c of clients) c.close();
      samples.get(target.label).push(sample);
      log(`  round ${round} ${target.label}: ${fmt(sample.pps, 0)} packets/s, ${sample.lost} lost`);
    }
  }
  const direct = median(samples.get(targets[0].label).map((s) => s.pps));
  const rows = targets.map((t) => {
    const list = samples.get(t.label);
    const pps = median(list.map((s) => s.pps));
    const cpu = list.every((s) => s.cpuUsPerPacket !== undefined) ? median(list.map((s) => s.cpuUsPerPacket)) : undefined;
    return { label: t.label, pps, min: Math.min(...list.map((s) => s.pps)), max: Math.max(...list.map((s) => s.pps)), ratio: pps / direct, cpuUsPerPacket: cpu, lost: list.reduce((n, s) => n + s.lost, 0) };
  });
  printTable(
    `UDP echo round trips: ${PACKETS} per round from ${CLIENTS} clients, ${WINDOW} in flight each, ${PAYLOAD.length}-byte datagrams, median of ${settings.rounds} rounds`,
    rows,
    [
      { title: 'target', value: (r) => r.label, left: true },
      { title: 'packets/s', value: (r) => fmt(r.pps, 0) },
      { title: 'min–max', value: (r) => `${fmt(r.min, 0)}–${fmt(r.max, 0)}` },
      { title: '×direct', value: (r) => fmt(r.ratio, 2) },
      { title: 'CPU µs/packet (gateway)', value: (r) => fmt(r.cpuUsPerPacket, 1) },
      { title: 'lost', value: (r) => String(r.lost) },
    ],
    log,
  );
  log('\nA round trip is two datagrams through the gateway (client → server and back); CPU is the Wharf process only.');
  await Promise.all([wharf.stop(), echo.stop()]);
  return { packets: PACKETS, clients: CLIENTS, window: WINDOW, bytes: PAYLOAD.length, rows };
}
