// The README's option tables are the ones the schemas render, so the docs cannot drift from the decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { markedSections, optionRows, optionTable } from '@wharf/core/config';
import { HealthCheckSchema, PassiveHealthCheckSchema } from './schema.js';

/** Every table of the README, by marker name. */
export function tables(): Record<string, string> {
  return {
    healthCheck: optionTable(optionRows(HealthCheckSchema, 'healthCheck.')),
    passiveHealthCheck: optionTable(optionRows(PassiveHealthCheckSchema, 'passiveHealthCheck.')),
  };
}

test('the README option tables are the ones the schemas render', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const expected = tables();
  assert.deepEqual(markedSections(readme, Object.keys(expected)), expected);
});
