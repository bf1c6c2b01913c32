// The verifier on its own, with the real bcrypt worker: concurrent requests share one check, and a check in flight
// when the users change answers only for the users it read (as Traefik's singleflight, keyed on password and secret).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { bcryptCompares } from './bcrypt-pool.js';
import { VerifiedCache } from './cache.js';
import { splitBasic, userTable, type UserTable } from './users.js';
import { verifier } from './verify.js';

const HASH = bcrypt.hashSync('pw', 4);
const header = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const users = (...lines: string[]) => userTable([], lines, splitBasic, "'name:hash'");

function source(table: UserTable) {
  return { table, generation: 0, cache: new VerifiedCache() };
}

test('concurrent requests with the same header share one bcrypt check; its success is remembered', async () => {
  const users0 = source(users(`bob:${HASH}`));
  const verify = verifier(users0);
  const before = bcryptCompares();
  const verdicts = await Promise.all([1, 2, 3].map(() => verify(header('bob', 'pw'), 'bob', Buffer.from('pw'))));
  assert.deepEqual(verdicts, [true, true, true]);
  assert.equal(bcryptCompares() - before, 1);
  assert.equal(users0.cache.size, 1);
});

test('a check in flight when the users change does not answer for the new users, nor is its success remembered', async () => {
  const current = source(users(`bob:${HASH}`));
  const verify = verifier(current);
  const first = verify(header('bob', 'pw'), 'bob', Buffer.from('pw'));
  // What a usersFile reload does, while the first check is still in the worker: bob is gone.
  current.table = users(`alice:${HASH}`);
  current.generation++;
  current.cache.clear();
  const second = verify(header('bob', 'pw'), 'bob', Buffer.from('pw'));
  assert.deepEqual(await Promise.all([first, second]), [true, false]);
  assert.equal(current.cache.size, 0, 'the success of the old users is not remembered');
});
