// Renders the README option table from the schema, so the docs cannot drift from what the decoder accepts.
import { formatDuration, type TSchema } from '@wharf/core';
import { schema } from './schema.js';

export const TABLE_START = '<!-- options:start -->';
export const TABLE_END = '<!-- options:end -->';

/**
 * `| option | type | default | description |` rows, nested objects flattened to dotted paths. To regenerate:
 * node -e "import('./plugins/ratelimit/dist/readme.test.helper.js').then((m) => console.log(m.optionTable()))"
 */
export function optionTable(root: TSchema = schema): string {
  const rows = ['| Option | Type | Default | Description |', '| --- | --- | --- | --- |'];
  walk(root, '', rows);
  return rows.join('\n');
}

function walk(node: TSchema, prefix: string, rows: string[]): void {
  for (const [name, field] of Object.entries((node.properties ?? {}) as Record<string, TSchema>)) {
    const path = `${prefix}${name}`;
    if (field.type === 'object' && field.properties) {
      rows.push(`| \`${path}\` | object | | ${field.description ?? ''} |`);
      walk(field, `${path}.`, rows);
      continue;
    }
    rows.push(`| \`${path}\` | ${typeOf(field)} | ${defaultOf(field)} | ${String(field.description ?? '').replace(/\|/g, '\\|')} |`);
  }
}

function typeOf(field: TSchema): string {
  if (field['x-wharf-duration']) return 'duration';
  if (field['x-wharf-secret']) return 'secret';
  if (field.anyOf) return (field.anyOf as TSchema[]).map((v) => `\`${String(v.const)}\``).join(' \\| ');
  if (field.type === 'array') return 'list';
  return String(field.type);
}

function defaultOf(field: TSchema): string {
  if (field.default === undefined) return '';
  if (field['x-wharf-duration']) return `\`${formatDuration(field.default as number)}\``;
  if (Array.isArray(field.default)) return `\`${(field.default as unknown[]).join(',')}\``;
  return `\`${String(field.default)}\``;
}
