// The `compress` suite: throughput in MiB/s (of the original body) for a 100 KiB JSON answer compressed by Wharf's
// compress middleware at its default gzip level and by nginx's gzip at the same level, in the same run; Wharf with
// brotli and without compression beside them. 127.0.0.1 only, every load run bounded in time.
import { join } from 'node:path';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { benchDir, commandExists, fmt, freePort, measureRounds, printTable, startProcess, tempDir, warnIfContended } from './lib.js';
import { origin, startWharf } from './targets.js';
import { jsonBody } from './compress-backend.js';
import { GZIP_LEVEL, BROTLI_QUALITY } from '@wharf/plugin-compress';

export const description = `compress: MiB/s of a 100 KiB JSON body, Wharf gzip ${GZIP_LEVEL} vs nginx gzip_comp_level ${GZIP_LEVEL} (and Wharf br ${BROTLI_QUALITY}, no compression)`;

const PATH = '/api/items';
const BODY_BYTES = jsonBody().length;

function startJsonBackend() {
  return startProcess({ name: 'json backend', command: process.execPath, args: [join(benchDir, 'compress-backend.js'), '0'], readyLine: /^listening (\d+)$/ });
}

/** nginx as a keep-alive reverse proxy with gzip at `level` for JSON; undefined when nginx is not installed. */
async function startNginxGzip(backend, level) {
  if (!commandExists('nginx')) return undefined;
  const dir = tempDir('nginx-gzip');
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `# Written by test/bench/compress.js: one worker, like one Node process; gzip as Wharf's compress does it.
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  keepalive_requests 1000000;
  gzip on;
  gzip_comp_level ${level};
  gzip_min_length 1024;
  gzip_types application/json;
  gzip_proxied any;
  gzip_vary on;
  upstream backend {
    server 127.0.0.1:${backend.port};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
  }
}
`,
  );
  return startProcess({ name: 'nginx-gzip', command: 'nginx', args: ['-p', dir, '-c', conf, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], port, readyProbe: { path: PATH } });
}

function wharfConfig(backend, compress) {
  return {
    http: {
      routers: { bench: { rule: `PathPrefix(\`${PATH}\`)`, service: 'backend', ...(compress ? { middlewares: ['squeeze'] } : {}) } },
      ...(compress ? { middlewares: { squeeze: { compress } } } : {}),
      services: { backend: { loadBalancer: { servers: [{ url: origin(backend) }] } } },
    },
  };
}

/** One request: the Content-Encoding answered and the size of the body on the wire. */
function sizeOnWire(port, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: PATH, headers, agent: false, timeout: 5000 }, (res) => {
      let bytes = 0;
      res.on('data', (c) => (bytes += c.length));
      res.on('end', () => resolve({ encoding: res.headers['content-encoding'] ?? 'identity', bytes }));
    });
    req.on('timeout', () => req.destroy(new Error('size probe timed out')));
    req.on('error', reject);
  });
}

export async function run({ settings, log }) {
  const backend = await startJsonBackend();
  const gzip = { 'accept-encoding': 'gzip' };
  const targets = [
    { name: 'wharf-gzip', label: `Wharf compress, gzip ${GZIP_LEVEL}`, handle: await startWharf({ name: 'wharf-gzip', dynamic: wharfConfig(backend, { encodings: ['gzip'] }), probe: { path: PATH } }), headers: gzip },
    { name: 'wharf-br', label: `Wharf compress, br ${BROTLI_QUALITY}`, handle: await startWharf({ name: 'wharf-br', dynamic: wharfConfig(backend, {}), probe: { path: PATH } }), headers: { 'accept-encoding': 'br' } },
    { name: 'wharf-plain', label: 'Wharf, no compress', handle: await startWharf({ name: 'wharf-plain', dynamic: wharfConfig(backend), probe: { path: PATH } }), headers: gzip },
  ];
  const nginx = await startNginxGzip(backend, GZIP_LEVEL);
  if (nginx) targets.push({ name: 'nginx-gzip', label: `nginx gzip_comp_level ${GZIP_LEVEL}`, handle: nginx, headers: gzip });
  else log('nginx not installed: its row is skipped (apt-get install -y nginx)');
  for (const t of targets) {
    t.wire = await sizeOnWire(t.handle.port, t.headers);
    log(`${t.label}: ${t.wire.encoding}, ${t.wire.bytes} bytes on the wire for ${BODY_BYTES} (${fmt((t.wire.bytes / BODY_BYTES) * 100, 1)} %)`);
  }
  const measured = await measureRounds(
    targets.map((t) => ({ name: t.name, label: t.label, port: t.handle.port, pid: t.handle.pid, path: PATH, headers: t.headers })),
    settings,
    { alsoRunning: [backend.pid], log },
  );
  const rows = measured.map((m) => {
    const target = targets.find((t) => t.name === m.name);
    return { ...m, encoding: target.wire.encoding, wireBytes: target.wire.bytes, mibPerSecond: (m.rps * BODY_BYTES) / 2 ** 20, cpuUsPerKiB: m.cpuUsPerRequest === undefined ? undefined : m.cpuUsPerRequest / (BODY_BYTES / 1024) };
  });
  const nginxRow = rows.find((r) => r.name === 'nginx-gzip');
  printTable(
    `compress: ${BODY_BYTES} bytes of JSON per answer, median of ${settings.rounds} rounds, ${settings.seconds}s each, ${settings.connections} connections, loader ${settings.loader}`,
    rows,
    [
      { title: 'target', value: (r) => r.label, left: true },
      { title: 'encoding', value: (r) => r.encoding, left: true },
      { title: 'wire %', value: (r) => fmt((r.wireBytes / BODY_BYTES) * 100, 1) },
      { title: 'req/s', value: (r) => fmt(r.rps, 0) },
      { title: 'MiB/s', value: (r) => fmt(r.mibPerSecond, 1) },
      { title: '×nginx', value: (r) => (nginxRow ? fmt(r.mibPerSecond / nginxRow.mibPerSecond, 2) : 'n/a') },
      { title: 'CPU µs/req', value: (r) => fmt(r.cpuUsPerRequest, 0) },
      { title: 'CPU µs/KiB', value: (r) => fmt(r.cpuUsPerKiB, 2) },
      { title: 'p99 ms', value: (r) => fmt(r.p99, 2) },
      { title: 'errors', value: (r) => String(r.errors + r.non2xx) },
    ],
    log,
  );
  log('MiB/s counts the original (uncompressed) body; CPU is the proxy process alone (the backend is not counted).');
  warnIfContended(rows, log);
  return { request: { path: PATH, bodyBytes: BODY_BYTES, gzipLevel: GZIP_LEVEL, brotliQuality: BROTLI_QUALITY }, rows, nginx: Boolean(nginx) };
}
