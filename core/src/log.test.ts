// addLogDestination: a plugin's extra destination gets every line the gateway log writes (its children's too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@wharf/test-helpers';
import { addLogDestination, createLogger, silentLogger } from './log.js';

test("an added destination gets each line as pino's JSON, after the file; removing it stops that", async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'wharf-log-')), 'wharf.log');
  const log = createLogger({ format: 'json', filePath: file, level: 'info' });
  const lines: string[] = [];
  const remove = addLogDestination(log.child({ plugin: 'p' }), (line) => lines.push(line));
  assert.ok(remove);
  log.child({ plugin: 'p' }).warn({ n: 1 }, 'first');
  log.debug('below the level');
  remove();
  log.info('after removal');
  assert.equal(lines.length, 1);
  const record = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(record.msg, 'first');
  assert.equal(record.level, 40);
  assert.equal(record.plugin, 'p');
  await eventually(() => readFileSync(file, 'utf8').split('\n').filter(Boolean).length === 2, 'the file has every line');
});

test('a logger createLogger did not make takes no destination', () => {
  assert.equal(addLogDestination(silentLogger(), () => undefined), undefined);
});
