// withWriteTimeout: without a positive timeout the entrypoint serves with its own handler, so the default (0)
// cannot cost a timer or a listener per request. The behaviour itself is tested end to end (test/e2e/write-timeout).
import assert from 'node:assert/strict';
import type { RequestListener } from 'node:http';
import { test } from 'node:test';
import { withWriteTimeout } from './write-timeout.js';

test('withWriteTimeout wraps the handler only for a positive timeout', async (t) => {
  const handler: RequestListener = () => {};
  const cases: { desc: string; ms: number; wrapped: boolean }[] = [
    { desc: 'default 0 = none', ms: 0, wrapped: false },
    { desc: 'not a number', ms: Number.NaN, wrapped: false },
    { desc: 'negative', ms: -1, wrapped: false },
    { desc: '1ms', ms: 1, wrapped: true },
    { desc: '30s', ms: 30_000, wrapped: true },
  ];
  for (const { desc, ms, wrapped } of cases) {
    await t.test(desc, () => {
      const served = withWriteTimeout(handler, ms);
      if (wrapped) assert.notEqual(served, handler);
      else assert.equal(served, handler, 'the request path must be the bare handler: no timer per request');
    });
  }
});
