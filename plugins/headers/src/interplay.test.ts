// What users hit around headers: a CORS preflight next to a rateLimit on the same router (in both orders), headers on
// Wharf's own error answers, and the deprecation warning logged once per build. Real gateway, real backend.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { pino } from 'pino';
import { definePlugin, onResponseHeaders, startGateway, Type, type EmbeddedGateway, type Next, type WharfContext } from '@wharf/core';
import { closedPort, eventually, listen, request, startBackend, type Backend, type Listening } from '@wharf/test-helpers';
import rateLimit from '@wharf/plugin-ratelimit';
import headers from './index.js';

const ORIGIN = 'https://app.example';
const PREFLIGHT = { origin: ORIGIN, 'access-control-request-method': 'PUT' };
const CORS = { accessControlAllowOriginList: [ORIGIN], accessControlAllowMethods: ['GET', 'PUT'], accessControlMaxAge: 100 };
// One request a minute: after the first, the next token is far away, so the limiter answers 429 at once.
const ONE_PER_MINUTE = { average: 1, period: '1m', burst: 1 };

/** Reports, after the chain, which middleware refused the request (what the access log and metrics read). */
const probe = definePlugin({
  name: 'probe',
  schema: Type.Object({}),
  create() {
    return async function probe(ctx: WharfContext, next: Next) {
      onResponseHeaders(ctx, (_status, out) => void (out['x-rejected-by'] = ctx.wharf.rejectedBy ?? '-'));
      await next();
      if (!ctx.res.headersSent) ctx.set('X-Rejected-By', ctx.wharf.rejectedBy ?? '-');
    };
  },
});

describe('headers with other middlewares and with Wharf’s own answers', () => {
  let backend: Backend;
  let upgrades: Listening;
  let gateway: EmbeddedGateway;
  let port: number;
  const warnings: Array<{ msg: string; middleware?: string }> = [];

  before(async () => {
    backend = await startBackend('b');
    upgrades = await startUpgradeBackend();
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as { msg: string; middleware?: string }) });
    gateway = await startGateway({
      plugins: [headers, rateLimit, probe],
      log,
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: {
        http: {
          routers: {
            corsFirst: { rule: 'PathPrefix(`/cors-first/`)', middlewares: ['cors', 'rl-a'], service: 'b' },
            limitFirst: { rule: 'PathPrefix(`/limit-first/`)', middlewares: ['rl-b', 'cors'], service: 'b' },
            dead: { rule: 'PathPrefix(`/dead/`)', middlewares: ['decorate'], service: 'dead' },
            old1: { rule: 'PathPrefix(`/old1/`)', middlewares: ['old'], service: 'b' },
            old2: { rule: 'PathPrefix(`/old2/`)', middlewares: ['old'], service: 'b' },
            ws: { rule: 'PathPrefix(`/ws/`)', middlewares: ['decorate'], service: 'ws' },
            hosts: { rule: 'PathPrefix(`/hosts/`)', middlewares: ['probe', 'hosts'], service: 'b' },
          },
          middlewares: {
            cors: { headers: CORS },
            'rl-a': { rateLimit: ONE_PER_MINUTE },
            'rl-b': { rateLimit: ONE_PER_MINUTE },
            decorate: { headers: { ...CORS, customResponseHeaders: { 'X-Served-By': 'wharf' }, frameDeny: true } },
            old: { headers: { sslRedirect: true, featurePolicy: "camera 'none'" } },
            probe: { probe: {} },
            hosts: { headers: { ...CORS, allowedHosts: ['only.test'] } },
          },
          services: {
            b: { loadBalancer: { servers: [{ url: backend.url }] } },
            dead: { loadBalancer: { servers: [{ url: dead }] } },
            ws: { loadBalancer: { servers: [{ url: upgrades.url }] } },
          },
        },
      },
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    await gateway.stop();
    await backend.close();
    await upgrades.close();
  });

  const send = (path: string, method = 'GET', extra: Record<string, string> = {}) =>
    request(port, { method, path, headers: { host: 'app.test', origin: ORIGIN, ...extra } });

  // Traefik runs a router's middlewares in the order listed. headers before rateLimit: the preflight is answered
  // before the limiter sees it, so preflights never spend the client's tokens, and the limiter's 429 goes back out
  // through headers, which adds the CORS headers (the browser can read the 429 instead of reporting a CORS error).
  test('headers listed before rateLimit: preflights answered and not counted; the 429 carries CORS headers', async () => {
    for (let i = 0; i < 3; i++) {
      const preflight = await send('/cors-first/', 'OPTIONS', PREFLIGHT);
      assert.equal(preflight.status, 200, `preflight ${i}`);
      assert.equal(preflight.headers['access-control-allow-origin'], ORIGIN);
    }
    const first = await send('/cors-first/');
    assert.equal(first.status, 200, 'the token was still there');
    const limited = await send('/cors-first/');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['access-control-allow-origin'], ORIGIN);
    assert.ok(limited.headers['retry-after']);
    assert.deepEqual(backend.requests.filter((r) => r.url === '/cors-first/').map((r) => r.method), ['GET']);
  });

  // rateLimit before headers: the limiter runs first, so a preflight spends a token and, once limited, gets the
  // limiter's bare 429: headers never ran, so no CORS headers (browsers then report a CORS failure).
  test('rateLimit listed before headers: the preflight spends a token, and a limited one gets a bare 429', async () => {
    const first = await send('/limit-first/', 'OPTIONS', PREFLIGHT);
    assert.equal(first.status, 200);
    assert.equal(first.headers['access-control-allow-origin'], ORIGIN);
    const second = await send('/limit-first/', 'OPTIONS', PREFLIGHT);
    assert.equal(second.status, 429);
    assert.equal(second.headers['access-control-allow-origin'], undefined);
    assert.equal(backend.requests.filter((r) => r.url === '/limit-first/').length, 0, 'no preflight forwarded');
  });

  // Traefik's proxy writes its 502 through the headers middleware's response writer, so it is decorated like any
  // response; Wharf's own answers run the same response-header hooks.
  test("Wharf's 502 carries the custom, security and CORS headers", async () => {
    const reply = await send('/dead/');
    assert.equal(reply.status, 502);
    assert.equal(reply.body, 'Bad Gateway');
    assert.equal(reply.headers['x-served-by'], 'wharf');
    assert.equal(reply.headers['x-frame-options'], 'DENY');
    assert.equal(reply.headers['access-control-allow-origin'], ORIGIN);
  });

  test('a Bad Host answer is a refusal for the access log and metrics; a preflight answer is not', async () => {
    const refused = await send('/hosts/');
    assert.deepEqual([refused.status, refused.headers['x-rejected-by']], [500, 'hosts@inline']);
    const preflight = await send('/hosts/', 'OPTIONS', PREFLIGHT);
    assert.deepEqual([preflight.status, preflight.headers['x-rejected-by']], [200, '-']);
  });

  test('a 101 upgrade answer is passed on undecorated, as in Traefik (its proxy hijacks the connection)', async () => {
    const head = await upgradeHead(port);
    assert.equal(head.status, 101);
    assert.equal(head.headers.upgrade, 'websocket');
    assert.equal(head.headers['x-served-by'], undefined);
    assert.equal(head.headers['x-frame-options'], undefined);
    assert.equal(head.headers['access-control-allow-origin'], undefined);
  });

  test('a deprecated option is warned about once per build, naming the middleware and what replaces it', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await send('/old1/')).status, 200);
      assert.equal((await send('/old2/')).status, 200);
    }
    const about = (option: string) => warnings.filter((w) => w.middleware === 'old@inline' && w.msg.includes(`${option} is deprecated`));
    await eventually(() => about('sslRedirect').length > 0, 'the sslRedirect warning');
    assert.equal(about('sslRedirect').length, 1);
    assert.match(about('sslRedirect')[0]!.msg, /sslRedirect is deprecated and ignored .*use the entrypoint's http\.redirections or a redirectScheme middleware/);
    assert.equal(about('featurePolicy').length, 1);
    assert.match(about('featurePolicy')[0]!.msg, /use permissionsPolicy/);
    assert.equal(warnings.filter((w) => w.middleware === 'cors@inline').length, 0, 'no warning without deprecated options');
  });
});

/** A backend that accepts every upgrade with a bare 101 and then closes. */
async function startUpgradeBackend(): Promise<Listening> {
  const server = http.createServer((_req, res) => res.end('not an upgrade'));
  server.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
  return listen(server);
}

/** Sends an upgrade request through the gateway and returns the 101 head it answers with. */
function upgradeHead(port: number): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path: '/ws/', agent: false,
      headers: { host: 'app.test', origin: ORIGIN, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.on('response', (res) => reject(new Error(`expected a 101, got ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}
