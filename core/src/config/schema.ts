// Schema building blocks shared by the static config, the dynamic config and every plugin's options.
// One schema gives the TypeScript type (TypeBox), validation and defaults (ajv), coercion of flat
// label/flag strings (decode.ts) and the documentation tables (descriptions).
import { Type, type Static, type TSchema, type TUnsafe, type SchemaOptions } from '@sinclair/typebox';

export { Type, type Static, type TSchema };

/** Marks a number of milliseconds that users write as `10s`, `500ms`, `1m30s` or plain seconds. */
export const DURATION = 'x-wharf-duration';
/** Marks the boundary of one configuration element (router, service, …): errors inside disable only it. */
export const ELEMENT = 'x-wharf-element';
/** Marks an object that a bare flag or `=true` enables with defaults (`--ping`, `--accessLog={}`). */
export const ENABLE = 'x-wharf-enable';
/** Marks a field whose value must never be printed (passwords, keys). */
export const SECRET = 'x-wharf-secret';

/** Duration in milliseconds; `default` may be given as a string like `'10s'`. */
export function Duration(options: SchemaOptions & { default?: string | number; minimum?: number } = {}): TUnsafe<number> {
  const { default: def, ...rest } = options;
  const schema: Record<string, unknown> = { type: 'number', minimum: 0, [DURATION]: true, ...rest };
  if (def !== undefined) schema.default = typeof def === 'string' ? parseDuration(def) : def;
  return Type.Unsafe<number>(schema);
}

/** A map from user-chosen names to values (`routers.<name>`). */
export function MapOf<T extends TSchema>(value: T, options: SchemaOptions = {}): TUnsafe<Record<string, Static<T>>> {
  return Type.Unsafe<Record<string, Static<T>>>({ type: 'object', additionalProperties: value, ...options });
}

/** A list of strings, written comma-separated in labels and flags. */
export function StringList(options: SchemaOptions = {}) {
  return Type.Array(Type.String(), options);
}

/** An object that a bare flag, `true` or `{}` turns on with its defaults. */
export function Section<T extends TSchema>(schema: T): T {
  return { ...schema, [ENABLE]: true } as T;
}

/** A configuration element whose errors are isolated (see ELEMENT). */
export function Element<T extends TSchema>(schema: T): T {
  return { ...schema, [ELEMENT]: true } as T;
}

/** A string that is never logged or shown by the API. */
export function Secret(options: SchemaOptions = {}) {
  return Type.String({ ...options, [SECRET]: true });
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/;

/**
 * Parses Go-style durations (`1h30m`, `500ms`, `2.5s`) and plain numbers of seconds, as Traefik accepts them.
 * Returns milliseconds, or undefined when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  let rest = trimmed;
  let total = 0;
  while (rest.length > 0) {
    const m = DURATION_RE.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** Formats milliseconds back into the shortest Go-style duration (`1m30s`), for docs and the API. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (rest >= size) {
      const n = unit === 's' ? rest / size : Math.floor(rest / size);
      parts.push(`${n}${unit}`);
      rest -= Math.floor(n) * size;
      if (unit === 's') rest = 0;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}
