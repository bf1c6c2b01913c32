// The README's option tables are the ones the schemas render, so the docs cannot drift from the decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { formatDuration, type TSchema } from '@wharf/core';
import { HealthCheckSchema, PassiveHealthCheckSchema } from './schema.js';

/** `| option | type | default | description |`, one row per field of `schema`. */
export function optionTable(prefix: string, schema: TSchema): string {
  const rows = ['| Option | Type | Default | Description |', '| --- | --- | --- | --- |'];
  for (const [name, field] of Object.entries(schema.properties as Record<string, TSchema>)) {
    const duration = field['x-wharf-duration'] === true;
    const fallback = field.default === undefined ? '' : `\`${duration ? formatDuration(field.default as number) : String(field.default)}\``;
    rows.push(`| \`${prefix}.${name}\` | ${typeOf(field)} | ${fallback} | ${String(field.description ?? '').replace(/\|/g, '\\|')} |`);
  }
  return rows.join('\n');
}

function typeOf(field: TSchema): string {
  if (field['x-wharf-duration'] === true) return 'duration';
  if (field.const !== undefined) return `\`${String(field.const)}\``;
  if (Array.isArray(field.anyOf)) return (field.anyOf as TSchema[]).map(typeOf).join(' \\| ');
  if (field.type === 'object' && field.additionalProperties) return `map of ${String((field.additionalProperties as TSchema).type)}`;
  return String(field.type);
}

for (const [marker, prefix, schema] of [
  ['healthCheck', 'healthCheck', HealthCheckSchema],
  ['passiveHealthCheck', 'passiveHealthCheck', PassiveHealthCheckSchema],
] as const) {
  test(`the README table of ${prefix} is the one the schema renders`, async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const start = `<!-- ${marker}:start -->`;
    const end = `<!-- ${marker}:end -->`;
    const from = readme.indexOf(start);
    const to = readme.indexOf(end);
    assert.ok(from >= 0 && to > from, `README has the ${marker} markers`);
    assert.equal(readme.slice(from + start.length, to).trim(), optionTable(prefix, schema));
  });
}
