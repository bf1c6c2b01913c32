// Status-code ranges and the keep decision (filters), and the header policy (keep, drop, redact, credentials).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, parseStatusCodes } from './filters.js';
import { HeaderPolicy, REDACTED } from './headers.js';
import type { Fields } from './format.js';

test('statusCodes: codes, ranges and comma lists; bad entries name themselves', () => {
  assert.deepEqual(parseStatusCodes(['200', '300-302,500-599']), [[200, 200], [300, 302], [500, 599]]);
  assert.deepEqual(parseStatusCodes([' 404 ', '']), [[404, 404]]);
  for (const bad of ['20', '2xx', '302-300', '600', '200-']) {
    assert.throws(() => parseStatusCodes([bad]), new RegExp(`accessLog\\.filters\\.statusCodes: '${bad}'`), bad);
  }
});

const MS = 1e6;
const filterCases: { desc: string; filters: { statusCodes: string[]; retryAttempts: boolean; minDuration: number }; line: [number, number, number]; expected: boolean }[] = [
  { desc: 'no filter keeps everything', filters: { statusCodes: [], retryAttempts: false, minDuration: 0 }, line: [200, 0, 1], expected: true },
  { desc: 'status in a range', filters: { statusCodes: ['500-599'], retryAttempts: false, minDuration: 0 }, line: [502, 0, 1], expected: true },
  { desc: 'status outside every range', filters: { statusCodes: ['500-599', '404'], retryAttempts: false, minDuration: 0 }, line: [200, 0, 1], expected: false },
  { desc: 'retried request with retryAttempts', filters: { statusCodes: ['500-599'], retryAttempts: true, minDuration: 0 }, line: [200, 1, 1], expected: true },
  { desc: 'unretried request with retryAttempts only', filters: { statusCodes: [], retryAttempts: true, minDuration: 0 }, line: [200, 0, 1], expected: false },
  { desc: 'slower than minDuration', filters: { statusCodes: [], retryAttempts: false, minDuration: 10 }, line: [200, 0, 11 * MS], expected: true },
  { desc: 'exactly minDuration is not slower', filters: { statusCodes: [], retryAttempts: false, minDuration: 10 }, line: [200, 0, 10 * MS], expected: false },
];

for (const c of filterCases) {
  test(`filters: ${c.desc}`, () => {
    assert.equal(compileFilter(c.filters)(...c.line), c.expected);
  });
}

test('header policy: default mode, per-name modes, credentials never in clear', () => {
  const headers = {
    'user-agent': 'curl/8',
    'x-trace': 'abc',
    'x-secret': 'no',
    authorization: 'Bearer token',
    cookie: 'sid=1',
    'set-cookie': ['a=1', 'b=2'],
    'proxy-authorization': 'Basic eA==',
  };
  const table: { desc: string; defaultMode: 'keep' | 'drop' | 'redact'; names: Record<string, 'keep' | 'drop' | 'redact'>; expected: Fields }[] = [
    { desc: 'default drop writes nothing', defaultMode: 'drop', names: {}, expected: {} },
    {
      desc: 'default keep still leaves credentials out',
      defaultMode: 'keep',
      names: {},
      expected: { 'h_User-Agent': 'curl/8', 'h_X-Trace': 'abc', 'h_X-Secret': 'no' },
    },
    {
      desc: 'named credentials are written as REDACTED, even when kept',
      defaultMode: 'drop',
      names: { Authorization: 'keep', COOKIE: 'redact', 'Set-Cookie': 'keep', 'Proxy-Authorization': 'drop' },
      expected: { h_Authorization: REDACTED, h_Cookie: REDACTED, 'h_Set-Cookie': REDACTED },
    },
    {
      desc: 'names override the default both ways',
      defaultMode: 'redact',
      names: { 'user-agent': 'keep', 'X-Secret': 'drop' },
      expected: { 'h_User-Agent': 'curl/8', 'h_X-Trace': REDACTED },
    },
  ];
  for (const c of table) {
    const policy = new HeaderPolicy(c.defaultMode, c.names);
    const fields: Fields = {};
    policy.addTo(fields, 'h_', headers);
    assert.deepEqual(fields, c.expected, c.desc);
  }
  assert.equal(new HeaderPolicy('drop', { 'X-A': 'drop' }).active, false);
  assert.equal(new HeaderPolicy('drop', { 'X-A': 'redact' }).active, true);
});

test('header policy: multi-valued headers are joined with commas', () => {
  const fields: Fields = {};
  new HeaderPolicy('keep', {}).addTo(fields, 'origin_', { 'x-many': ['1', '2'], 'content-length': 12 });
  assert.deepEqual(fields, { 'origin_X-Many': '1,2', 'origin_Content-Length': '12' });
});
