// One check against real servers on 127.0.0.1: where it goes, what it sends, how its answer is judged.
import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '@wharf/core/config';
import { closedPort, startServer, type Listening } from '@wharf/test-helpers';
import { createProbeClients, probe, probeTarget, type ProbeClients } from './probe.js';
import { HealthCheckSchema, type HealthCheckConfig } from './schema.js';

/** healthCheck settings as the decoder fills them (defaults included). */
function settings(input: Record<string, unknown>): HealthCheckConfig {
  const { value, issues } = decode<HealthCheckConfig>(HealthCheckSchema, input);
  assert.deepEqual(issues, []);
  return value;
}

describe('probeTarget', () => {
  const cases: Array<{ desc: string; server: string; config: Record<string, unknown>; url: string; headers?: Record<string, string>; method?: string }> = [
    { desc: 'an absolute path replaces the server path, the query is kept', server: 'http://10.0.0.1:8080/base/', config: { path: '/health?full=1' }, url: 'http://10.0.0.1:8080/health?full=1' },
    { desc: 'a relative path is resolved against the server URL', server: 'http://10.0.0.1:8080/base/', config: { path: 'health' }, url: 'http://10.0.0.1:8080/base/health' },
    { desc: 'scheme and port replace the server ones', server: 'http://10.0.0.1:8080', config: { path: '/h', scheme: 'https', port: 8443 }, url: 'https://10.0.0.1:8443/h' },
    { desc: 'default path is /', server: 'http://app:3000', config: {}, url: 'http://app:3000/' },
    {
      desc: 'hostname becomes the Host header; header names are lowercased; method uppercased',
      server: 'http://10.0.0.1',
      config: { hostname: 'probe.local', headers: { 'X-Probe': 'yes', 'User-Agent': 'custom' }, method: 'head' },
      url: 'http://10.0.0.1/',
      headers: { 'user-agent': 'custom', 'x-probe': 'yes', host: 'probe.local' },
      method: 'HEAD',
    },
  ];
  for (const { desc, server, config, url, headers, method } of cases) {
    test(desc, () => {
      const target = probeTarget(server, settings(config));
      assert.equal(target.url.href, url);
      if (headers) assert.deepEqual(target.headers, headers);
      if (method) assert.equal(target.method, method);
    });
  }
});

describe('probe', () => {
  let server: Listening;
  let base: string;
  const sockets = new Set<unknown>();
  const seen: Array<{ method: string; url: string; host?: string; probe?: string }> = [];
  let clients: ProbeClients;
  const never = new AbortController().signal;

  before(async () => {
    server = await startServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, host: req.headers.host, probe: req.headers['x-probe'] as string | undefined });
      sockets.add(req.socket);
      const status = Number(new URL(req.url!, 'http://x').searchParams.get('status') ?? 200);
      if (req.url!.startsWith('/hang')) return;
      if (req.url!.startsWith('/redirect')) {
        res.writeHead(302, { location: '/answer?status=500' });
        res.end();
        return;
      }
      res.statusCode = status;
      res.end('body');
    });
    base = server.url;
    clients = createProbeClients();
  });
  after(async () => {
    await clients.close();
    await server.close();
  });

  const cases: Array<{ desc: string; config: Record<string, unknown>; up: boolean; reason?: RegExp }> = [
    { desc: '200 is up', config: { path: '/answer?status=200' }, up: true },
    { desc: '399 is up (2xx and 3xx by default)', config: { path: '/answer?status=399' }, up: true },
    { desc: '500 is down, naming the status', config: { path: '/answer?status=500' }, up: false, reason: /GET http:\/\/127\.0\.0\.1:\d+\/answer\?status=500 answered 500 \(expected 2xx or 3xx\)/ },
    { desc: '404 is down', config: { path: '/answer?status=404' }, up: false, reason: /answered 404/ },
    { desc: 'an expected status must match exactly', config: { path: '/answer?status=200', status: 204 }, up: false, reason: /answered 200 \(expected 204\)/ },
    { desc: 'the expected status is up even when it is a 5xx', config: { path: '/answer?status=503', status: 503 }, up: true },
    { desc: 'redirects are followed and the final answer judged', config: { path: '/redirect' }, up: false, reason: /answered 500/ },
    { desc: 'followRedirects=false judges the redirect itself', config: { path: '/redirect', followRedirects: false }, up: true },
    { desc: 'no answer within timeout is down', config: { path: '/hang', timeout: '150ms' }, up: false, reason: /: no answer within 150ms$/ },
  ];
  for (const { desc, config, up, reason } of cases) {
    test(desc, async () => {
      const result = await probe(probeTarget(base, settings(config)), clients, never);
      assert.equal(result.up, up, result.reason);
      if (reason) assert.match(result.reason ?? '', reason);
    });
  }

  test('a refused connection is down, with the cause', async () => {
    const port = await closedPort();
    const result = await probe(probeTarget(`http://127.0.0.1:${port}`, settings({})), clients, never);
    assert.equal(result.up, false);
    assert.match(result.reason ?? '', /ECONNREFUSED/);
  });

  test('sends method, Host and headers; every check on its own connection', async () => {
    seen.length = 0;
    sockets.clear();
    const target = probeTarget(base, settings({ path: '/answer', method: 'HEAD', hostname: 'probe.local', headers: { 'X-Probe': 'yes' } }));
    for (let i = 0; i < 3; i++) assert.equal((await probe(target, clients, never)).up, true);
    assert.deepEqual(seen, Array(3).fill({ method: 'HEAD', url: '/answer', host: 'probe.local', probe: 'yes' }));
    assert.equal(sockets.size, 3, 'no connection is reused');
  });

  test('the port setting sends the check to another port of the server', async () => {
    seen.length = 0;
    const result = await probe(probeTarget('http://127.0.0.1:1/app', settings({ path: '/answer', port: Number(new URL(base).port) })), clients, never);
    assert.equal(result.up, true);
    assert.equal(seen.length, 1);
  });
});

test('an h2c:// server is checked over HTTP/2 without TLS (it refuses HTTP/1.1), with method, path and Host', async () => {
  const seen: Array<Record<string, unknown>> = [];
  const server = http2.createServer((req, res) => {
    seen.push({ method: req.method, path: req.url, authority: req.headers[':authority'], probe: req.headers['x-probe'] });
    res.statusCode = req.url === '/health' ? 200 : 503;
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const clients = createProbeClients();
  const never = new AbortController().signal;
  try {
    const url = `h2c://127.0.0.1:${(server.address() as AddressInfo).port}`;
    assert.deepEqual(await probe(probeTarget(url, settings({ path: '/health', hostname: 'grpc.local', headers: { 'X-Probe': 'yes' } })), clients, never), { up: true });
    const down = await probe(probeTarget(url, settings({ path: '/other' })), clients, never);
    assert.equal(down.up, false);
    assert.match(down.reason ?? '', /GET h2c:\/\/127\.0\.0\.1:\d+\/other answered 503/);
    assert.deepEqual(seen[0], { method: 'GET', path: '/health', authority: 'grpc.local', probe: 'yes' });
  } finally {
    await clients.close();
    server.close();
  }
});
