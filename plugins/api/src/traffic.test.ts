import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Traffic } from './traffic.js';

test('Traffic: per-router rates per interval, status classes, totals and a bounded history', () => {
  const t = new Traffic(3);
  t.tick(1000);
  for (const status of [200, 204, 301, 404, 502, 101, 200]) t.record('web@file', status);
  const first = t.tick(2000);
  assert.deepEqual(first.routers['web@file'], { requests: 7, '1xx': 1, '2xx': 3, '3xx': 1, '4xx': 1, '5xx': 1 });
  t.record('web@file', 200);
  const second = t.tick(2500); // half a second: 1 request → 2 req/s
  assert.equal(second.routers['web@file']!.requests, 2);
  assert.equal(second.totals['web@file']!.requests, 8);
  t.tick(3500);
  t.tick(4500);
  const report = t.report();
  assert.deepEqual(report.times, [2500, 3500, 4500]);
  assert.deepEqual(report.routers['web@file']!.rate.requests, [2, 0, 0]);
  assert.equal(report.routers['web@file']!.total['2xx'], 4);
  t.retain(new Set());
  assert.deepEqual(t.report().routers, {});
});
