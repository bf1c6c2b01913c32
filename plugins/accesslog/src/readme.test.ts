// The README's option table is the one the schemas render, so the docs cannot drift from the decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { formatDuration, type TSchema } from '@wharf/core';
import { accessLogSchema, entryPointFields } from './schema.js';

const START = '<!-- options:start -->';
const END = '<!-- options:end -->';

function typeOf(field: TSchema): string {
  if (field['x-wharf-duration']) return 'duration';
  if (Array.isArray(field.anyOf)) return (field.anyOf as TSchema[]).map((s) => `\`${String(s.const)}\``).join(' \\| ');
  if (field.type === 'array') return 'list';
  return String(field.type);
}

function defaultOf(field: TSchema): string {
  const value: unknown = field.default;
  if (value === undefined || (typeof value === 'object' && value !== null && Object.keys(value).length === 0)) return '';
  if (field['x-wharf-duration']) return `\`${formatDuration(value as number)}\``;
  return `\`${String(value)}\``;
}

/** One row per leaf option; a map (fields.names) is one row `names.<Name>` typed by its values. */
function rows(schema: TSchema, prefix: string): string[] {
  const out: string[] = [];
  for (const [name, field] of Object.entries(schema.properties as Record<string, TSchema>)) {
    const path = `${prefix}.${name}`;
    const values = field.additionalProperties as TSchema | undefined;
    if (field.type === 'object' && field.properties) out.push(...rows(field, path));
    else if (field.type === 'object' && values) out.push(row(`${path}.<name>`, typeOf(values), '', field.description));
    else out.push(row(path, typeOf(field), defaultOf(field), field.description));
  }
  return out;
}

function row(option: string, type: string, fallback: string, description: unknown): string {
  return `| \`--${option}\` | ${type} | ${fallback} | ${String(description ?? '').replace(/\|/g, '\\|')} |`;
}

export function optionTable(): string {
  const entryPoint = Object.entries(entryPointFields).map(([path, field]) => row(`entryPoints.<name>.${path}`, typeOf(field), defaultOf(field), field.description));
  return ['| Option | Type | Default | Description |', '| --- | --- | --- | --- |', ...rows(accessLogSchema, 'accessLog'), ...entryPoint].join('\n');
}

test('the README option table is the one the schema renders', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  assert.ok(start >= 0 && end > start, 'README has the options markers');
  assert.equal(readme.slice(start + START.length, end).trim(), optionTable());
});
