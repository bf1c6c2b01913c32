// Secrets as htpasswd and openssl write them (vectors from `openssl passwd` and Traefik's basic_auth_test.go),
// the Basic header as Go reads it, the users table, and the verification cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { checkSecret, md5Crypt, sameText, secretKind } from './hash.js';
import { parseBasic } from './index.js';
import { splitBasic, unusableUsers, userTable } from './users.js';
import { fileLines } from '@wharf/core';
import { VerifiedCache } from './cache.js';

test('md5Crypt matches openssl passwd -apr1 / -1', () => {
  const table: Array<[password: string, salt: string, magic: string, expected: string]> = [
    ['test', 'H6uskkkW', '$apr1$', '$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/'],
    ['hello', 'dlPL2MqE', '$1$', '$1$dlPL2MqE$oQmn16q49SqdmhenQuNgs1'],
    ['pässwörd', 'abc', '$apr1$', '$apr1$abc$.kub6C9IpUJdLZraWLyC4.'],
    ['x', '', '$1$', '$1$$LP5.V3ajGqHDdXW6XwZQy.'],
  ];
  for (const [password, salt, magic, expected] of table) assert.equal(md5Crypt(Buffer.from(password), Buffer.from(salt), magic), expected, expected);
});

test('checkSecret: every scheme Traefik accepts, and plain text never', async () => {
  const bcryptHash = bcrypt.hashSync('test', 4); // $2b$
  const cases: Array<{ desc: string; secret: string; password: string; expected: boolean }> = [
    { desc: 'apr1', secret: '$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/', password: 'test', expected: true },
    { desc: 'apr1, wrong password', secret: '$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/', password: 'tesT', expected: false },
    { desc: 'md5-crypt $1$', secret: '$1$dlPL2MqE$oQmn16q49SqdmhenQuNgs1', password: 'hello', expected: true },
    { desc: 'SHA1', secret: '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=', password: 'secret', expected: true },
    { desc: 'SHA1, wrong password', secret: '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=', password: 'secreT', expected: false },
    { desc: "Traefik's $2a$ vector", secret: '$2a$04$.8sTYfcxbSplCtoxt5TdJOgpBYkarKtZYsYfYxQ1edbYRuO1DNi0e', password: 'test', expected: true },
    { desc: 'bcrypt $2b$', secret: bcryptHash, password: 'test', expected: true },
    { desc: 'bcrypt $2y$ (htpasswd -B)', secret: bcryptHash.replace('$2b$', '$2y$'), password: 'test', expected: true },
    { desc: 'bcrypt $2x$', secret: bcryptHash.replace('$2b$', '$2x$'), password: 'test', expected: true },
    { desc: 'bcrypt, wrong password', secret: bcryptHash, password: 'tset', expected: false },
    { desc: 'bcrypt, truncated hash', secret: bcryptHash.slice(0, 40), password: 'test', expected: false },
    { desc: 'plain text is not accepted (as go-http-auth)', secret: 'test', password: 'test', expected: false },
    { desc: 'empty secret', secret: '', password: '', expected: false },
  ];
  for (const { desc, secret, password, expected } of cases) {
    assert.equal(await checkSecret(Buffer.from(password), secret), expected, desc);
  }
  assert.equal(await checkSecret(Buffer.from([0xff, 0xfe]), bcryptHash), false, 'bytes that are not UTF-8 against bcrypt');
  assert.deepEqual(['$2y$10$x', '$apr1$a$b', '$1$a$b', '{SHA}x', 'plain', '$5$x'].map(secretKind), ['bcrypt', 'md5crypt', 'md5crypt', 'sha1', 'unsupported', 'unsupported']);
});

test('sameText compares strings of any lengths without throwing', () => {
  // timingSafeEqual throws on different lengths; sameText compares fixed-length digests instead.
  assert.equal(sameText('abc', 'abc'), true);
  assert.equal(sameText('abc', 'abd'), false);
  assert.equal(sameText('abc', 'abcd'), false);
  assert.equal(sameText('', 'x'.repeat(1000)), false);
});

test('parseBasic reads the header as Go Request.BasicAuth', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const cases: Array<[header: string | undefined, expected: [string, string] | undefined]> = [
    [`Basic ${b64('test:test')}`, ['test', 'test']],
    [`basic ${b64('test:test')}`, ['test', 'test']],
    [`BASIC ${b64('user:pa:ss')}`, ['user', 'pa:ss']],
    [`Basic ${b64('user:')}`, ['user', '']],
    [`Basic ${b64(':pw')}`, ['', 'pw']],
    [`Basic ${b64('nocolon')}`, undefined],
    [`Basic ${b64('test:tes')}`, ['test', 'tes']],
    [`Basic ${b64('test:tes').replace(/=+$/, '')}`, undefined],
    ['Basic ***', undefined],
    [`Bearer ${b64('test:test')}`, undefined],
    ['Basic', undefined],
    [undefined, undefined],
  ];
  for (const [header, expected] of cases) {
    const parsed = parseBasic(header);
    assert.deepEqual(parsed && [parsed.user, parsed.password.toString()], expected, String(header));
  }
});

test('users: file lines, then users winning; errors name the entry, never the secret', () => {
  assert.deepEqual(fileLines('#comment\n  a:$apr1$x$y  \n\n# b:c\nb:{SHA}z\n'), ['a:$apr1$x$y', 'b:{SHA}z']);
  const table = userTable(['test:$apr1$a$b', 'test2:$apr1$c$d'], ['test2:$apr1$e$f', 'plain:text'], splitBasic, "'name:hash'");
  assert.deepEqual([...table.secrets], [['test', '$apr1$a$b'], ['test2', '$apr1$e$f'], ['plain', 'text']]);
  assert.equal(table.decoy, '$apr1$a$b');
  assert.deepEqual(unusableUsers(table), ['plain']);
  assert.throws(() => userTable([], ['ok:$apr1$a$b', 'secret-without-name'], splitBasic, "'name:hash'"), { message: "users: entry 2 is not 'name:hash'" });
  assert.throws(() => userTable(['a:b:c'], [], splitBasic, "'name:hash'"), { message: "usersFile: entry 1 is not 'name:hash'" });
  assert.throws(() => userTable([], [], splitBasic, "'name:hash'"), { message: 'users: no users; set users or usersFile' });
});

test('VerifiedCache: entries expire after the TTL, the oldest goes first when full', () => {
  const cache = new VerifiedCache(60_000, 2);
  cache.set('a', 'alice', 0);
  assert.equal(cache.get('a', 59_999), 'alice');
  assert.equal(cache.get('a', 60_000), undefined);
  cache.set('a', 'alice', 0);
  cache.set('b', 'bob', 0);
  cache.set('c', 'carol', 0);
  assert.deepEqual([cache.get('a', 1), cache.get('b', 1), cache.get('c', 1)], [undefined, 'bob', 'carol']);
  cache.clear();
  assert.equal(cache.size, 0);
});
