// Deadlines: unsettled calls expire in call order once their bound passes; settled ones never do; handlers may re-enter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Deadlines } from './deadlines.js';

test('unsettled deadlines expire in call order; settled ones never fire', async () => {
  const deadlines = new Deadlines(() => 30);
  const fired: string[] = [];
  const a = deadlines.add(() => fired.push('a'));
  const b = deadlines.add(() => fired.push('b'));
  deadlines.add(() => fired.push('c'));
  deadlines.settle(b);
  await sleep(80);
  assert.deepEqual(fired, ['a', 'c']);
  deadlines.settle(a); // after expiry: a no-op
  const d = deadlines.add(() => fired.push('d'));
  deadlines.settle(d);
  await sleep(60);
  assert.deepEqual(fired, ['a', 'c'], 'a deadline settled in time never fires');
});

test('an expire handler may settle its own and other calls, and add new ones', async () => {
  const deadlines = new Deadlines(() => 20);
  const fired: string[] = [];
  const own = deadlines.add(() => {
    fired.push('first');
    deadlines.settle(own);
    deadlines.settle(second);
    deadlines.add(() => fired.push('added'));
  });
  const second = deadlines.add(() => fired.push('second'));
  deadlines.add(() => fired.push('third'));
  await sleep(120);
  assert.deepEqual(fired, ['first', 'third', 'added']);
});
