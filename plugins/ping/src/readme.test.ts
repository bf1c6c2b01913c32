// The README's option table is the one the static schema renders, so the docs cannot drift from the decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { TSchema } from '@wharf/core';
import ping from './index.js';

test('the README option table is the one the schema renders', async () => {
  const rows = ['| Option | Type | Default | Description |', '| --- | --- | --- | --- |'];
  for (const [name, field] of Object.entries(ping.staticSchema!.properties as Record<string, TSchema>)) {
    rows.push(`| \`--ping.${name}\` | ${String(field.type)} | \`${String(field.default)}\` | ${String(field.description)} |`);
  }
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const start = '<!-- options:start -->';
  const end = '<!-- options:end -->';
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  assert.ok(from >= 0 && to > from, 'README has the options markers');
  assert.equal(readme.slice(from + start.length, to).trim(), rows.join('\n'));
});
