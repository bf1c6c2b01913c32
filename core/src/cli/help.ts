// `wharf --help`: the flag list, generated from the static schema so it never drifts from what is accepted.
import type { TSchema } from '@sinclair/typebox';
import { DURATION, formatDuration } from '../config/schema.js';

interface FlagLine {
  flag: string;
  description: string;
}

/** Walks the schema: maps become `<name>`, lists and scalars become one flag each. */
export function flagLines(schema: TSchema, prefix = ''): FlagLine[] {
  const lines: FlagLine[] = [];
  const props = schema.properties as Record<string, TSchema> | undefined;
  if (props) {
    if (prefix && schema['x-wharf-enable']) {
      const what = typeof schema.description === 'string' ? ` ${schema.description}` : '';
      lines.push({ flag: prefix, description: `Enable ${prefix.split('.').pop()} with defaults.${what}` });
    }
    for (const [key, child] of Object.entries(props)) lines.push(...flagLines(child, prefix ? `${prefix}.${key}` : key));
    return lines;
  }
  if (schema.type === 'object' && schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    return flagLines(schema.additionalProperties as TSchema, `${prefix}.<name>`);
  }
  if (schema.anyOf && !schema.description) {
    return flagLines((schema.anyOf as TSchema[])[0]!, prefix);
  }
  const def = schema.default;
  const shownDefault = def === undefined ? '' : schema[DURATION] ? formatDuration(def as number) : JSON.stringify(def);
  const description = (schema.description as string | undefined) ?? '';
  lines.push({ flag: prefix, description: description || (shownDefault ? `(default ${shownDefault})` : '') });
  return lines;
}

function commandsText(commands: Readonly<Record<string, { description: string }>>): string {
  const names = Object.keys(commands);
  if (names.length === 0) return '';
  const width = Math.max(...names.map((n) => n.length)) + 3;
  return `\nCommands:\n${names.map((n) => `  ${n.padEnd(width)}${commands[n]!.description}`).join('\n')}\n`;
}

function unsupportedText(unsupported: readonly string[]): string {
  if (unsupported.length === 0) return '';
  return `\nNot supported yet:\n${unsupported.map((line) => `  - ${line}`).join('\n')}\n`;
}

export function helpText(schema: TSchema, version: string, commands: Readonly<Record<string, { description: string }>> = {}, unsupported: readonly string[] = []): string {
  const lines = flagLines(schema);
  const width = Math.max(...lines.map((l) => l.flag.length)) + 3;
  const body = lines.map((l) => `  --${l.flag.padEnd(width)}${l.description}`).join('\n');
  return `wharf ${version}: a plugin-based HTTP gateway for containers

Usage: wharf [--configFile=wharf.yml] [--<key>=<value> ...]
${Object.keys(commands).length > 0 ? '       wharf <command> [the same flags]\n' : ''}
Static configuration comes from --configFile (YAML/JSON), WHARF_* environment variables
(WHARF_ENTRYPOINTS_WEB_ADDRESS=:80) and these flags, in that order of precedence.
Keys are case-insensitive; a bare flag means true; ={} enables a section with its defaults;
durations accept 10s, 500ms, 1m30s or plain seconds.
${commandsText(commands)}${unsupportedText(unsupported)}
Flags:
  --configFile${' '.repeat(Math.max(1, width - 10))}Static configuration file (YAML or JSON).
${body}
`;
}
