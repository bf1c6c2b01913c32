// fields.queryParameters on a logged target: Traefik's keep/drop, plus per-parameter drop and redact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileQueryPolicy, type QueryConfig } from './query.js';

const cases: { desc: string; config: QueryConfig; target: string; expected: string }[] = [
  { desc: 'drop (Traefik): the path alone', config: { defaultMode: 'drop', names: {} }, target: '/login?token=abc&next=/home', expected: '/login' },
  { desc: 'drop keeps a path without query as it is', config: { defaultMode: 'drop', names: {} }, target: '/a/b', expected: '/a/b' },
  { desc: 'drop with one parameter kept', config: { defaultMode: 'drop', names: { page: 'keep' } }, target: '/s?q=secret&page=2', expected: '/s?page=2' },
  { desc: 'keep with one parameter redacted', config: { defaultMode: 'keep', names: { token: 'redact' } }, target: '/cb?code=1&token=abc', expected: '/cb?code=1&token=REDACTED' },
  { desc: 'keep with one parameter dropped, repeated', config: { defaultMode: 'keep', names: { t: 'drop' } }, target: '/x?t=1&a=2&t=3', expected: '/x?a=2' },
  { desc: 'redact by default, a name without value', config: { defaultMode: 'redact', names: {} }, target: '/x?flag&k=v', expected: '/x?flag=REDACTED&k=REDACTED' },
  { desc: 'names are case-sensitive', config: { defaultMode: 'keep', names: { Token: 'drop' } }, target: '/x?token=1&Token=2', expected: '/x?token=1' },
  { desc: 'a fragment stays after the query', config: { defaultMode: 'drop', names: {} }, target: '/x?a=1#top', expected: '/x#top' },
  { desc: 'an empty query goes with its question mark', config: { defaultMode: 'drop', names: {} }, target: '/x?', expected: '/x' },
];

for (const c of cases) {
  test(`queryParameters: ${c.desc}`, () => {
    assert.equal(compileQueryPolicy(c.config)!(c.target), c.expected);
  });
}

test('queryParameters: keeping everything (the default) compiles to nothing, so requests pay nothing', () => {
  assert.equal(compileQueryPolicy({ defaultMode: 'keep', names: {} }), undefined);
  assert.equal(compileQueryPolicy({ defaultMode: 'keep', names: { a: 'keep' } }), undefined);
});
