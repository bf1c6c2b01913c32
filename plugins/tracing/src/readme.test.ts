// The README's option table is the one the schemas render, so the docs cannot drift from the decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Type } from '@wharf/core';
import { markedSection, optionRows, optionTable } from '@wharf/core/config';
import { entryPointFields, tracingSchema } from './options.js';

test('the README option table is the one the schemas render', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const rows = [...optionRows(tracingSchema, '--tracing.'), ...optionRows(Type.Object(entryPointFields), '--entryPoints.<name>.')];
  assert.equal(markedSection(readme, 'options'), optionTable(rows));
});
