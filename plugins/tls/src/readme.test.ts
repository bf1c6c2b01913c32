// The README's option tables are the ones the schemas render, so the docs cannot drift from the decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { TSchema } from '@wharf/core';
import { EntryPointTLSSchema, TLSOptionsSchema, TLSSectionSchema } from './schema.js';

/** One row per field, nested objects flattened to dotted names (`clientAuth.caFiles`). */
export function optionRows(schema: TSchema, prefix: string): string[] {
  const rows: string[] = [];
  for (const [name, field] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) {
    const path = `${prefix}${name}`;
    rows.push(`| \`${path}\` | ${typeName(field)} | ${defaultOf(field)} | ${String(field.description ?? '').replace(/\|/g, '\\|')} |`);
    if (field.type === 'object' && field.properties) rows.push(...optionRows(field, `${path}.`));
  }
  return rows;
}

/** Scalars and non-empty lists; objects and empty lists have no default worth a cell. */
function defaultOf(field: TSchema): string {
  const value: unknown = field.default;
  if (value === undefined || (typeof value === 'object' && !Array.isArray(value))) return '';
  if (Array.isArray(value)) return value.length > 0 ? `\`${value.join(', ')}\`` : '';
  return `\`${String(value)}\``;
}

function typeName(field: TSchema): string {
  if (field.anyOf) return (field.anyOf as TSchema[]).map((v) => `\`${String(v.const)}\``).join(' \\| ');
  if (field['x-wharf-secret']) return 'secret';
  if (field.type === 'array') return 'list';
  return String(field.type);
}

function table(rows: string[]): string {
  return ['| Option | Type | Default | Description |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

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
  for (const [name, expected] of Object.entries(tables())) {
    const start = `<!-- ${name}:start -->`;
    const end = `<!-- ${name}:end -->`;
    const from = readme.indexOf(start);
    const to = readme.indexOf(end);
    assert.ok(from >= 0 && to > from, `README has the ${name} markers`);
    assert.equal(readme.slice(from + start.length, to).trim(), expected, name);
  }
});
