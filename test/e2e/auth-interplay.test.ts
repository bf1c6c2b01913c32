// Issue #16's access-control middlewares where users combine them, through the distribution from a file:
// basicAuth and rateLimit on one router in both orders (the user in the access log, the brake before the check),
// and the API plugin's README advice followed as written: ipAllowList or basicAuth in front of api@internal, the
// router keeping /api and /dashboard (forwardAuth's case is plugins/forwardauth/src/api.test.ts). The gateway logs at
// debug level throughout, and no line of its log or access log holds a password, a hash or the credentials.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { startGateway } from 'wharf';
import type { EmbeddedGateway, Logger } from '@wharf/core';
import { eventually, get, startBackend, tempDir, type Backend, type TempDir } from '@wharf/test-helpers';

const APR1_TEST = 'test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/'; // password test
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const RIGHT = basic('test', 'test');
const WRONG = basic('test', 'guess');
// A user Traefik loads and never lets in (plain text), and a bcrypt user kept in a usersFile.
const PLAIN = 'plain:plain-text-secret';
const BCRYPT_FILED = 'filed:$2y$05$u6EemoxRkBaUGj8IQqbs1.doaKDWAQ/EHW2qY/K98ueLFt47ESHaK';
const DIGEST_HA1 = 'a2688e031edb4be6a3797f3882655c05';

// Two tokens, none refilled while the test runs, no waiting for a token: the third request over the limit is 429.
const BRAKE = { rateLimit: { average: 1, period: '1h', burst: 2, maxDelay: 0 } };

describe('basicAuth with rateLimit, and the API README advice', () => {
  let dir: TempDir;
  let backend: Backend;
  let gateway: EmbeddedGateway;
  let web: number;
  const logLines: string[] = [];

  before(async () => {
    dir = tempDir('wharf-e2e-auth-interplay-');
    const usersFile = dir.write('htpasswd', `${BCRYPT_FILED}\n`);
    backend = await startBackend('b');
    const dynamic = {
      http: {
        routers: {
          checkThenLimit: { rule: 'Host(`check-first.test`)', middlewares: ['staff', 'perUser'], service: 'b' },
          limitThenCheck: { rule: 'Host(`limit-first.test`)', middlewares: ['brake', 'staff'], service: 'b' },
          // plugins/api/README.md, "Secured mode", as written (only the host differs per middleware).
          dashboard: { rule: 'Host(`gw.example`) && (PathPrefix(`/api`) || PathPrefix(`/dashboard`))', entryPoints: ['websecure'], service: 'api@internal', middlewares: ['admins-only'] },
          dashboardLocal: { rule: 'Host(`local.gw.example`) && (PathPrefix(`/api`) || PathPrefix(`/dashboard`))', entryPoints: ['websecure'], service: 'api@internal', middlewares: ['loopback-only'] },
          dashboardProxied: { rule: 'Host(`proxied.gw.example`) && (PathPrefix(`/api`) || PathPrefix(`/dashboard`))', entryPoints: ['websecure'], service: 'api@internal', middlewares: ['admins-behind-proxy'] },
          dashboardBasic: { rule: 'Host(`basic.gw.example`) && (PathPrefix(`/api`) || PathPrefix(`/dashboard`))', entryPoints: ['websecure'], service: 'api@internal', middlewares: ['staff'] },
          secrets: { rule: 'Host(`secrets.test`)', middlewares: ['mixed'], service: 'b' },
          filed: { rule: 'Host(`filed.test`)', middlewares: ['fromFile'], service: 'b' },
          digest: { rule: 'Host(`digest.test`)', middlewares: ['digest'], service: 'b' },
        },
        middlewares: {
          staff: { basicAuth: { users: [APR1_TEST] } },
          mixed: { basicAuth: { users: [APR1_TEST, PLAIN] } },
          fromFile: { basicAuth: { usersFile } },
          digest: { digestAuth: { users: [`test:traefik:${DIGEST_HA1}`] } },
          perUser: BRAKE,
          brake: BRAKE,
          'admins-only': { ipAllowList: { sourceRange: ['10.0.0.0/8'] } },
          'loopback-only': { ipAllowList: { sourceRange: ['127.0.0.1/32'] } },
          // Behind a load balancer the entrypoint trusts: the client is the last X-Forwarded-For entry it added.
          'admins-behind-proxy': { ipAllowList: { sourceRange: ['10.0.0.0/8'], ipStrategy: { depth: 1 } } },
        },
        services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } },
      },
    };
    gateway = await startGateway({
      log: pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) }) as unknown as Logger,
      args: [
        '--entrypoints.web.address=127.0.0.1:0',
        '--entrypoints.websecure.address=127.0.0.1:0',
        '--entrypoints.websecure.forwardedHeaders.trustedIPs=127.0.0.1',
        '--api',
        '--accessLog.format=json',
        `--accessLog.filePath=${dir.file('access.log')}`,
        `--providers.file.filename=${dir.write('dynamic.json', JSON.stringify(dynamic))}`,
      ],
    });
    web = gateway.address('web').port;
    await eventually(() => gateway.info.routers['dashboardBasic@file']?.status === 'enabled', 'the file configuration applied');
  });

  after(async () => {
    await gateway.stop();
    await backend.close();
    dir.remove();
  });

  /** The access log lines of `host`, once there are `count` of them: [status, ClientUsername]. */
  const logged = (host: string, count: number) =>
    eventually(() => {
      const text = readFileSync(dir.file('access.log'), 'utf8').trim();
      const lines = (text === '' ? [] : text.split('\n')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.RequestHost === host);
      return lines.length === count && lines.map((l) => [l.DownstreamStatus, l.ClientUsername]);
    }, `${count} access log lines for ${host}`);

  test('basicAuth before rateLimit: refused credentials spend no token; the limit counts admitted requests, the 429 logged with the user', async () => {
    const host = 'check-first.test';
    const statuses: number[] = [];
    for (const headers of [{}, WRONG, WRONG, WRONG, RIGHT, RIGHT, RIGHT, WRONG]) statuses.push((await get(web, '/', host, headers)).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 200, 200, 429, 401]);
    assert.deepEqual(await logged(host, 8), [
      [401, '-'], [401, 'test'], [401, 'test'], [401, 'test'], [200, 'test'], [200, 'test'], [429, 'test'], [401, 'test'],
    ]);
  });

  test('rateLimit before basicAuth (a brake on guessing): wrong passwords spend the tokens, then even the right one gets 429 without a challenge', async () => {
    const host = 'limit-first.test';
    const before = backend.requests.length;
    assert.equal((await get(web, '/', host, WRONG)).status, 401);
    assert.equal((await get(web, '/', host, WRONG)).status, 401);
    const limited = await get(web, '/', host, RIGHT);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['www-authenticate'], undefined, 'basicAuth never ran');
    assert.equal(backend.requests.length, before, 'nothing reached the service');
    // The user name is read by basicAuth, which the limit stopped before: nothing to log.
    assert.deepEqual(await logged(host, 3), [[401, 'test'], [401, 'test'], [429, '-']]);
  });

  test('api@internal behind ipAllowList as the README writes it: a client outside 10.0.0.0/8 gets 403 for the API and the dashboard', async () => {
    const websecure = gateway.address('websecure').port;
    for (const path of ['/api/overview', '/dashboard/']) {
      const refused = await get(websecure, path, 'gw.example');
      assert.equal(refused.status, 403, path);
      assert.equal(refused.body, 'Forbidden', path);
    }
    const overview = await get(websecure, '/api/overview', 'local.gw.example');
    assert.equal(overview.status, 200, 'the same router with the loopback range lets the client in');
    assert.equal((JSON.parse(overview.body) as { http: { routers: { total: number } } }).http.routers.total, 9);
    assert.match((await get(websecure, '/dashboard/', 'local.gw.example')).body, /Wharf dashboard/);
    assert.equal((await get(web, '/api/overview', 'local.gw.example')).status, 404, 'only on the router\'s entrypoint');
  });

  test('api@internal behind ipAllowList with ipStrategy.depth, behind a trusted proxy: the address the proxy added decides', async () => {
    const websecure = gateway.address('websecure').port;
    assert.equal((await get(websecure, '/api/overview', 'proxied.gw.example', { 'x-forwarded-for': '203.0.113.7, 10.1.2.3' })).status, 200);
    assert.equal((await get(websecure, '/api/overview', 'proxied.gw.example', { 'x-forwarded-for': '10.1.2.3, 203.0.113.7' })).status, 403, 'an address the client wrote further left does not count');
    assert.equal((await get(websecure, '/api/overview', 'proxied.gw.example')).status, 403, 'no proxy header: no client address');
  });

  test('api@internal behind basicAuth: a challenge without credentials, the API and the dashboard with them', async () => {
    const websecure = gateway.address('websecure').port;
    for (const path of ['/api/overview', '/dashboard/']) {
      const challenge = await get(websecure, path, 'basic.gw.example');
      assert.equal(challenge.status, 401, path);
      assert.equal(challenge.headers['www-authenticate'], 'Basic realm="traefik"', path);
      assert.equal((await get(websecure, path, 'basic.gw.example', WRONG)).status, 401, path);
    }
    const reply = await get(websecure, '/api/http/middlewares/staff@file', 'basic.gw.example', RIGHT);
    assert.equal(reply.status, 200);
    const middleware = JSON.parse(reply.body) as Record<string, unknown>;
    assert.deepEqual([middleware.type, middleware.status, (middleware.usedBy as string[]).toSorted()], ['basicauth', 'enabled', ['checkThenLimit@file', 'dashboardBasic@file', 'limitThenCheck@file']]);
    assert.match((await get(websecure, '/dashboard/', 'basic.gw.example', RIGHT)).body, /Wharf dashboard/);
  });

  test('no log line holds a password, a hash or the credentials: plain-text users, usersFile edits and refusals are named by user only', async () => {
    assert.equal((await get(web, '/', 'secrets.test', basic('plain', 'plain-text-secret'))).status, 401, 'plain text never matches');
    assert.equal((await get(web, '/', 'secrets.test', WRONG)).status, 401);
    assert.equal((await get(web, '/', 'filed.test', basic('filed', 'wrong-bcrypt-guess'))).status, 401);
    assert.equal((await get(web, '/', 'digest.test', { authorization: `Digest username="test", realm="traefik", response="${DIGEST_HA1}"` })).status, 401);
    // A broken edit of usersFile is logged (and the previous users kept), then a good one.
    dir.write('htpasswd', 'broken-line-with-a-secret\n');
    await eventually(() => logLines.some((l) => /usersFile: entry 1 is not 'name:hash'; keeping the previous users/.test(l)), 'the broken usersFile logged');
    dir.write('htpasswd', `${APR1_TEST.replace('test:', 'filed:')}\n`);
    await eventually(() => logLines.some((l) => /usersFile: reloaded, 1 users/.test(l)), 'the usersFile reloaded');
    assert.equal((await get(web, '/', 'filed.test', basic('filed', 'test'))).status, 200);
    assert.ok(logLines.some((l) => /users plain: the password is not a bcrypt/.test(l)), 'the plain-text user is warned about by name');
    assert.ok(logLines.some((l) => /rejecting IP '127\.0\.0\.1'/.test(l)), 'debug lines are in the log too');
    const secrets = [
      'plain-text-secret', 'H6uskkkW', 'IgXLP6ewTrSuBkTrqE8wj', 'u6EemoxRkBaUGj8IQqbs1', 'wrong-bcrypt-guess', 'broken-line-with-a-secret', DIGEST_HA1,
      ...[RIGHT, WRONG, basic('plain', 'plain-text-secret'), basic('filed', 'test')].map((h) => h.authorization.slice('Basic '.length)),
    ];
    const logs = { 'gateway log': logLines.join(''), 'access log': readFileSync(dir.file('access.log'), 'utf8') };
    for (const [name, text] of Object.entries(logs)) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `${name} holds ${secret}`);
    }
  });
});
