// The digest exchange as go-http-auth (Traefik) checks it: parameters, response, opaque, qop, uri, nonces and
// their counts; users from htdigest lines. Vectors from Traefik's digest_auth_test.go (HA1 of test:traefik:test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DigestAuthority, digestParams, md5, NONCE_LIMIT, NONCE_TOLERANCE } from './digest.js';
import { digestUsers } from './users.js';
import { fileLines } from '@wharf/core';

const HA1_TEST = 'a2688e031edb4be6a3797f3882655c05';

/** What a client sends for `challenge` (RFC 7616 §3.4.1, MD5, qop=auth). */
function respond(opts: { user: string; password: string; realm: string; nonce: string; opaque: string; method?: string; uri?: string; nc?: string; cnonce?: string; ha1?: string }): Map<string, string> {
  const { user, realm, nonce, opaque, method = 'GET', uri = '/', nc = '00000001', cnonce = 'c0ffee' } = opts;
  const ha1 = opts.ha1 ?? md5(`${user}:${realm}:${opts.password}`);
  const response = md5([ha1, nonce, nc, cnonce, 'auth', md5(`${method}:${uri}`)].join(':'));
  return new Map(Object.entries({ username: user, realm, nonce, uri, algorithm: 'MD5', qop: 'auth', nc, cnonce, response, opaque }));
}

test('HA1 vectors of Traefik tests', () => {
  assert.equal(md5('test:traefik:test'), HA1_TEST);
  assert.equal(md5('test2:traefik:overridden'), '8de60a1c52da68ccf41f0c0ffb7c51a0');
});

test('digestParams: quoted and bare values, escapes, commas inside quotes; only the Digest scheme', () => {
  const header = 'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="8ca523f5e9506fed4657c9700eebdbec", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", note="a, \\"b\\""';
  assert.deepEqual(Object.fromEntries(digestParams(header)!), {
    username: 'Mufasa',
    realm: 'http-auth@example.org',
    uri: '/dir/index.html',
    algorithm: 'MD5',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    qop: 'auth',
    response: '8ca523f5e9506fed4657c9700eebdbec',
    opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
    note: 'a, "b"',
  });
  // Hostile headers (16 kB, the default header limit) parse in linear time; a pattern with adjacent overlapping
  // quantifiers takes a quadratic time on some of them.
  const started = process.hrtime.bigint();
  for (const hostile of [`a=${' '.repeat(16_000)}x y`, `a=x${' '.repeat(16_000)}y`, `a="${'\\'.repeat(16_000)}`, 'a='.repeat(8_000), `${' '.repeat(16_000)}a`]) {
    digestParams(`Digest ${hostile}`);
  }
  assert.ok(process.hrtime.bigint() - started < 1_000_000_000n, 'hostile headers parse in well under a second');
  for (const other of [undefined, 'Basic dGVzdDp0ZXN0', 'digest username="x"', 'Digest']) assert.equal(digestParams(other), undefined, String(other));
});

test('check: right credentials pass once per nonce count; everything else is refused or stale', () => {
  const users = new Map([['test:traefik', HA1_TEST]]);
  const authority = new DigestAuthority('traefik', (user, realm) => users.get(`${user}:${realm}`));
  const nonce = authority.issueNonce();
  const base = { user: 'test', password: 'test', realm: 'traefik', nonce, opaque: authority.opaque };
  const get = { method: 'GET', url: '/' };
  assert.deepEqual(authority.check(respond(base), get), { user: 'test' });
  const cases: Array<{ desc: string; params: Map<string, string>; request?: { method: string; url: string }; expected: unknown }> = [
    { desc: 'the same nonce count again (replay)', params: respond(base), expected: { stale: true } },
    { desc: 'a lower nonce count (out of order)', params: respond({ ...base, nc: '00000000' }), expected: { stale: true } },
    { desc: 'wrong password', params: respond({ ...base, password: 'nope', nc: '00000005' }), expected: { refused: true } },
    { desc: 'unknown user with an empty HA1', params: respond({ ...base, user: 'ghost', ha1: '', nc: '00000005' }), expected: { refused: true } },
    { desc: 'a user of another realm', params: respond({ ...base, realm: 'other', nc: '00000005' }), expected: { refused: true } },
    { desc: 'another opaque', params: respond({ ...base, opaque: 'x', nc: '00000005' }), expected: { refused: true } },
    { desc: 'a nonce this middleware never issued', params: respond({ ...base, nonce: 'forged', nc: '00000005' }), expected: { stale: true } },
    { desc: 'the digest of another method', params: respond({ ...base, nc: '00000005' }), request: { method: 'POST', url: '/' }, expected: { refused: true } },
    { desc: 'uri a prefix of the path is accepted (go-http-auth)', params: respond({ ...base, uri: '/api', nc: '00000006' }), request: { method: 'GET', url: '/api/items?x=1' }, expected: { user: 'test' } },
    { desc: 'uri of another path', params: respond({ ...base, uri: '/other', nc: '00000007' }), request: { method: 'GET', url: '/api' }, expected: { refused: true } },
    { desc: 'a higher nonce count passes', params: respond({ ...base, nc: '0000000a' }), expected: { user: 'test' } },
  ];
  for (const { desc, params, request, expected } of cases) assert.deepEqual(authority.check(params, request ?? get), expected, desc);

  const noQop = respond({ ...base, nc: '00000010' });
  noQop.delete('qop');
  assert.deepEqual(authority.check(noQop, get), { refused: true }, 'qop=auth is required');
  const sess = respond({ ...base, nc: '00000010' });
  sess.set('algorithm', 'MD5-sess');
  assert.deepEqual(authority.check(sess, get), { refused: true }, 'only MD5');
  const implicit = respond({ ...base, nc: '00000010' });
  implicit.delete('algorithm');
  assert.deepEqual(authority.check(implicit, get), { user: 'test' }, 'no algorithm means MD5');
});

test('the nonce table is bounded: the least recently used go first', () => {
  const authority = new DigestAuthority('traefik', () => HA1_TEST);
  const first = authority.issueNonce();
  for (let i = 0; i < NONCE_LIMIT + NONCE_TOLERANCE + 1; i++) authority.issueNonce();
  authority.issueNonce();
  assert.ok(authority.nonceCount <= NONCE_LIMIT + NONCE_TOLERANCE + 1, `${authority.nonceCount} nonces kept`);
  const params = respond({ user: 'test', password: 'test', realm: 'traefik', nonce: first, opaque: authority.opaque });
  assert.deepEqual(authority.check(params, { method: 'GET', url: '/' }), { stale: true });
});

test('challenge: realm, nonce, opaque, MD5, qop=auth, stale when asked', () => {
  const authority = new DigestAuthority('my "realm"', () => undefined);
  const challenge = authority.challenge(true);
  assert.match(challenge, /^Digest realm="my \\"realm\\"", nonce="[A-Za-z0-9+/]{24}", opaque="[A-Za-z0-9+/]{24}", algorithm="MD5", qop="auth", stale=true$/);
  assert.equal(digestParams(challenge)!.get('opaque'), authority.opaque);
  assert.doesNotMatch(authority.challenge(false), /stale/);
});

test('users: htdigest lines; users win for the same name and realm; errors name the entry only', () => {
  assert.deepEqual(fileLines('# c\n test:traefik:aa \n\n'), ['test:traefik:aa']);
  const users = digestUsers(['test:traefik:aa', 'test2:traefik:bb'], ['test2:traefik:cc', 'test2:other:dd']);
  assert.deepEqual([...users], [['test:traefik', 'aa'], ['test2:traefik', 'cc'], ['test2:other', 'dd']]);
  assert.throws(() => digestUsers([], ['test:aa']), { message: "users: entry 1 is not 'name:realm:HA1'" });
  assert.throws(() => digestUsers(['a:b:c:d'], []), { message: "usersFile: entry 1 is not 'name:realm:HA1'" });
  assert.throws(() => digestUsers([], []), { message: 'users: no users; set users or usersFile' });
});
