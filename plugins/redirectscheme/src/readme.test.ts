// The README's option tables are the ones the schemas render, so the docs cannot drift from the decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { type TSchema } from '@wharf/core';
import { markedSections, optionRows, optionTable } from '@wharf/core/config';
import redirectScheme from './index.js';

/** Every table of the README, by marker name. */
export function tables(): Record<string, string> {
  return {
    options: optionTable(optionRows(redirectScheme.schema)),
    entrypoint: optionTable(optionRows(redirectScheme.config!.entryPoint!['http.redirections'] as TSchema, 'entryPoints.<name>.http.redirections.')),
  };
}

test('the README option tables are the ones the schemas render', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const expected = tables();
  assert.deepEqual(markedSections(readme, Object.keys(expected)), expected);
});
