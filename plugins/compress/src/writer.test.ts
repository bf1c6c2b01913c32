// Vary as the compressing writer leaves it: Accept-Encoding added once, beside what the service listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OutgoingHttpHeaders } from 'node:http';
import { addVary } from './writer.js';

const cases: Array<{ desc: string; vary: OutgoingHttpHeaders[string]; expected: OutgoingHttpHeaders[string] }> = [
  { desc: 'none yet', vary: undefined, expected: 'Accept-Encoding' },
  { desc: 'empty', vary: '', expected: 'Accept-Encoding' },
  { desc: 'another field', vary: 'Origin', expected: 'Origin, Accept-Encoding' },
  { desc: 'already listed, any case', vary: 'origin, accept-encoding', expected: 'origin, accept-encoding' },
  { desc: 'a list of values', vary: ['Origin', 'Cookie'], expected: 'Origin, Cookie, Accept-Encoding' },
  { desc: '* covers it', vary: '*', expected: '*' },
];

for (const { desc, vary, expected } of cases) {
  test(`addVary: ${desc}`, () => {
    const headers = (vary === undefined ? {} : { vary }) as OutgoingHttpHeaders;
    addVary(headers);
    assert.deepEqual(headers.vary, expected);
  });
}
