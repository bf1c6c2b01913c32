// The README's option table is the one the schemas render, so the docs cannot drift from the decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Type } from '@wharf/core';
import { markedSection, optionRows, optionTable } from '@wharf/core/config';
import { accessLogSchema, entryPointFields } from './schema.js';
import { logOtlpSchema } from './log-otlp.js';

test('the README option table is the one the schemas render', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const rows = [...optionRows(accessLogSchema, '--accessLog.'), ...optionRows(Type.Object(entryPointFields), '--entryPoints.<name>.')];
  assert.equal(markedSection(readme, 'options'), optionTable(rows));
});

test("the README's log.otlp table is the one its schema renders", async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  assert.equal(markedSection(readme, 'log-otlp'), optionTable(optionRows(logOtlpSchema, '--log.otlp.')));
});
