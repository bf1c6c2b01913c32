// TCP throughput (MiB/s) through a Wharf TCP router (HostSNI(`*`), non-TLS) against a direct connection to the same
// sink, and nginx's stream module when it is installed. One connection per measurement: the client writes
// BENCH_TCP_MIB MiB as fast as the socket takes them, half-closes, and the sink answers with the byte count it read.
// `npm run bench -- tcp`, or alone: `BENCH_TCP_MIB=1 BENCH_ROUNDS=1 node test/bench/tcp.js` (a tiny run).
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { cleanup, commandExists, fmt, freePort, median, printTable, settingsFromEnv, sleep, startProcess, tempDir } from './lib.js';
import { startWharf } from './targets.js';

export const description = 'TCP throughput in MiB/s: direct, through Wharf (non-TLS TCP router) and nginx stream';

const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const READY = 'ready\n';

/** The sink: says `ready`, reads everything, and on the client's half-close answers the byte count and closes. */
async function startSink() {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    let bytes = 0;
    socket.write(READY);
    socket.on('data', (chunk) => (bytes += chunk.length));
    socket.on('end', () => socket.end(`${bytes}\n`));
    socket.on('error', () => socket.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, close: () => new Promise((r) => server.close(r)) };
}

/** One transfer of `bytes` through `port`: resolves to seconds from the first byte written to the sink's count. */
function transfer(port, bytes) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let received = '';
    let started = 0n;
    let sent = 0;
    const write = () => {
      while (sent < bytes) {
        const chunk = bytes - sent >= CHUNK.length ? CHUNK : CHUNK.subarray(0, bytes - sent);
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', write);
      }
      socket.end();
    };
    socket.on('data', (chunk) => {
      received += chunk.toString();
      if (started === 0n && received.startsWith(READY)) {
        received = received.slice(READY.length);
        started = process.hrtime.bigint();
        write();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const count = Number(received.trim());
      if (count !== bytes) return reject(new Error(`the sink read ${received.trim() || 'nothing'} bytes of ${bytes}`));
      resolve(Number(process.hrtime.bigint() - started) / 1e9);
    });
  });
}

/** Waits until a connection through `port` reaches the sink (the router is loaded). */
async function reachable(port, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await transfer(port, 1);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`port ${port} does not reach the sink: ${err.message}`, { cause: err });
      await sleep(100);
    }
  }
}

async function startWharfTCP(sink) {
  const tcpPort = await freePort();
  const handle = await startWharf({
    name: 'wharf-tcp',
    dynamic: {
      tcp: {
        routers: { sink: { entryPoints: ['tcp'], rule: 'HostSNI(`*`)', service: 'sink' } },
        services: { sink: { loadBalancer: { servers: [{ address: `127.0.0.1:${sink.port}` }] } } },
      },
    },
    args: [`--entrypoints.tcp.address=127.0.0.1:${tcpPort}`, '--ping=true', '--ping.entryPoint=web'],
    probe: { path: '/ping' },
  });
  await reachable(tcpPort);
  return { name: 'wharf', port: tcpPort, handle };
}

/** nginx with the stream module, or why not. */
async function startNginxStream(sink) {
  if (!commandExists('nginx')) return 'nginx is not installed';
  const version = spawnSync('nginx', ['-V'], { encoding: 'utf8' }).stderr;
  let loadModule = '';
  if (version.includes('--with-stream=dynamic')) {
    const module = ['/usr/lib/nginx/modules/ngx_stream_module.so', '/usr/share/nginx/modules/ngx_stream_module.so'].find((p) => existsSync(p));
    if (!module) return 'nginx has the stream module as a dynamic module that is not installed (apt-get install -y libnginx-mod-stream)';
    loadModule = `load_module ${module};\n`;
  } else if (!version.includes('--with-stream')) return 'nginx was built without the stream module';
  const dir = tempDir('nginx-stream');
  const [port, probePort] = [await freePort(), await freePort()];
  const conf = join(dir, 'nginx.conf');
  // The http block only answers the readiness probe (nginx prints nothing when it is ready).
  writeFileSync(
    conf,
    `${loadModule}worker_processes 1;\npid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'error.log')};\nevents {}\n` +
      // proxy_half_close (nginx ≥ 1.21.4): the transfer half-closes and waits for the sink's count, as Wharf relays it.
      `stream {\n  server {\n    listen 127.0.0.1:${port};\n    proxy_pass 127.0.0.1:${sink.port};\n    proxy_half_close on;\n  }\n}\n` +
      `http {\n  access_log off;\n  server {\n    listen 127.0.0.1:${probePort};\n    return 200;\n  }\n}\n`,
  );
  const handle = await startProcess({ name: 'nginx-stream', command: 'nginx', args: ['-p', dir, '-c', conf, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], port: probePort, readyProbe: {} });
  await reachable(port);
  return { name: 'nginx stream', port, handle };
}

export async function run({ settings = settingsFromEnv(), log = console.log } = {}) {
  const mib = Number(process.env.BENCH_TCP_MIB ?? 256);
  const bytes = Math.max(1, Math.round(mib * 1024 * 1024));
  const sink = await startSink();
  try {
    const targets = [{ name: 'direct', port: sink.port }, await startWharfTCP(sink)];
    const nginx = await startNginxStream(sink).catch((err) => `nginx stream did not start: ${err.message}`);
    if (typeof nginx === 'string') log(`nginx stream left out: ${nginx}`);
    else targets.push(nginx);
    const seconds = new Map(targets.map((t) => [t.name, []]));
    for (let round = 0; round < settings.rounds; round++) {
      // Interleaved: each round measures every target back to back, so machine drift hits them alike.
      for (const target of targets) seconds.get(target.name).push(await transfer(target.port, bytes));
    }
    const rows = targets.map((t) => {
      const rates = seconds.get(t.name).map((s) => bytes / 1024 / 1024 / s);
      return { target: t.name, mibPerSecond: median(rates), min: Math.min(...rates), max: Math.max(...rates) };
    });
    const direct = rows[0].mibPerSecond;
    for (const row of rows) row.ofDirect = row.mibPerSecond / direct;
    printTable(`TCP throughput, ${mib} MiB per transfer, ${settings.rounds} rounds (median)`, rows, [
      { title: 'target', value: (r) => r.target, left: true },
      { title: 'MiB/s', value: (r) => fmt(r.mibPerSecond, 0) },
      { title: 'min–max', value: (r) => `${fmt(r.min, 0)}–${fmt(r.max, 0)}` },
      { title: 'of direct', value: (r) => fmt(r.ofDirect, 2) },
    ], log);
    return { mibPerTransfer: mib, rows };
  } finally {
    await sink.close();
  }
}

// Run alone: `node test/bench/tcp.js`.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run()
    .then(() => cleanup())
    .then(() => process.exit(0), (err) => {
      console.error(err);
      void cleanup().then(() => process.exit(1));
    });
}
