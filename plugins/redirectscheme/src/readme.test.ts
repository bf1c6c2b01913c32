// The README's option tables are the ones the schemas render, so the docs cannot drift from the decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { TSchema } from '@wharf/core';
import redirectScheme from './index.js';

function rows(schema: TSchema, prefix: string): string[] {
  const out: string[] = [];
  for (const [name, field] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) {
    const fallback = field.default === undefined || typeof field.default === 'object' ? '' : `\`${String(field.default)}\``;
    out.push(`| \`${prefix}${name}\` | ${String(field.type)} | ${fallback} | ${String(field.description ?? '')} |`);
    if (field.type === 'object' && field.properties) out.push(...rows(field, `${prefix}${name}.`));
  }
  return out;
}

/** Every table of the README, by marker name. */
export function tables(): Record<string, string> {
  const head = ['| Option | Type | Default | Description |', '| --- | --- | --- | --- |'];
  return {
    options: [...head, ...rows(redirectScheme.schema, '')].join('\n'),
    entrypoint: [...head, ...rows(redirectScheme.entryPointSchema!['http.redirections']!, 'entryPoints.<name>.http.redirections.')].join('\n'),
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
