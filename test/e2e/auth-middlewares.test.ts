// The new access-control middlewares in the distribution, configured from a file: basicAuth's user reaches the
// access log's ClientUsername, ipAllowList and inFlightReq answer, and the API shows them with users hidden.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startGateway } from 'wharf';
import type { EmbeddedGateway } from '@wharf/core';
import { eventually, get, startBackend, tempDir, type Backend, type TempDir } from '@wharf/test-helpers';

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

let dir: TempDir;
let backend: Backend;
let gateway: EmbeddedGateway;
let web: number;
let api: number;

before(async () => {
  dir = tempDir('wharf-e2e-auth-');
  backend = await startBackend('b');
  const dynamic = `
http:
  routers:
    basic: { rule: "PathPrefix(\`/basic\`)", middlewares: [staff], service: b }
    allowed: { rule: "PathPrefix(\`/allowed\`)", middlewares: [local], service: b }
    denied: { rule: "PathPrefix(\`/denied\`)", middlewares: [office], service: b }
    digest: { rule: "PathPrefix(\`/digest\`)", middlewares: [digest], service: b }
    limited: { rule: "PathPrefix(\`/limited\`)", middlewares: [few], service: b }
  middlewares:
    staff: { basicAuth: { users: ["test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"], headerField: X-WebAuth-User } }
    local: { ipAllowList: { sourceRange: ["127.0.0.1/32", "::1"] } }
    office: { ipWhiteList: { sourceRange: ["192.168.1.0/24"] } }
    digest: { digestAuth: { users: ["test:traefik:a2688e031edb4be6a3797f3882655c05"] } }
    few: { inFlightReq: { amount: 5 } }
  services:
    b: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`;
  gateway = await startGateway({
    args: [
      '--entrypoints.web.address=127.0.0.1:0',
      '--entrypoints.traefik.address=127.0.0.1:0',
      '--api.insecure=true',
      '--accessLog.format=json',
      `--accessLog.filePath=${dir.file('access.log')}`,
      `--providers.file.filename=${dir.write('dynamic.yml', dynamic)}`,
    ],
  });
  web = gateway.address('web').port;
  api = gateway.address('traefik').port;
  await eventually(() => gateway.info.routers['basic@file']?.status === 'enabled', 'the file configuration applied');
});

after(async () => {
  await gateway.stop();
  await backend.close();
  dir.remove();
});

test('answers of the middlewares, and the user in the access log', async () => {
  const cases: Array<[path: string, headers: Record<string, string>, status: number]> = [
    ['/basic', basic('test', 'test'), 200],
    ['/basic', basic('test', 'wrong'), 401],
    ['/allowed', {}, 200],
    ['/denied', {}, 403],
    ['/digest', {}, 401],
    ['/limited', {}, 200],
  ];
  for (const [path, headers, status] of cases) assert.equal((await get(web, path, 'localhost', headers)).status, status, path);
  const lines = await eventually(() => {
    const text = readFileSync(dir.file('access.log'), 'utf8').trim();
    const found = text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    return found.length === cases.length && found;
  }, 'one access log line per request');
  assert.deepEqual(
    lines.map((l) => [l.RequestPath, l.DownstreamStatus, l.ClientUsername]),
    [['/basic', 200, 'test'], ['/basic', 401, 'test'], ['/allowed', 200, '-'], ['/denied', 403, '-'], ['/digest', 401, '-'], ['/limited', 200, '-']],
  );
});

test('the API lists them by type, users hidden', async () => {
  const middleware = async (name: string) => (await get(api, `/api/http/middlewares/${name}@file`)).body;
  const staff = JSON.parse(await middleware('staff')) as Record<string, unknown>;
  assert.equal(staff.type, 'basicauth');
  assert.deepEqual(staff.basicAuth, { users: 'xxxx', realm: 'traefik', headerField: 'X-WebAuth-User', removeHeader: false });
  const digest = JSON.parse(await middleware('digest')) as { digestAuth: { users: unknown } };
  assert.equal(digest.digestAuth.users, 'xxxx');
  const raw = (await get(api, '/api/rawdata')).body;
  assert.doesNotMatch(raw, /apr1|a2688e031edb4be6a3797f3882655c05/);
});
