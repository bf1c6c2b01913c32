// Option tables for plugin READMEs, rendered from the schema so docs and decoder cannot drift apart.
import type { TSchema } from '@sinclair/typebox';
import { SECRET } from './schema.js';

/** One Markdown row per field; nested objects flattened to dotted names (`clientAuth.caFiles`). */
export function optionRows(schema: TSchema, prefix = ''): string[] {
  const rows: string[] = [];
  for (const [name, field] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) {
    const path = `${prefix}${name}`;
    rows.push(`| \`${path}\` | ${typeName(field)} | ${defaultOf(field)} | ${String(field.description ?? '').replace(/\|/g, '\\|')} |`);
    if (field.type === 'object' && field.properties) rows.push(...optionRows(field, `${path}.`));
  }
  return rows;
}

/** A complete `| Option | Type | Default | Description |` table. */
export function optionTable(rows: readonly string[]): string {
  return ['| Option | Type | Default | Description |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The text between `<!-- name:start -->` and `<!-- name:end -->` in a README, or undefined without markers. */
export function markedSection(readme: string, name: string): string | undefined {
  const start = `<!-- ${name}:start -->`;
  const from = readme.indexOf(start);
  const to = readme.indexOf(`<!-- ${name}:end -->`);
  return from >= 0 && to > from ? readme.slice(from + start.length, to).trim() : undefined;
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
  if (field[SECRET]) return 'secret';
  if (field.type === 'array') return 'list';
  return String(field.type);
}
