// digestAuth through a real gateway in front of a real backend: the challenge, a client answering it, headerField
// and removeHeader, the user name for the access log, usersFile reloads and configuration errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { definePlugin, onResponseHeaders, startGateway, Type, type EmbeddedGateway, type Next, type WharfContext } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import { eventually, get, json, startBackend, tempDir, type Backend, type EchoBody, type Reply, type TempDir } from '@wharf/test-helpers';
import digestAuth, { digestParams, md5, schema } from './index.js';

const TEST = 'test:traefik:a2688e031edb4be6a3797f3882655c05'; // password test
const TEST2 = 'test2:traefik:518845800f9e2bfb1f1f740ec24f074e'; // password test2
const TEST2_OVERRIDDEN = 'test2:traefik:8de60a1c52da68ccf41f0c0ffb7c51a0'; // password overridden

describe('digestAuth options', () => {
  test('labels decode with defaults', () => {
    const result = decode(schema, flatToTree(Object.entries({ users: `${TEST},${TEST2}`, headerfield: 'X-WebAuth-User' })));
    assert.deepEqual(result.issues, []);
    assert.deepEqual(result.value, { users: [TEST, TEST2], realm: 'traefik', headerField: 'X-WebAuth-User', removeHeader: false });
  });

  test('validate names the field, never the secret', () => {
    const base = { users: [], realm: 'traefik', removeHeader: false };
    assert.throws(() => digestAuth.validate!(base), { message: 'users: no users; set users or usersFile' });
    assert.throws(() => digestAuth.validate!({ ...base, users: ['test:a2688e031edb4be6a3797f3882655c05'] }), { message: "users: entry 1 is not 'name:realm:HA1'" });
  });
});

const probe = definePlugin({
  name: 'probe',
  schema: Type.Object({}),
  create() {
    return async function probe(ctx: WharfContext, next: Next) {
      const report = (set: (name: string, value: string) => void) => {
        set('x-client-username', (ctx.state as { clientUsername?: string }).clientUsername ?? '-');
        set('x-rejected-by', ctx.wharf.rejectedBy ?? '-');
      };
      onResponseHeaders(ctx, (_status, headers) => report((name, value) => (headers[name] = value)));
      await next();
      if (!ctx.res.headersSent) report((name, value) => ctx.set(name, value));
    };
  },
});

describe('digestAuth through a gateway', () => {
  let backend: Backend;
  let gateway: EmbeddedGateway;
  let port: number;
  let dir: TempDir;

  /** A client: ask, answer the challenge with user and password, as browsers do. */
  async function login(path: string, user: string, password: string, extra: Record<string, string> = {}): Promise<Reply> {
    const challenge = await get(port, path);
    assert.equal(challenge.status, 401, `${path}: challenged first`);
    const params = digestParams(String(challenge.headers['www-authenticate']))!;
    const [realm, nonce, opaque] = ['realm', 'nonce', 'opaque'].map((k) => params.get(k)!);
    const nc = '00000001';
    const cnonce = 'b5a2f0';
    const response = md5([md5(`${user}:${realm}:${password}`), nonce, nc, cnonce, 'auth', md5(`GET:${path}`)].join(':'));
    const authorization = `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${path}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}", opaque="${opaque}"`;
    return get(port, path, 'localhost', { authorization, ...extra });
  }

  before(async () => {
    dir = tempDir('wharf-digestauth-');
    const usersFile = dir.write('htdigest', `# staff\n${TEST}\n${TEST2}\n`);
    backend = await startBackend('b');
    const middlewares: Record<string, unknown> = {
      inline: { digestAuth: { users: [TEST] } },
      file: { digestAuth: { usersFile, users: [TEST2_OVERRIDDEN] } },
      forward: { digestAuth: { users: [TEST], headerField: 'X-WebAuth-User', removeHeader: true } },
      broken: { digestAuth: { usersFile: dir.file('absent') } },
      emptyRealm: { digestAuth: { users: [TEST], realm: '' } },
      probe: { probe: {} },
    };
    const routers: Record<string, unknown> = { open: { rule: 'PathPrefix(`/open/`)', service: 'b' } };
    for (const name of ['inline', 'file', 'forward', 'broken', 'emptyRealm']) routers[name] = { rule: `PathPrefix(\`/${name}/\`)`, middlewares: ['probe', name], service: 'b' };
    gateway = await startGateway({
      plugins: [digestAuth, probe],
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: { http: { routers, middlewares, services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } } } },
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    await gateway.stop();
    await backend.close();
    dir.remove();
  });

  test('challenges, then lets in the right users', async () => {
    const challenge = await get(port, '/inline/');
    assert.equal(challenge.status, 401);
    assert.equal(challenge.body, '401 Unauthorized\n');
    assert.match(String(challenge.headers['www-authenticate']), /^Digest realm="traefik", nonce="[^"]+", opaque="[^"]+", algorithm="MD5", qop="auth"$/);
    assert.equal(challenge.headers['x-rejected-by'], 'inline@inline');
    const cases: Array<{ desc: string; path: string; user: string; password: string; status: number }> = [
      { desc: 'inline user', path: '/inline/', user: 'test', password: 'test', status: 200 },
      { desc: 'wrong password', path: '/inline/', user: 'test', password: 'nope', status: 401 },
      { desc: 'unknown user', path: '/inline/', user: 'ghost', password: 'test', status: 401 },
      { desc: 'usersFile user', path: '/file/', user: 'test', password: 'test', status: 200 },
      { desc: 'users win over usersFile', path: '/file/', user: 'test2', password: 'overridden', status: 200 },
      { desc: "usersFile's overridden password", path: '/file/', user: 'test2', password: 'test2', status: 401 },
      { desc: 'an empty realm is the default one (traefik): its users log in', path: '/emptyRealm/', user: 'test', password: 'test', status: 200 },
    ];
    for (const { desc, path, user, password, status } of cases) {
      const reply = await login(path, user, password);
      assert.equal(reply.status, status, desc);
      assert.equal(reply.headers['x-client-username'], user, `${desc}: user name for the access log`);
    }
  });

  test('headerField carries the user upstream, removeHeader drops Authorization', async () => {
    const echo = json<EchoBody>(await login('/forward/', 'test', 'test', { 'x-webauth-user': 'forged' }));
    assert.equal(echo.headers['x-webauth-user'], 'test');
    assert.equal(echo.headers.authorization, undefined);
    const kept = json<EchoBody>(await login('/inline/', 'test', 'test'));
    assert.match(String(kept.headers.authorization), /^Digest username="test"/);
  });

  test('usersFile is re-read when it changes', async () => {
    dir.write('htdigest', `alice:traefik:${md5('alice:traefik:wonderland')}\n`);
    await eventually(async () => (await login('/file/', 'alice', 'wonderland')).status === 200, 'the new user accepted');
    assert.equal((await login('/file/', 'test', 'test')).status, 401, 'a removed user is refused');
  });

  test('a missing usersFile disables only its router, naming the field', async () => {
    assert.equal(gateway.info.routers['broken@inline']?.status, 'disabled');
    assert.match(gateway.info.routers['broken@inline']?.errors?.join('\n') ?? '', /usersFile: cannot read '.*absent' \(ENOENT\)/);
    assert.equal((await get(port, '/open/')).status, 200);
  });
});
