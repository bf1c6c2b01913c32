// The access log with the real plugins around it: an HTTPS request (TLS fields), a rateLimit 429, a plugin's 401
// and an upstream 504 each get the line that explains them, in json and in common; the bare flag enables it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { definePlugin, Type, type EmbeddedGateway, type WharfContext } from '@wharf/core';
import { startGateway } from 'wharf';
import { closedPort, eventually, spawnWharf } from '@wharf/test-helpers';

const requireLogin = definePlugin({
  name: 'requirelogin',
  schema: Type.Object({}, { additionalProperties: false }),
  create: () =>
    async function requireLogin(ctx: WharfContext) {
      ctx.status = 401;
      ctx.body = 'Unauthorized';
    },
});

let dir: string;
let backend: http.Server;
let origin: string;
const gateways: Record<'json' | 'common', EmbeddedGateway> = {} as never;
/** What the HTTPS client negotiated, per gateway: the line must say the same. */
const negotiated: Record<string, { version: string; cipher: string }> = {};
const timing: Record<string, [number, number][]> = { json: [], common: [] };

function dynamic() {
  return {
    http: {
      routers: {
        app: { rule: 'Path(`/ok`)', service: 'app' },
        limited: { rule: 'Path(`/limited`)', service: 'app', middlewares: ['once'] },
        private: { rule: 'Path(`/private`)', service: 'app', middlewares: ['login'] },
        slow: { rule: 'Path(`/slow`)', service: 'slow' },
      },
      middlewares: { once: { rateLimit: { average: 1, period: '1m', burst: 1 } }, login: { requirelogin: {} } },
      services: {
        app: { loadBalancer: { servers: [{ url: origin }] } },
        slow: { loadBalancer: { servers: [{ url: origin }], serversTransport: 'short' } },
      },
      serversTransports: { short: { forwardingTimeouts: { responseHeaderTimeout: '200ms' } } },
    },
  };
}

function get(url: string): Promise<{ status: number; socket: TLSSocket | undefined }> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(url, { agent: false, rejectUnauthorized: false }, (res) => {
      res.resume();
      const socket = res.socket as TLSSocket;
      res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: socket.encrypted ? socket : undefined }));
    });
    req.on('error', reject);
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wharf-e2e-accesslog-'));
  // /slow never answers: the gateway gives up after responseHeaderTimeout.
  backend = http.createServer((req, res) => {
    if (req.url !== '/slow') res.end('ok');
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  for (const format of ['json', 'common'] as const) {
    const gw = await startGateway({
      args: [
        '--entrypoints.web.address=127.0.0.1:0',
        '--entrypoints.websecure.address=127.0.0.1:0',
        '--entrypoints.websecure.http.tls=true',
        `--accessLog.format=${format}`,
        `--accessLog.filePath=${join(dir, `${format}.log`)}`,
      ],
      plugins: [requireLogin],
      dynamic: dynamic(),
    });
    gateways[format] = gw;
    const web = `http://127.0.0.1:${gw.address('web').port}`;
    const requests: [string, number][] = [
      [`https://127.0.0.1:${gw.address('websecure').port}/ok`, 200],
      [`${web}/limited`, 200],
      [`${web}/limited`, 429],
      [`${web}/private`, 401],
      [`${web}/slow`, 504],
    ];
    for (const [url, status] of requests) {
      const before = Date.now();
      const reply = await get(url);
      timing[format]!.push([before, Date.now()]);
      assert.equal(reply.status, status, url);
      if (reply.socket) negotiated[format] = { version: reply.socket.getProtocol()!.replace(/^TLSv/, ''), cipher: reply.socket.getCipher().standardName };
    }
    await gw.stop();
  }
});

after(async () => {
  for (const gw of Object.values(gateways)) await gw.stop();
  backend.closeAllConnections();
  await new Promise<void>((resolve) => backend.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

function lines(format: string): string[] {
  return readFileSync(join(dir, `${format}.log`), 'utf8').split('\n').filter((l) => l !== '');
}

test('json: TLS fields of the HTTPS request, the 429 of rateLimit, a plugin 401 and an upstream 504', () => {
  const logged = lines('json').map((l) => JSON.parse(l) as Record<string, unknown>);
  const pick = (l: Record<string, unknown>) => ({
    RequestPath: l.RequestPath,
    DownstreamStatus: l.DownstreamStatus,
    RouterName: l.RouterName,
    ServiceName: l.ServiceName,
    ServiceURL: l.ServiceURL,
    OriginStatus: l.OriginStatus,
    RequestScheme: l.RequestScheme,
    TLSVersion: l.TLSVersion,
    TLSCipher: l.TLSCipher,
  });
  const plain = { RequestScheme: 'http', TLSVersion: undefined, TLSCipher: undefined };
  assert.deepEqual(logged.map(pick), [
    { RequestPath: '/ok', DownstreamStatus: 200, RouterName: 'app@inline', ServiceName: 'app@inline', ServiceURL: origin, OriginStatus: 200, RequestScheme: 'https', TLSVersion: negotiated.json!.version, TLSCipher: negotiated.json!.cipher },
    { RequestPath: '/limited', DownstreamStatus: 200, RouterName: 'limited@inline', ServiceName: 'app@inline', ServiceURL: origin, OriginStatus: 200, ...plain },
    { RequestPath: '/limited', DownstreamStatus: 429, RouterName: 'limited@inline', ServiceName: 'app@inline', ServiceURL: undefined, OriginStatus: undefined, ...plain },
    { RequestPath: '/private', DownstreamStatus: 401, RouterName: 'private@inline', ServiceName: 'app@inline', ServiceURL: undefined, OriginStatus: undefined, ...plain },
    { RequestPath: '/slow', DownstreamStatus: 504, RouterName: 'slow@inline', ServiceName: 'slow@inline', ServiceURL: origin, OriginStatus: 504, ...plain },
  ]);
  assert.equal(negotiated.json!.version, '1.3');
  // The 504 waited for responseHeaderTimeout (200 ms), and its Duration says so.
  assert.ok((logged[4]!.Duration as number) >= 200e6, `504 Duration ${String(logged[4]!.Duration)} ns`);
});

test('common: the exact lines for the same requests', () => {
  const normalised = lines('common').map((line, i) => {
    const [before, after] = timing.common![i]!;
    const duration = Number(/ (\d+)ms$/.exec(line)?.[1]);
    assert.ok(duration <= after - before, `${line}: duration longer than the request`);
    return line.replace(/\[[^\]]+\]/, '[TIME]').replace(/ \d+ms$/, ' Dms');
  });
  assert.deepEqual(normalised, [
    `127.0.0.1 - - [TIME] "GET /ok HTTP/1.1" 200 2 "-" "-" 1 "app@inline" "${origin}" Dms`,
    `127.0.0.1 - - [TIME] "GET /limited HTTP/1.1" 200 2 "-" "-" 2 "limited@inline" "${origin}" Dms`,
    '127.0.0.1 - - [TIME] "GET /limited HTTP/1.1" 429 18 "-" "-" 3 "limited@inline" "-" Dms',
    '127.0.0.1 - - [TIME] "GET /private HTTP/1.1" 401 12 "-" "-" 4 "private@inline" "-" Dms',
    `127.0.0.1 - - [TIME] "GET /slow HTTP/1.1" 504 15 "-" "-" 5 "slow@inline" "${origin}" Dms`,
  ]);
});

test('--accessLog and --accessLog={} enable it with its defaults: common lines on stdout', async () => {
  for (const flag of ['--accessLog', '--accessLog={}']) {
    const port = await closedPort();
    const config = join(dir, `dynamic-${port}.yml`);
    writeFileSync(config, `http:\n  routers:\n    app:\n      rule: PathPrefix(\`/\`)\n      service: app\n  services:\n    app:\n      loadBalancer:\n        servers:\n          - url: ${origin}\n`);
    const wharf = spawnWharf([`--entrypoints.web.address=127.0.0.1:${port}`, `--providers.file.filename=${config}`, `--log.filePath=${join(dir, `wharf-${port}.log`)}`, flag]);
    try {
      await eventually(async () => (await get(`http://127.0.0.1:${port}/ok`).catch(() => ({ status: 0 }))).status === 200, 'the route served');
      const line = await wharf.waitFor(/^.* "GET \/ok HTTP\/1\.1" 200 2 "-" "-" \d+ "app@file" ".*" \d+ms$/m);
      assert.match(line[0], /^127\.0\.0\.1 - - \[/, flag);
    } finally {
      await wharf.stop();
    }
  }
});
