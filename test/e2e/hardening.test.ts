// Hostile clients over raw sockets: smuggling, size limits, slow clients, spoofed headers, path tricks.
// Each attack checks what the client got AND what the recording backend received.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { closedPort, json, request, startBackend, type Backend } from '@wharf/test-helpers';
import { startTestGateway, httpConfig, type TestGateway } from './gateway.js';

let backend: Backend;
let admin: Backend;
let gw: TestGateway;

before(async () => {
  backend = await startBackend('public');
  admin = await startBackend('admin');
  gw = await startTestGateway(
    httpConfig(
      {
        admin: { rule: 'PathPrefix(`/admin`)', service: 'admin', priority: 100 },
        public: { rule: 'PathPrefix(`/`)', service: 'public' },
      },
      { public: [backend.url], admin: [admin.url] },
    ),
    {
      args: [
        '--entrypoints.web.transport.respondingTimeouts.readTimeout=1s',
        '--entrypoints.web.transport.respondingTimeouts.idleTimeout=1s',
        '--entrypoints.web.http.maxHeaderBytes=4096',
        '--entrypoints.strict.address=127.0.0.1:0',
        '--entrypoints.strict.http.encodedCharacters.allowEncodedSlash=false',
        '--entrypoints.strict.http.encodedCharacters.allowEncodedNullCharacter=false',
      ],
    },
  );
});
after(async () => {
  await gw.stop();
  await backend.close();
  await admin.close();
});

/** Sends raw bytes; resolves with what came back once the server closed or went quiet for `quietMs`. */
function exchange(bytes: string, port = gw.port, quietMs = 300): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    let timer = setTimeout(done, quietMs * 4);
    function done(closed = false) {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    }
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(done, quietMs);
    });
    socket.on('close', () => done(true));
    socket.on('error', () => done(true));
  });
}

function statusOf(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
}

test('request smuggling attempts are refused and never reach the backend as something else', async (t) => {
  const cases: { desc: string; raw: string }[] = [
    { desc: 'Content-Length and Transfer-Encoding', raw: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n' },
    { desc: 'differing Content-Length', raw: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd' },
    { desc: 'duplicate identical Content-Length', raw: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd' },
    { desc: 'obfuscated Transfer-Encoding value xchunked', raw: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' },
    { desc: 'Transfer-Encoding: chunked, identity', raw: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n' },
    { desc: 'space before the colon', raw: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n' },
    { desc: 'leading whitespace on a header line', raw: 'POST / HTTP/1.1\r\nHost: a\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n' },
    { desc: 'obs-fold continuation line', raw: 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n' },
    { desc: 'bare LF line endings', raw: 'GET / HTTP/1.1\nHost: a\n\n' },
    { desc: 'NUL in a header value', raw: 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n' },
    { desc: 'CR in a header value', raw: 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n' },
    { desc: 'two Host headers', raw: 'GET /admin HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n' },
    { desc: 'no Host header in HTTP/1.1', raw: 'GET / HTTP/1.1\r\n\r\n' },
  ];
  for (const c of cases) {
    await t.test(c.desc, async () => {
      const before = backend.requests.length + admin.requests.length;
      const { text } = await exchange(c.raw);
      assert.equal(statusOf(text), 400, `client got: ${text.slice(0, 120)}`);
      assert.equal(backend.requests.length + admin.requests.length, before, 'nothing reached a backend');
      const next = await request(gw.port, { path: '/after', headers: { host: 'a' } });
      assert.equal(next.status, 200);
      assert.equal(json<{ url: string }>(next).url, '/after', 'the next request on a fresh connection gets its own answer');
    });
  }
});

test('a request hidden in a Content-Length body stays body bytes: the backend sees exactly one request', async () => {
  const hidden = 'GET /admin HTTP/1.1\r\nHost: a\r\n\r\n';
  const before = { pub: backend.requests.length, adm: admin.requests.length };
  const { text } = await exchange(`POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${hidden.length}\r\nConnection: close\r\n\r\n${hidden}`);
  assert.equal(statusOf(text), 200);
  assert.equal(backend.requests.length, before.pub + 1);
  assert.equal(admin.requests.length, before.adm);
  assert.equal(backend.requests.at(-1)!.bodyBytes, hidden.length);
});

test('size limits: oversized headers → 431, oversized request line → 414, before any routing', async () => {
  const before = backend.requests.length;
  const big = await exchange(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`);
  assert.equal(statusOf(big.text), 431);
  const longLine = await exchange(`GET /${'a'.repeat(6000)} HTTP/1.1\r\nHost: a\r\n\r\n`);
  assert.ok([414, 400].includes(statusOf(longLine.text)), longLine.text.slice(0, 60));
  assert.equal(statusOf(longLine.text), 414);
  assert.equal(backend.requests.length, before);
});

test('a client trickling its headers is cut off after readTimeout while others are served', async () => {
  const socket = net.connect(gw.port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const closed = new Promise<string>((resolve) => {
    let got = '';
    socket.on('data', (d) => (got += d.toString()));
    socket.on('close', () => resolve(got));
  });
  socket.write('GET / HTTP/1.1\r\nHost: a\r\n');
  const drip = setInterval(() => socket.writable && socket.write('X-Drip: 1\r\n'), 200);
  try {
    for (let i = 0; i < 5; i++) assert.equal((await request(gw.port, { path: '/meanwhile', headers: { host: 'a' } })).status, 200);
    const answer = await closed; // readTimeout 1s + check interval: the test fails by the suite timeout if it never closes
    assert.match(answer, /^HTTP\/1\.1 408|^$/);
  } finally {
    clearInterval(drip);
    socket.destroy();
  }
});

test('idle keep-alive connections are closed after idleTimeout', async () => {
  const { closed, text } = await exchange('GET / HTTP/1.1\r\nHost: a\r\n\r\n', gw.port, 3000);
  assert.equal(statusOf(text), 200);
  assert.equal(closed, true);
});

test('forwarded headers from an untrusted client are replaced, never passed on', async () => {
  const reply = await request(gw.port, {
    path: '/fwd',
    headers: {
      host: 'a',
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
      'x-forwarded-server': 'evil',
      'x-real-ip': '6.6.6.6',
      'x-forwarded-prefix': '/evil',
      connection: 'X-Forwarded-For, X-Real-Ip, TE',
      te: 'gzip, chunked',
      'keep-alive': 'timeout=5',
      'proxy-authorization': 'Basic c2VjcmV0',
      'proxy-connection': 'keep-alive',
    },
  });
  const seen = json<{ headers: Record<string, string> }>(reply).headers;
  assert.equal(seen['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen['x-real-ip'], '127.0.0.1');
  assert.equal(seen['x-forwarded-host'], 'a');
  assert.equal(seen['x-forwarded-proto'], 'http');
  assert.equal(seen['x-forwarded-port'], '80', 'from the Host header (none given → the scheme default), as Traefik');
  assert.notEqual(seen['x-forwarded-server'], 'evil');
  assert.equal(seen['x-forwarded-prefix'], undefined);
  for (const hop of ['te', 'keep-alive', 'proxy-authorization', 'proxy-connection']) assert.equal(seen[hop], undefined, hop);
});

test('a non-upgrading Upgrade header is not forwarded', async () => {
  const reply = await request(gw.port, { path: '/up', headers: { host: 'a', upgrade: 'h2c' } });
  assert.equal(json<{ headers: Record<string, string> }>(reply).headers.upgrade, undefined);
});

test('path tricks cannot bypass a router decision', async (t) => {
  const cases = ['/%61dmin', '//admin', '/./admin', '/public/../admin', '/public/%2e%2e/admin'];
  for (const path of cases) {
    await t.test(path, async () => {
      const { text } = await exchange(`GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      assert.equal(statusOf(text), 200);
      const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { name: string; url: string };
      assert.equal(body.name, 'admin', `${path} must reach the admin router, as the backend would resolve it`);
      assert.equal(body.url, '/admin');
    });
  }
});

test('an absolute-form target is routed by its host and forwarded in origin form', async () => {
  const { text } = await exchange('GET http://other.example/admin/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { name: string; url: string };
  assert.equal(body.name, 'admin');
  assert.equal(body.url, '/admin/x');
});

test('encodedCharacters switches: a disallowed encoding answers 400 on that entrypoint only', async () => {
  const strict = gw.gateway.address('strict').port;
  const before = backend.requests.length;
  const refused = await exchange('GET /a%2Fb HTTP/1.1\r\nHost: a\r\n\r\n', strict);
  assert.equal(statusOf(refused.text), 400);
  assert.match(refused.text, /encoded slash/);
  assert.equal((await exchange('GET /a%00b HTTP/1.1\r\nHost: a\r\n\r\n', strict)).text.slice(9, 12), '400');
  assert.equal(backend.requests.length, before);
  const allowed = await request(gw.port, { path: '/a%2Fb', headers: { host: 'a' } });
  assert.equal(allowed.status, 200);
});

test('maxConnections refuses connections beyond the cap and serves again once one closes', async () => {
  const capped = await startTestGateway(httpConfig({ all: { rule: 'PathPrefix(`/`)', service: 'b' } }, { b: [backend.url] }), {
    args: ['--entrypoints.web.transport.maxConnections=5'],
  });
  const open: net.Socket[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const s = net.connect(capped.port, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      open.push(s);
    }
    await new Promise((r) => setTimeout(r, 100));
    const refused = await exchange('GET / HTTP/1.1\r\nHost: a\r\n\r\n', capped.port);
    assert.equal(refused.closed, true);
    assert.equal(refused.text, '', 'the extra connection is closed without being served');
    open.pop()!.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const served = await exchange('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', capped.port);
    assert.equal(statusOf(served.text), 200);
  } finally {
    for (const s of open) s.destroy();
    await capped.stop();
  }
});

test('secrets (a Redis password, Authorization) never reach the gateway log', async () => {
  const { Writable } = await import('node:stream');
  const { pino } = await import('pino');
  let logged = '';
  const sink = new Writable({ write: (chunk, _enc, done) => ((logged += chunk.toString()), done()) });
  const closed = await closedPort();
  const gwSecret = await startTestGateway(
    {
      http: {
        routers: { r: { rule: 'PathPrefix(`/`)', service: 'b', middlewares: ['rl'] } },
        middlewares: { rl: { rateLimit: { average: 10, redis: { endpoints: [`127.0.0.1:${closed}`], password: 'hunter2-secret', dialTimeout: '200ms' } } } },
        services: { b: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${closed}` }] } } },
      },
    },
    { log: pino({ level: 'trace' }, sink) },
  );
  try {
    for (let i = 0; i < 3; i++) await request(gwSecret.port, { path: '/', headers: { host: 'a', authorization: 'Bearer tok3n-secret', cookie: 'sid=c00kie-secret' } });
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    await gwSecret.stop();
  }
  assert.ok(logged.length > 0, 'the gateway logged the upstream and store failures');
  for (const secret of ['hunter2-secret', 'tok3n-secret', 'c00kie-secret']) assert.ok(!logged.includes(secret), `${secret} leaked into the log`);
});
