// The README's option table is the one the schema renders, so the docs cannot drift from the decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { markedSection, optionRows, optionTable } from '@wharf/core/config';
import { schema } from './index.js';

test('the README option table is the one the schema renders', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  assert.equal(markedSection(readme, 'options'), optionTable(optionRows(schema)));
});
