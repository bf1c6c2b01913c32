// The README's option tables are the ones the schemas render, so the docs cannot drift from the decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { type TSchema } from '@wharf/core';
import { markedSections, optionRows, optionTable as table } from '@wharf/core/config';
import { EntryPointTLSSchema, TLSOptionsSchema, TLSSectionSchema } from './schema.js';

/** Every table of the README, by marker name. */
export function tables(): Record<string, string> {
  const section = TLSSectionSchema.properties;
  const certificate = (section.certificates.items as TSchema);
  const store = (section.stores as TSchema).additionalProperties as TSchema;
  return {
    entrypoint: table(optionRows(EntryPointTLSSchema, 'entryPoints.<name>.http.tls.')),
    certificates: table([...optionRows(certificate, 'tls.certificates[].'), ...optionRows(store, 'tls.stores.default.')]),
    options: table(optionRows(TLSOptionsSchema, 'tls.options.<name>.')),
  };
}

test('the README option tables are the ones the schemas render', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const expected = tables();
  assert.deepEqual(markedSections(readme, Object.keys(expected)), expected);
});
