// basicAuth through a real gateway in front of a real backend: who gets in (inline users and usersFile), the 401
// challenge, headerField and removeHeader, the user name for the access log, usersFile reloads, configuration
// errors, and bcrypt checks that leave the event loop free.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { definePlugin, onResponseHeaders, startGateway, Type, type EmbeddedGateway, type Next, type WharfContext } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import { eventually, get, json, startBackend, tempDir, type Backend, type EchoBody, type TempDir } from '@wharf/test-helpers';
import { bcryptCompares } from './bcrypt-pool.js';
import basicAuth, { schema } from './index.js';

const APR1_TEST = 'test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/'; // password test
const APR1_TEST2 = 'test2:$apr1$d9hr9HBB$4HxwgUir3HP4EsggP/QNo0'; // password test2
const APR1_TEST2_OVERRIDDEN = 'test2:$apr1$mK.GtItK$ncnLYvNLek0weXdxo68690'; // password overridden
const SHA_ALICE = 'alice:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ='; // password secret
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe('basicAuth options', () => {
  const cases: Array<{ desc: string; labels: Record<string, string>; expected?: unknown; issues?: string[] }> = [
    { desc: 'defaults filled in', labels: { users: APR1_TEST }, expected: { users: [APR1_TEST], realm: 'traefik', removeHeader: false } },
    {
      desc: 'every option, keys case-insensitive',
      labels: { USERS: `${APR1_TEST},${SHA_ALICE}`, usersfile: '/etc/htpasswd', realm: 'staff', headerfield: 'X-WebAuth-User', removeheader: 'true' },
      expected: { users: [APR1_TEST, SHA_ALICE], usersFile: '/etc/htpasswd', realm: 'staff', headerField: 'X-WebAuth-User', removeHeader: true },
    },
    { desc: 'headerField must be a header name', labels: { users: APR1_TEST, headerField: 'X User' }, issues: ['headerField: must match pattern "^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$"'] },
  ];
  for (const { desc, labels, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, flatToTree(Object.entries(labels)));
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected) assert.deepEqual(result.value, expected);
    });
  }

  test('validate names the field, never the secret', () => {
    const base = { users: [], realm: 'traefik', removeHeader: false };
    assert.throws(() => basicAuth.validate!(base), { message: 'users: no users; set users or usersFile' });
    assert.throws(() => basicAuth.validate!({ ...base, users: [APR1_TEST, '$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/'] }), { message: "users: entry 2 is not 'name:hash'" });
  });
});

/** Reports after the chain what the access log reads: the user name and the refusing middleware. */
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

describe('basicAuth through a gateway', () => {
  let backend: Backend;
  let gateway: EmbeddedGateway;
  let port: number;
  let dir: TempDir;
  let usersFile: string;
  const slowHash = bcrypt.hashSync('slow', 12); // ~0.4 s of CPU in JavaScript

  before(async () => {
    dir = tempDir('wharf-basicauth-');
    usersFile = dir.write('htpasswd', `# staff\n${APR1_TEST}\n${APR1_TEST2}\n`);
    backend = await startBackend('b');
    const middlewares: Record<string, unknown> = {
      inline: { basicAuth: { users: [APR1_TEST, SHA_ALICE, `bob:${bcrypt.hashSync('builder', 4).replace('$2b$', '$2y$')}`, 'plain:text'] } },
      file: { basicAuth: { usersFile, users: [APR1_TEST2_OVERRIDDEN], realm: 'staff "only"' } },
      forward: { basicAuth: { users: [APR1_TEST], headerField: 'X-WebAuth-User', removeHeader: true } },
      emptyRealm: { basicAuth: { users: [APR1_TEST], realm: '' } },
      slow: { basicAuth: { users: [`slow:${slowHash}`] } },
      missingFile: { basicAuth: { usersFile: dir.file('absent') } },
      badEntry: { basicAuth: { users: ['nocolon'] } },
      probe: { probe: {} },
    };
    const routers: Record<string, unknown> = { open: { rule: 'PathPrefix(`/open/`)', service: 'b' } };
    for (const name of Object.keys(middlewares).filter((n) => n !== 'probe')) {
      routers[name] = { rule: `PathPrefix(\`/${name}/\`)`, middlewares: ['probe', name], service: 'b' };
    }
    gateway = await startGateway({
      plugins: [basicAuth, probe],
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

  test('lets in the right users, answers 401 with the challenge otherwise', async () => {
    const cases: Array<{ desc: string; path: string; headers?: Record<string, string>; status: number; user?: string }> = [
      { desc: 'apr1 user', path: '/inline/', headers: basic('test', 'test'), status: 200, user: 'test' },
      { desc: 'SHA1 user', path: '/inline/', headers: basic('alice', 'secret'), status: 200, user: 'alice' },
      { desc: 'bcrypt $2y$ user', path: '/inline/', headers: basic('bob', 'builder'), status: 200, user: 'bob' },
      { desc: 'wrong password', path: '/inline/', headers: basic('test', 'nope'), status: 401, user: 'test' },
      { desc: 'unknown user', path: '/inline/', headers: basic('mallory', 'test'), status: 401, user: 'mallory' },
      { desc: 'plain-text entry never matches', path: '/inline/', headers: basic('plain', 'text'), status: 401, user: 'plain' },
      { desc: 'no credentials', path: '/inline/', status: 401, user: '-' },
      { desc: 'another scheme', path: '/inline/', headers: { authorization: 'Bearer abc' }, status: 401, user: '-' },
      { desc: 'usersFile user', path: '/file/', headers: basic('test', 'test'), status: 200, user: 'test' },
      { desc: 'users win over usersFile', path: '/file/', headers: basic('test2', 'overridden'), status: 200, user: 'test2' },
      { desc: "usersFile's overridden password", path: '/file/', headers: basic('test2', 'test2'), status: 401, user: 'test2' },
      { desc: 'an empty realm challenges with the default one', path: '/emptyRealm/', status: 401, user: '-' },
    ];
    for (const { desc, path, headers, status, user } of cases) {
      const reply = await get(port, path, 'localhost', headers);
      assert.equal(reply.status, status, desc);
      assert.equal(reply.headers['x-client-username'], user, `${desc}: user name for the access log`);
      if (status === 401) {
        assert.equal(reply.headers['www-authenticate'], path === '/file/' ? 'Basic realm="staff \\"only\\""' : 'Basic realm="traefik"', desc);
        assert.equal(reply.body, '401 Unauthorized\n', desc);
        assert.equal(reply.headers['x-rejected-by'], `${path.slice(1, -1)}@inline`, `${desc}: rejectedBy`);
      }
    }
  });

  test('headerField carries the user upstream, removeHeader drops Authorization; without them both pass as sent', async () => {
    const forwarded = json<EchoBody>(await get(port, '/forward/', 'localhost', { ...basic('test', 'test'), 'x-webauth-user': 'forged' }));
    assert.equal(forwarded.headers['x-webauth-user'], 'test');
    assert.equal(forwarded.headers.authorization, undefined);
    const kept = json<EchoBody>(await get(port, '/inline/', 'localhost', basic('test', 'test')));
    assert.equal(kept.headers.authorization, basic('test', 'test').authorization);
    assert.equal(kept.headers['x-webauth-user'], undefined);
  });

  test('usersFile is re-read when it changes', async () => {
    dir.write('htpasswd', `${SHA_ALICE}\n`);
    await eventually(async () => (await get(port, '/file/', 'localhost', basic('alice', 'secret'))).status === 200, 'the new user accepted');
    assert.equal((await get(port, '/file/', 'localhost', basic('test', 'test'))).status, 401, 'a removed user (with a cached success) is refused');
    assert.equal((await get(port, '/file/', 'localhost', basic('test2', 'overridden'))).status, 200, 'inline users stay');
  });

  test('a bad usersFile or entry disables only its router, naming the field', async () => {
    const errors = (name: string) => gateway.info.routers[`${name}@inline`]?.errors?.join('\n') ?? '';
    assert.equal(gateway.info.routers['missingFile@inline']?.status, 'disabled');
    assert.match(errors('missingFile'), /usersFile: cannot read '.*absent' \(ENOENT\)/);
    assert.match(errors('badEntry'), /users: entry 1 is not 'name:hash'/);
    assert.equal((await get(port, '/open/')).status, 200);
  });

  test('a bcrypt success is remembered for its exact header; failures and other headers are checked each time', async () => {
    const compared = async (headers: Record<string, string>, status: number, path = '/inline/') => {
      const before = bcryptCompares();
      assert.equal((await get(port, path, 'localhost', headers)).status, status);
      return bcryptCompares() - before;
    };
    const right = basic('bob', 'builder');
    await compared(right, 200); // checked now, or remembered from an earlier test
    assert.equal(await compared(right, 200), 0, 'the same header again: no bcrypt check');
    assert.equal(await compared({ authorization: right.authorization.replace('Basic', 'basic') }, 200), 1, 'another spelling of the same credentials is another header');
    assert.equal(await compared(basic('bob', 'wrong'), 401), 1, 'a wrong password is checked');
    assert.equal(await compared(basic('bob', 'wrong'), 401), 1, 'and checked again: failures are not remembered');
    assert.equal(await compared(basic('nobody', 'slow'), 401, '/slow/'), 1, 'an unknown user costs a check too (against another user\'s hash)');
  });

  test('bcrypt runs off the event loop: another router answers while the checks run', async () => {
    const order: string[] = [];
    const slow = Promise.all([1, 2, 3].map(() => get(port, '/slow/', 'localhost', basic('slow', 'slow')).then((r) => (order.push('slow'), r.status))));
    const open = get(port, '/open/').then((r) => (order.push('open'), r.status));
    assert.deepEqual(await Promise.all([slow, open]), [[200, 200, 200], 200]);
    // A check on the event loop would hold every other request for its ~0.4 s: the open one would come last.
    assert.equal(order[0], 'open', `answers in order ${order.join(', ')}`);
  });
});

describe('basicAuth across configuration changes', () => {
  test('a new configuration starts with no remembered success: a changed password takes effect at once', async () => {
    const backend = await startBackend('b');
    const config = (hash: string) => ({
      http: {
        routers: { r: { rule: 'PathPrefix(`/`)', middlewares: ['auth'], service: 'b' } },
        middlewares: { auth: { basicAuth: { users: [`bob:${hash}`] } } },
        services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } },
      },
    });
    const gateway = await startGateway({ plugins: [basicAuth], args: ['--entrypoints.web.address=127.0.0.1:0'], dynamic: config(bcrypt.hashSync('builder', 4)) });
    try {
      const port = gateway.address('web').port;
      const old = basic('bob', 'builder');
      assert.equal((await get(port, '/', 'localhost', old)).status, 200);
      const before = bcryptCompares();
      assert.equal((await get(port, '/', 'localhost', old)).status, 200);
      assert.equal(bcryptCompares(), before, 'remembered within one configuration');
      gateway.configure(config(bcrypt.hashSync('fixer', 4)));
      await eventually(async () => (await get(port, '/', 'localhost', basic('bob', 'fixer'))).status === 200, 'the new password accepted');
      assert.equal((await get(port, '/', 'localhost', old)).status, 401, 'the old password, remembered by the previous configuration, is refused');
    } finally {
      await gateway.stop();
      await backend.close();
    }
  });
});
