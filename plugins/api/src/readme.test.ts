// The README's option table is the one the static schema renders, so the docs cannot drift from the decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { TSchema } from '@wharf/core';
import { staticSchema } from './index.js';

const START = '<!-- options:start -->';
const END = '<!-- options:end -->';

/** `| --api.<option> | type | default | description |`, one row per field. */
export function optionTable(): string {
  const rows = ['| Option | Type | Default | Description |', '| --- | --- | --- | --- |'];
  for (const [name, field] of Object.entries(staticSchema.properties as Record<string, TSchema>)) {
    const fallback = field.default === undefined ? '' : `\`${String(field.default)}\``;
    rows.push(`| \`--api.${name}\` | ${String(field.type)} | ${fallback} | ${String(field.description ?? '').replace(/\|/g, '\\|')} |`);
  }
  return rows.join('\n');
}

test('the README option table is the one the schema renders', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  assert.ok(start >= 0 && end > start, 'README has the options markers');
  assert.equal(readme.slice(start + START.length, end).trim(), optionTable());
});
