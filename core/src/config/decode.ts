// The one generic decoder: flat keys (labels, flags, env) or parsed files → typed, validated config,
// walked beside a schema. Traefik's three stages (flat → tree → typed) with the schema in place of
// reflection, plus what Traefik lacks: errors name the exact label, indexes sort numerically, and an
// error inside one element (router, service, …) disables only that element.
import type { TSchema } from '@sinclair/typebox';
import { DURATION, ELEMENT, ENABLE, SECRET, parseDuration } from './schema.js';
import { validateWithDefaults } from './validate.js';

/** Value of a tree node that also has children (`tls=true` next to `tls.options=x`). */
export const NODE_VALUE = Symbol('wharf.nodeValue');

export type TreeNode = string | TreeObject;
export interface TreeObject {
  [key: string]: TreeNode;
  [NODE_VALUE]?: string;
}

/** One problem found while decoding: where (as the user wrote it), what was there, what was expected. */
export interface DecodeIssue {
  /** Canonical dotted path inside the decoded value (`http.routers.api.priority`). */
  path: string;
  /** Where the user wrote it: the full label or flag, or the path in the file. */
  source: string;
  message: string;
}

export interface DecodeOptions {
  /** Turns a written path into what the user recognises (`traefik.http.routers.api.rule`, `--entrypoints.web.address`). */
  describe?: (written: string[]) => string;
}

export interface DecodeResult<T> {
  /** Decoded value; elements with errors are left out of it. */
  value: T;
  /** Problems outside any element: the whole source is unusable when this is non-empty. */
  issues: DecodeIssue[];
  /** Elements left out, by canonical path (`http.routers.api`), with their problems. */
  disabled: Map<string, DecodeIssue[]>;
}

const OMIT = Symbol('wharf.omit');
type Decoded = unknown | typeof OMIT;

/** Stage 1: flat `a.b[0].c=v` keys → a tree, merging keys case-insensitively (first spelling wins). */
export function flatToTree(entries: Iterable<[string, string]>): TreeObject {
  const root: TreeObject = {};
  for (const [key, value] of entries) {
    const segments = splitKey(key);
    if (segments.length === 0) continue;
    let node = root;
    for (let i = 0; i < segments.length; i++) {
      const name = existingKey(node, segments[i]!);
      const last = i === segments.length - 1;
      const current = node[name];
      if (last) {
        if (current === undefined || typeof current === 'string') node[name] = value;
        else current[NODE_VALUE] = value;
      } else {
        if (current === undefined) node[name] = {};
        else if (typeof current === 'string') node[name] = { [NODE_VALUE]: current };
        node = node[name] as TreeObject;
      }
    }
  }
  return root;
}

/** `a.b[0].c` → ['a', 'b', '0', 'c']; empty segments are dropped. */
export function splitKey(key: string): string[] {
  return key
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((s) => s.length > 0);
}

function existingKey(node: TreeObject, name: string): string {
  const lower = name.toLowerCase();
  for (const k of Object.keys(node)) if (k.toLowerCase() === lower) return k;
  return name;
}

/** Stages 2–3: walk `input` (a tree from flatToTree or a parsed YAML/JSON document) beside `schema`. */
export function decode<T>(schema: TSchema, input: unknown, options: DecodeOptions = {}): DecodeResult<T> {
  const walker = new Walker(options.describe ?? dottedPath);
  const decoded = walker.decodeRoot(schema, input);
  return { value: (decoded === OMIT ? undefined : decoded) as T, issues: walker.issues, disabled: walker.disabled };
}

/** `['http', 'x', 'prefixes', '[0]']` → `http.x.prefixes[0]`: the default way to name a written path. */
function dottedPath(written: string[]): string {
  return written.join('.').replace(/\.\[/g, '[');
}

/** Formats issues for a log line or an exception message, one per line. */
export function formatIssues(issues: readonly DecodeIssue[]): string {
  return issues.map((i) => `${i.source}: ${i.message}`).join('\n');
}

class Walker {
  issues: DecodeIssue[] = [];
  readonly disabled = new Map<string, DecodeIssue[]>();
  /** Depth of Secret fields being walked: their values are left out of messages. */
  private inSecret = 0;
  /** canonical path → written path, to name the user's key in validation errors. */
  private readonly written = new Map<string, string[]>();

  constructor(private readonly describe: (written: string[]) => string) {}

  decodeRoot(schema: TSchema, input: unknown): Decoded {
    const value = this.walk(schema, input, [], []);
    if (value === OMIT || this.issues.length > 0) return value;
    this.validate(schema, value, [], this.issues);
    return value;
  }

  private walk(schema: TSchema, node: unknown, path: string[], written: string[]): Decoded {
    if (schema[SECRET]) {
      // A secret's value is never echoed in an error message (it would reach logs and the API).
      this.inSecret++;
      try {
        return this.walkPlain(schema, node, path, written);
      } finally {
        this.inSecret--;
      }
    }
    return this.walkPlain(schema, node, path, written);
  }

  private walkPlain(schema: TSchema, node: unknown, path: string[], written: string[]): Decoded {
    this.written.set(path.join('.'), written);
    if (schema[ELEMENT] && path.length > 0) return this.walkElement(schema, node, path, written);
    if (schema.anyOf) return this.walkUnion(schema, node, path, written);
    if (schema[DURATION]) return this.walkDuration(schema, node, path, written);
    switch (schema.type) {
      case 'object': return this.walkObject(schema, node, path, written);
      case 'array': return this.walkArray(schema, node, path, written);
      case 'string': return this.walkString(schema, node, path, written);
      case 'number':
      case 'integer': return this.walkNumber(schema, node, path, written);
      case 'boolean': return this.walkBoolean(schema, node, path, written);
      default: return scalarOf(node);
    }
  }

  /** Decodes one element with its own issue list so its errors disable only it. */
  private walkElement(schema: TSchema, node: unknown, path: string[], written: string[]): Decoded {
    const outer = this.issues;
    const own: DecodeIssue[] = [];
    this.issues = own;
    const inner = { ...schema, [ELEMENT]: false };
    let value = this.walk(inner, node, path, written);
    if (own.length === 0 && value !== OMIT) this.validate(schema, value, path, own);
    this.issues = outer;
    if (own.length > 0) {
      this.disabled.set(path.join('.'), own);
      value = OMIT;
    }
    return value;
  }

  private walkUnion(schema: TSchema, node: unknown, path: string[], written: string[]): Decoded {
    const outer = this.issues;
    for (const variant of schema.anyOf as TSchema[]) {
      this.issues = [];
      const value = this.walk(variant, node, path, written);
      const ok = this.issues.length === 0;
      this.issues = outer;
      if (ok) return value;
    }
    return this.fail(path, written, node, `expected ${describeSchema(schema)}`);
  }

  private walkDuration(_schema: TSchema, node: unknown, path: string[], written: string[]): Decoded {
    const raw = scalarOf(node);
    if (typeof raw === 'number') return raw * 1000; // plain numbers are seconds, as in Traefik
    if (typeof raw === 'string') {
      const ms = parseDuration(raw);
      if (ms !== undefined) return ms;
    }
    return this.fail(path, written, raw, 'expected a duration such as 10s, 500ms, 1m30s or a number of seconds');
  }

  private walkObject(schema: TSchema, node: unknown, path: string[], written: string[]): Decoded {
    let children: Record<string, unknown>;
    let own: unknown;
    if (node === null || node === undefined) children = {};
    else if (typeof node === 'object' && !Array.isArray(node)) {
      children = node as Record<string, unknown>;
      own = (node as TreeObject)[NODE_VALUE];
    } else {
      own = node;
      children = {};
    }
    if (own !== undefined) {
      const enabled = enableValue(own);
      if (enabled === false) return OMIT;
      if (enabled === undefined) {
        const hint = schema[ENABLE] ? ' (true to enable with defaults, or set its fields)' : '';
        return this.fail(path, written, own, `expected an object${hint}`);
      }
    }
    const properties = (schema.properties ?? {}) as Record<string, TSchema>;
    const mapValue = mapValueSchema(schema);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(children)) {
      const prop = findProperty(properties, key);
      const childWritten = [...written, key];
      if (prop !== undefined) {
        const v = this.walk(properties[prop]!, children[key], [...path, prop], childWritten);
        if (v !== OMIT) out[prop] = v;
      } else if (mapValue) {
        const v = this.walk(mapValue, children[key], [...path, key], childWritten);
        if (v !== OMIT) out[key] = v;
      } else {
        this.fail([...path, key], childWritten, undefined, unknownFieldMessage(key, Object.keys(properties)));
      }
    }
    return out;
  }

  private walkArray(schema: TSchema, node: unknown, path: string[], written: string[]): Decoded {
    const items = (schema.items ?? {}) as TSchema;
    let list: unknown[];
    let indexes: string[];
    if (Array.isArray(node)) {
      list = node;
      indexes = node.map((_, i) => String(i));
    } else if (typeof node === 'string') {
      list = node.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      indexes = list.map((_, i) => String(i));
    } else if (node && typeof node === 'object') {
      const keys = Object.keys(node);
      const bad = keys.find((k) => !/^\d+$/.test(k));
      if (bad !== undefined) return this.fail([...path, bad], [...written, bad], undefined, 'expected a list index such as [0]');
      indexes = keys.sort((a, b) => Number(a) - Number(b)); // numeric order: [2] before [10]
      list = indexes.map((k) => (node as Record<string, unknown>)[k]);
    } else {
      return this.fail(path, written, node, 'expected a list (comma-separated in labels and flags)');
    }
    const out: unknown[] = [];
    list.forEach((item, i) => {
      const v = this.walk(items, item, [...path, String(i)], [...written, `[${indexes[i]}]`]);
      if (v !== OMIT) out.push(v);
    });
    return out;
  }

  private walkString(schema: TSchema, node: unknown, path: string[], written: string[]): Decoded {
    const raw = scalarOf(node);
    const text = typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : undefined;
    if (text === undefined) return this.fail(path, written, raw, `expected ${describeSchema(schema)}`);
    const allowed = typeof schema.const === 'string' ? [schema.const] : (schema.enum as unknown[] | undefined);
    if (!allowed) return text;
    // Fixed words (log levels, formats) are matched case-insensitively and stored in their canonical spelling.
    const match = allowed.find((a) => typeof a === 'string' && a.toLowerCase() === text.toLowerCase());
    return match !== undefined ? match : this.fail(path, written, raw, `expected ${describeSchema(schema)}`);
  }

  private walkNumber(schema: TSchema, node: unknown, path: string[], written: string[]): Decoded {
    const raw = scalarOf(node);
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (Number.isFinite(n) && (schema.type !== 'integer' || Number.isInteger(n))) return n;
    return this.fail(path, written, raw, `expected ${schema.type === 'integer' ? 'a whole number' : 'a number'}`);
  }

  private walkBoolean(_schema: TSchema, node: unknown, path: string[], written: string[]): Decoded {
    const raw = scalarOf(node);
    if (typeof raw === 'boolean') return raw;
    if (typeof raw === 'string') {
      const lower = raw.trim().toLowerCase();
      if (lower === 'true' || lower === '') return true; // a bare flag means true
      if (lower === 'false') return false;
    }
    return this.fail(path, written, raw, 'expected true or false');
  }

  private validate(schema: TSchema, value: unknown, base: string[], into: DecodeIssue[]): void {
    for (const err of validateWithDefaults(schema, value)) {
      const path = [...base, ...err.path];
      const written = this.nearestWritten(path);
      into.push({ path: path.join('.'), source: this.describe(written.written), message: err.message });
    }
  }

  private nearestWritten(path: string[]): { written: string[] } {
    for (let n = path.length; n >= 0; n--) {
      const w = this.written.get(path.slice(0, n).join('.'));
      if (w) return { written: [...w, ...path.slice(n)] };
    }
    return { written: path };
  }

  private fail(path: string[], written: string[], value: unknown, message: string): typeof OMIT {
    const shown = value === undefined || typeof value === 'object' || this.inSecret > 0 ? '' : ` (got ${JSON.stringify(value)})`;
    this.issues.push({ path: path.join('.'), source: this.describe(written), message: `${message}${shown}` });
    return OMIT;
  }
}

/** Leaf value of a node: a tree object carrying only a value behaves as that value. */
function scalarOf(node: unknown): unknown {
  if (node && typeof node === 'object' && !Array.isArray(node)) {
    const own = (node as TreeObject)[NODE_VALUE];
    if (own !== undefined && Object.keys(node).length === 0) return own;
  }
  return node;
}

/** true/false/{} written where an object is expected: enable with defaults, or leave out. */
function enableValue(value: unknown): boolean | undefined {
  if (value === true) return true;
  if (value === false) return false;
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'true' || v === '{}') return true;
  if (v === 'false') return false;
  return undefined;
}

function mapValueSchema(schema: TSchema): TSchema | undefined {
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') return schema.additionalProperties as TSchema;
  const patterns = schema.patternProperties as Record<string, TSchema> | undefined;
  if (patterns) return Object.values(patterns)[0];
  return undefined;
}

/** Case-insensitive property lookup: `ratelimit` finds `rateLimit`, `exposedbydefault` finds `exposedByDefault`. */
export function findProperty(properties: Record<string, unknown>, key: string): string | undefined {
  if (Object.hasOwn(properties, key)) return key;
  const lower = key.toLowerCase();
  for (const name of Object.keys(properties)) if (name.toLowerCase() === lower) return name;
  return undefined;
}

function unknownFieldMessage(key: string, known: string[]): string {
  const suggestion = didYouMean(key, known);
  const hint = suggestion ? ` (did you mean '${suggestion}'?)` : known.length > 0 ? ` (known: ${known.join(', ')})` : '';
  return `unknown field '${key}'${hint}`;
}

/** Closest known name within a small edit distance, case-insensitively. */
export function didYouMean(word: string, known: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(w.length / 3)) + 1;
  for (const candidate of known) {
    const d = editDistance(w, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** Human description of what a schema accepts, for error messages. */
function describeSchema(schema: TSchema): string {
  if (schema.anyOf) return (schema.anyOf as TSchema[]).map(describeSchema).join(' or ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return `one of ${(schema.enum as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  if (schema[DURATION]) return 'a duration';
  switch (schema.type) {
    case 'string': return 'a string';
    case 'integer': return 'a whole number';
    case 'number': return 'a number';
    case 'boolean': return 'true or false';
    case 'array': return 'a list';
    case 'object': return 'an object';
    default: return 'a value';
  }
}
