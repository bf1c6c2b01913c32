// The small Go-template subset Traefik users write in defaultRule: {{ .Name }}, {{ normalize .Name }},
// {{ index .Labels "k" }}, pipes and a few string functions; anything else fails at start-up, not per container.
import { WharfError } from '@wharf/core';

/** What a template can read: Traefik's model for the docker and swarm providers. */
export interface TemplateData {
  Name: string;
  ContainerName: string;
  Labels: Record<string, string>;
}

export type RuleTemplate = (data: TemplateData) => string;

type Operand =
  | { kind: 'field'; path: string[] }
  | { kind: 'string'; value: string };

interface Command {
  fn?: string;
  args: Operand[];
}

type Part = { kind: 'text'; text: string } | { kind: 'pipeline'; commands: Command[] };

const FIELDS = new Set(['Name', 'ContainerName', 'Labels']);

/** Functions as Traefik (Go's builtins plus sprig) defines them; the piped value is the last argument. */
const FUNCTIONS: Record<string, { arity: number; call: (args: unknown[]) => string }> = {
  normalize: { arity: 1, call: ([s]) => normalize(String(s)) },
  lower: { arity: 1, call: ([s]) => String(s).toLowerCase() },
  upper: { arity: 1, call: ([s]) => String(s).toUpperCase() },
  trimPrefix: { arity: 2, call: ([p, s]) => (String(s).startsWith(String(p)) ? String(s).slice(String(p).length) : String(s)) },
  trimSuffix: { arity: 2, call: ([p, s]) => (String(s).endsWith(String(p)) ? String(s).slice(0, -String(p).length) : String(s)) },
  replace: { arity: 3, call: ([from, to, s]) => String(s).split(String(from)).join(String(to)) },
  index: { arity: 2, call: ([map, key]) => indexOf(map, key) },
};

/** Traefik's provider.Normalize: runs of characters other than letters and digits become one '-', trimmed. */
export function normalize(name: string): string {
  return name.split(/[^\p{L}\p{N}]+/u).filter((s) => s.length > 0).join('-');
}

/** Compiles a template; `source` names the setting in errors (`--providers.docker.defaultRule`). */
export function compileTemplate(text: string, source: string): RuleTemplate {
  const parts = parseTemplate(text, source);
  return function renderRule(data: TemplateData): string {
    return parts.map((part) => (part.kind === 'text' ? part.text : String(runPipeline(part.commands, data)))).join('');
  };
}

function parseTemplate(text: string, source: string): Part[] {
  const parts: Part[] = [];
  let rest = text;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    if (open === -1) {
      parts.push({ kind: 'text', text: rest });
      break;
    }
    const close = rest.indexOf('}}', open + 2);
    if (close === -1) throw templateError(source, text, "'{{' is not closed by '}}'");
    let before = rest.slice(0, open);
    let inner = rest.slice(open + 2, close);
    rest = rest.slice(close + 2);
    // {{- and -}} trim the whitespace next to the action, as in Go.
    if (inner.startsWith('- ')) {
      before = before.trimEnd();
      inner = inner.slice(1);
    }
    if (inner.endsWith(' -')) {
      rest = rest.trimStart();
      inner = inner.slice(0, -1);
    }
    if (before) parts.push({ kind: 'text', text: before });
    parts.push({ kind: 'pipeline', commands: parsePipeline(inner.trim(), source, text) });
  }
  return parts;
}

function parsePipeline(action: string, source: string, text: string): Command[] {
  if (action === '') throw templateError(source, text, 'empty action {{ }}');
  const commands = splitOutsideQuotes(action, '|').map((c) => parseCommand(c.trim(), source, text));
  commands.forEach((command, i) => checkCommand(command, i > 0, source, text));
  return commands;
}

function parseCommand(command: string, source: string, text: string): Command {
  const tokens = tokenizeCommand(command, source, text);
  if (tokens.length === 0) throw templateError(source, text, 'empty command in a pipeline');
  const [first, ...rest] = tokens;
  if (first!.kind === 'ident') return { fn: first!.value, args: rest.map((t) => toOperand(t, source, text)) };
  return { args: tokens.map((t) => toOperand(t, source, text)) };
}

function checkCommand(command: Command, piped: boolean, source: string, text: string): void {
  if (command.fn === undefined) {
    if (command.args.length !== 1 || piped) throw templateError(source, text, 'a value cannot take arguments; call a function such as normalize');
    return;
  }
  const fn = FUNCTIONS[command.fn];
  if (!fn) {
    throw templateError(source, text, `unsupported function or keyword '${command.fn}' (Wharf supports ${Object.keys(FUNCTIONS).join(', ')}, fields .Name, .ContainerName, .Labels and pipes)`);
  }
  const count = command.args.length + (piped ? 1 : 0);
  if (count !== fn.arity) throw templateError(source, text, `${command.fn} takes ${fn.arity} argument${fn.arity === 1 ? '' : 's'}, got ${count}`);
}

type Token = { kind: 'ident' | 'field' | 'string'; value: string };

function tokenizeCommand(command: string, source: string, text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < command.length) {
    const ch = command[i]!;
    if (ch === ' ' || ch === '\t') i++;
    else if (ch === '"' || ch === '`') {
      const end = command.indexOf(ch, i + 1);
      if (end === -1) throw templateError(source, text, `unterminated string ${command.slice(i)}`);
      tokens.push({ kind: 'string', value: command.slice(i + 1, end) });
      i = end + 1;
    } else {
      const m = /^[^\s"`]+/.exec(command.slice(i))!;
      const word = m[0];
      if (word.startsWith('.')) tokens.push({ kind: 'field', value: word });
      else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(word)) tokens.push({ kind: 'ident', value: word });
      else throw templateError(source, text, `unsupported token '${word}' (variables, numbers and comparisons are not supported)`);
      i += word.length;
    }
  }
  return tokens;
}

function toOperand(token: Token, source: string, text: string): Operand {
  if (token.kind === 'string') return { kind: 'string', value: token.value };
  if (token.kind === 'ident') throw templateError(source, text, `'${token.value}' must be the first word of a command`);
  const path = token.value === '.' ? [] : token.value.slice(1).split('.');
  if (path.length > 0 && !FIELDS.has(path[0]!)) {
    throw templateError(source, text, `unknown field .${path[0]} (known: .Name, .ContainerName, .Labels)`);
  }
  if (path.length > 1 && path[0] !== 'Labels') throw templateError(source, text, `.${path[0]} has no fields`);
  return { kind: 'field', path };
}

function runPipeline(commands: Command[], data: TemplateData): unknown {
  let value: unknown;
  commands.forEach((command, i) => {
    const args = command.args.map((a) => operandValue(a, data));
    if (command.fn === undefined) value = args[0];
    else value = FUNCTIONS[command.fn]!.call(i > 0 ? [...args, value] : args);
  });
  return value ?? '';
}

function operandValue(operand: Operand, data: TemplateData): unknown {
  if (operand.kind === 'string') return operand.value;
  let value: unknown = data;
  for (const key of operand.path) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value ?? '';
}

/** Go's index on a map: the value, or the zero value (empty string) when the key is missing. */
function indexOf(map: unknown, key: unknown): string {
  if (!map || typeof map !== 'object') return '';
  return (map as Record<string, string>)[String(key)] ?? '';
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === '`') quote = ch;
    else if (ch === separator) {
      out.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  out.push(current);
  return out;
}

function templateError(source: string, text: string, message: string): WharfError {
  return new WharfError('WHARF_ERR_STATIC_CONFIG', `${source}: invalid template ${JSON.stringify(text)}: ${message}`);
}
