// log.otlp on a real gateway whose log core's createLogger made: its lines reach a collector written in the test as
// OTLP log records (message, severity, fields), with the headers; the file keeps them; levels below log.level stay out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createLogger, definePlugin, startGateway, Type } from '@wharf/core';
import { eventually, startOtlpReceiver, tempDir } from '@wharf/test-helpers';
import { logOtlp, recordOf } from './log-otlp.js';
import { readLines } from './harness.test.helper.js';

/** Logs once it is set up, as any plugin may. */
const probe = definePlugin({
  name: 'probe',
  schema: Type.Object({}),
  setup(_config, host) {
    host.log.debug('below the level');
    host.log.warn({ detail: 'disk almost full', free: 42 }, 'hello from a plugin');
  },
});

test("log.otlp: the gateway's log lines as OTLP records (body, severity, fields, resource, headers), the file keeps them", async () => {
  const collector = await startOtlpReceiver();
  const dir = tempDir();
  const file = join(dir.path, 'wharf.log');
  const gateway = await startGateway({
    plugins: [logOtlp, probe],
    log: createLogger({ format: 'json', filePath: file, level: 'INFO' }),
    args: [
      '--entrypoints.web.address=127.0.0.1:0',
      '--log.level=INFO',
      `--log.otlp.http.endpoint=${collector.url}`,
      '--log.otlp.http.headers.X-Token=abc',
      '--log.otlp.serviceName=gateway',
    ],
  });
  try {
    const record = await eventually(() => collector.logs.find((r) => r.body === 'hello from a plugin'), 'the line at the collector');
    assert.equal(record.severityNumber, 13, 'WARN');
    assert.equal(record.severityText, 'WARN');
    assert.equal(record.attributes.detail, 'disk almost full');
    assert.equal(record.attributes.free, 42);
    assert.equal(record.attributes.plugin, 'probe', "the child logger's binding");
    assert.ok(!('msg' in record.attributes) && !('level' in record.attributes));
    assert.equal(record.resource['service.name'], 'gateway');
    assert.equal(record.scope, 'traefik');
    assert.equal(collector.exports.find((e) => e.signal === 'logs')!.headers['x-token'], 'abc');
    assert.ok(!collector.logs.some((r) => r.body === 'below the level'));
    await eventually(() => readLines(file).some((l) => l.includes('hello from a plugin')), 'the line in the file too');
  } finally {
    await gateway.stop();
    await collector.close();
    dir.remove();
  }
});

test('a pino line becomes a record: message, severity by level, the other fields as attributes', () => {
  const cases = [
    { desc: 'error with fields', line: '{"level":50,"time":1700000000000,"msg":"boom","router":"r@file"}\n', body: 'boom', severity: 17, attributes: { router: 'r@file' } },
    { desc: 'debug', line: '{"level":20,"time":1,"msg":"detail"}\n', body: 'detail', severity: 5, attributes: {} },
    { desc: 'not json', line: 'plain text\n', body: 'plain text', severity: 0, attributes: {} },
  ];
  for (const c of cases) {
    const record = recordOf(c.line);
    assert.equal(record.body, c.body, c.desc);
    assert.equal(record.severityNumber, c.severity, c.desc);
    assert.deepEqual(record.attributes, c.attributes, c.desc);
  }
});
