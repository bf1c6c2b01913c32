// The log pipeline's bounded queue: while an export hangs (a collector that accepts and never answers), records past
// the queue's size are dropped and counted, never held; the outage is reported once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { eventually, startOtlpReceiver, startServer } from '@wharf/test-helpers';
import { OtlpLogPipeline, SeverityNumber } from './index.js';

const SECTION = { serviceName: 'traefik', resourceAttributes: {} };

function record(i: number) {
  return { body: `line ${i}`, severityNumber: SeverityNumber.INFO, severityText: 'info', attributes: { i } };
}

test('a stuck collector: the queue holds at most maxQueued records, the rest are dropped and counted', async () => {
  let arrived = 0;
  const stuck = await startServer(() => void arrived++);
  const logs: { msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as { msg: string }) });
  const pipeline = new OtlpLogPipeline({ ...SECTION, http: { endpoint: stuck.url, headers: {} } }, { field: 'log.otlp', log, maxQueued: 10, batchDelayMs: 10, exportTimeoutMs: 500 });
  try {
    // The first batch leaves for the stuck collector and hangs there; what comes after it queues, up to 10.
    pipeline.emit(record(0));
    await eventually(() => arrived > 0, 'the first export reaching the collector');
    for (let i = 1; i <= 100; i++) pipeline.emit(record(i));
    assert.equal(pipeline.outage.dropped, 90);
    assert.equal(logs.filter((l) => l.msg.includes('cannot export')).length, 1);
    assert.match(logs[0]!.msg, /^log\.otlp \(http:\/\/127\.0\.0\.1:\d+\/v1\/logs\): cannot export \(the export queue is full\); log records are dropped/);
  } finally {
    await pipeline.shutdown();
    await stuck.close();
  }
});

test('records reach the collector in batches, with the resource and the body', async () => {
  const collector = await startOtlpReceiver();
  const log = pino({ level: 'silent' });
  const pipeline = new OtlpLogPipeline({ ...SECTION, http: { endpoint: collector.url, headers: {} } }, { field: 'log.otlp', log, batchDelayMs: 10 });
  try {
    for (let i = 0; i < 5; i++) pipeline.emit(record(i));
    await eventually(() => collector.logs.length === 5, 'five records');
    assert.deepEqual(collector.logs.map((l) => l.body), ['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    assert.equal(collector.logs[0]!.resource['service.name'], 'traefik');
    assert.equal(pipeline.outage.dropped, 0);
  } finally {
    await pipeline.shutdown();
    await collector.close();
  }
});
