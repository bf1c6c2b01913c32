// Benchmark targets each suite can start: the backend, the baseline proxies (reference, http-proxy, nginx) and Wharf from a config.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchDir, commandExists, freePort, repoRoot, startProcess, tempDir } from './lib.js';

const LISTENING = /^listening (\d+)$/;
const wharfBin = join(repoRoot, 'wharf', 'bin', 'wharf.js');

/** The small node:http origin every target forwards to (or that is measured directly). */
export function startBackend() {
  return startProcess({ name: 'backend', command: process.execPath, args: [join(benchDir, 'backend.js'), '0'], readyLine: LISTENING });
}

/** test/bench/reference-proxy.js: node:http + undici Pool, the floor Wharf is compared with. */
export function startReferenceProxy(backend, { nodeArgs = [] } = {}) {
  return startProcess({
    name: 'reference proxy',
    command: process.execPath,
    args: [...nodeArgs, join(benchDir, 'reference-proxy.js'), '0', origin(backend)],
    readyLine: LISTENING,
  });
}

/** http-proxy with a keep-alive agent. */
export function startHttpProxy(backend, { nodeArgs = [] } = {}) {
  return startProcess({
    name: 'http-proxy',
    command: process.execPath,
    args: [...nodeArgs, join(benchDir, 'http-proxy-server.js'), '0', origin(backend)],
    readyLine: LISTENING,
  });
}

/** @fastify/http-proxy: the maintained undici-based Node proxy (fastify + @fastify/reply-from). */
export function startFastifyProxy(backend, { nodeArgs = [] } = {}) {
  return startProcess({
    name: '@fastify/http-proxy',
    command: process.execPath,
    args: [...nodeArgs, join(benchDir, 'fastify-proxy-server.js'), '0', origin(backend)],
    readyLine: LISTENING,
  });
}

/**
 * nginx as an equivalent keep-alive reverse proxy, one worker like one Node process; undefined when nginx is not
 * installed. With `tls` ({ certFile, keyFile }) it also terminates TLS on a second port (`handle.tlsPort`); the
 * plain port stays for the readiness probe. With `accessLog` ({ file, format: 'combined' | 'json' }) it writes an
 * access log (see NGINX_JSON_FORMAT).
 */
export async function startNginx(backend, { host, tls, accessLog } = {}) {
  if (!commandExists('nginx')) return undefined;
  const dir = tempDir(tls ? 'nginx-tls' : 'nginx');
  const port = await freePort();
  const tlsPort = tls ? await freePort() : undefined;
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, port, backend.port, tls && { ...tls, port: tlsPort }, accessLog));
  const handle = await startProcess({
    name: tls ? 'nginx-tls' : 'nginx',
    command: 'nginx',
    // -e: even the error log written before the config is read must stay out of /var/log.
    args: ['-p', dir, '-c', conf, '-e', join(dir, 'error.log'), '-g', 'daemon off;'],
    port,
    readyProbe: { headers: host ? { host } : {} },
  });
  return Object.assign(handle, { tlsPort });
}

/**
 * nginx's access log for the accesslog suite's reference rows: `combined` (built in, the CLF line) or `json`,
 * about the fields a Traefik JSON line carries that nginx has variables for. Buffered (64 KiB, flushed every
 * second), nginx's cheapest setting; Wharf gathers 5 ms of lines per write.
 */
const NGINX_JSON_FORMAT = `log_format json escape=json '{"StartUTC":"$time_iso8601","Duration":$request_time,"ClientAddr":"$remote_addr:$remote_port",'
    '"ClientHost":"$remote_addr","ClientPort":"$remote_port","RequestAddr":"$http_host","RequestHost":"$host","RequestPort":"$server_port",'
    '"RequestMethod":"$request_method","RequestPath":"$request_uri","RequestProtocol":"$server_protocol","RequestScheme":"$scheme",'
    '"RequestContentSize":$request_length,"ServiceURL":"$upstream_addr","OriginDuration":"$upstream_response_time",'
    '"OriginStatus":"$upstream_status","OriginContentSize":"$upstream_response_length","DownstreamStatus":$status,'
    '"DownstreamContentSize":$body_bytes_sent,"RequestCount":$connection_requests,"TLSVersion":"$ssl_protocol","TLSCipher":"$ssl_cipher",'
    '"level":"info","msg":"","time":"$time_iso8601"}';`;

function nginxConfig(dir, port, backendPort, tls, accessLog) {
  const ssl = tls
    ? `
    listen 127.0.0.1:${tls.port} ssl;
    ssl_certificate ${tls.certFile};
    ssl_certificate_key ${tls.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;`
    : '';
  return `# Written by test/bench/targets.js: a keep-alive reverse proxy comparable with one Node process.
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  ${accessLog ? `${NGINX_JSON_FORMAT}
  access_log ${accessLog.file} ${accessLog.format} buffer=64k flush=1s;` : 'access_log off;'}
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  # nginx closes a keep-alive connection after 1000 requests by default; Node never does.
  keepalive_requests 1000000;
  upstream backend {
    server 127.0.0.1:${backendPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};${ssl}
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
  }
}
`;
}

/**
 * `node wharf/bin/wharf.js` (one process) with a file-provider dynamic configuration written to a temp
 * dir. Ready once `probe` (path + Host) answers 200, i.e. the routes are loaded, not just the port.
 * `dynamic` is the dynamic configuration object; `nodeArgs` go before the script (e.g. --cpu-prof).
 * `args` may be a function of that directory (to put an access log beside the configuration); `watch`
 * turns the file provider's watch on, as users run it.
 */
export async function startWharf({ name = 'wharf', dynamic, probe, args = [], nodeArgs = [], watch = false, timeoutMs = 60_000 }) {
  const dir = tempDir('wharf');
  const file = join(dir, 'dynamic.yml');
  writeFileSync(file, toYaml(dynamic));
  const port = await freePort();
  const extra = typeof args === 'function' ? args(dir) : args;
  return startProcess({
    name,
    command: process.execPath,
    args: [
      ...nodeArgs,
      wharfBin,
      `--entrypoints.web.address=127.0.0.1:${port}`,
      `--providers.file.filename=${file}`,
      `--providers.file.watch=${watch}`,
      '--log.level=ERROR',
      ...extra,
    ],
    port,
    readyProbe: probe,
    timeoutMs,
  });
}

/** node flags to write a CPU profile into dir at exit; SIGTERM is made a clean exit so the profile gets written. */
export function cpuProfileArgs(dir) {
  // One profile per directory: the summary must not pick up a previous run's file.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', pathToFileURL(join(benchDir, 'exit-on-sigterm.js')).href];
}

export function origin(handle) {
  return `http://127.0.0.1:${handle.port}`;
}

/**
 * Minimal YAML emitter for configuration trees (maps, lists, strings, numbers, booleans): strings are
 * double-quoted (JSON escapes are valid YAML), so rules with backticks and colons need no care.
 */
export function toYaml(value, indent = '') {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]\n';
    // A nested map's first key shares the dash's line: `- url: ...`.
    return value.map((item) => (isScalar(item) ? `${indent}- ${scalar(item)}\n` : `${indent}- ${toYaml(item, indent + '  ').slice(indent.length + 2)}`)).join('');
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}\n';
  return entries
    .map(([key, item]) => {
      const name = `${indent}${/^[A-Za-z0-9_.-]+$/.test(key) ? key : JSON.stringify(key)}:`;
      if (isScalar(item)) return `${name} ${scalar(item)}\n`;
      const empty = Array.isArray(item) ? item.length === 0 : Object.keys(item).length === 0;
      return empty ? `${name} ${toYaml(item)}` : `${name}\n${toYaml(item, indent + '  ')}`;
    })
    .join('');
}

function isScalar(value) {
  return value === null || typeof value !== 'object';
}

function scalar(value) {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
