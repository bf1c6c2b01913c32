// Option tables for plugin READMEs, rendered from the schema so docs and decoder cannot drift apart.
import type { TSchema } from '@sinclair/typebox';
import { DURATION, SECRET, formatDuration } from './schema.js';

/**
 * One Markdown row per field, named `prefix` + its path (a prefix of `--ping.` gives flag names). Nested objects
 * are flattened to dotted names (`clientAuth.caFiles`) after their own row, which only a described object gets;
 * a map (`MapOf`) is one `names.<name>` row typed by its values, whose fields follow when they are objects.
 */
export function optionRows(schema: TSchema, prefix = ''): string[] {
  return Object.entries((schema.properties ?? {}) as Record<string, TSchema>).flatMap(([name, field]) => fieldRows(field, `${prefix}${name}`));
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

/** The marked sections of a README by name (undefined where its markers are missing): one comparison with the rendered tables. */
export function markedSections(readme: string, names: readonly string[]): Record<string, string | undefined> {
  return Object.fromEntries(names.map((name) => [name, markedSection(readme, name)]));
}

function fieldRows(field: TSchema, path: string): string[] {
  const values = field.type === 'object' && !field.properties && typeof field.additionalProperties === 'object' ? (field.additionalProperties as TSchema) : undefined;
  if (values) return fieldRows({ ...values, description: field.description ?? values.description }, `${path}.<name>`);
  const nested = field.type === 'object' && field.properties ? optionRows(field, `${path}.`) : [];
  if (nested.length > 0 && field.description === undefined) return nested;
  return [`| \`${path}\` | ${typeName(field)} | ${defaultOf(field)} | ${String(field.description ?? '').replace(/\|/g, '\\|')} |`, ...nested];
}

/** Scalars and non-empty lists; objects and empty lists have no default worth a cell. */
function defaultOf(field: TSchema): string {
  const value: unknown = field.default;
  if (value === undefined || (typeof value === 'object' && !Array.isArray(value))) return '';
  if (Array.isArray(value)) return value.length > 0 ? `\`${value.join(', ')}\`` : '';
  return `\`${field[DURATION] ? formatDuration(value as number) : String(value)}\``;
}

function typeName(field: TSchema): string {
  if (field[DURATION]) return 'duration';
  if (field.anyOf) return (field.anyOf as TSchema[]).map((v) => `\`${String(v.const)}\``).join(' \\| ');
  // A single literal (Type.Literal) names the one value accepted, like a union's alternatives.
  if (field.const !== undefined) return `\`${String(field.const)}\``;
  if (field[SECRET]) return 'secret';
  if (field.type === 'array') return 'list';
  return String(field.type);
}
