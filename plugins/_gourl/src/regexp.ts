// Go's regexp over RE2 (re2js, as core's rule matchers): compile with a message naming the option, and
// ReplaceAllString with Go's template expansion ($1, ${1}, $name, $$) and Go's handling of empty matches.
import { RE2JS, RE2JSSyntaxException } from 're2js';

/** A compiled pattern: RE2, the engine behind Go's regexp. */
export type GoRegexp = RE2JS;

/** Compiles `pattern` (RE2 syntax, as Go's regexp.Compile); throws `<field>: invalid regular expression …`. */
export function compileGoRegexp(field: string, pattern: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (err) {
    const reason = err instanceof RE2JSSyntaxException ? err.getDescription() : String(err);
    throw new Error(`${field}: invalid regular expression \`${pattern}\`: ${reason}`, { cause: err });
  }
}

export function matchesGo(re: RE2JS, s: string): boolean {
  return re.matcher(s).find(0);
}

/** Group offsets of one match: [start0, end0, start1, end1, …], -1 for a group that did not take part. */
type Match = number[];

function findAt(re: RE2JS, s: string, from: number): Match | undefined {
  const m = re.matcher(s);
  if (!m.find(from)) return undefined;
  const groups: Match = [];
  for (let g = 0; g <= m.groupCount(); g++) groups.push(m.start(g), m.end(g));
  return groups;
}

/** FindStringSubmatch: the whole match and the groups ('' for one that did not take part), or undefined. */
export function findSubmatch(re: RE2JS, s: string): string[] | undefined {
  const m = findAt(re, s, 0);
  if (!m) return undefined;
  const parts: string[] = [];
  for (let i = 0; i < m.length; i += 2) parts.push(m[i]! < 0 ? '' : s.slice(m[i], m[i + 1]));
  return parts;
}

/** Regexp.ReplaceAllString. */
export function replaceAllGo(re: RE2JS, src: string, template: string): string {
  const names = re.namedGroups() as Record<string, number>;
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    const m = findAt(re, src, searchPos);
    if (!m) break;
    out += src.slice(lastMatchEnd, m[0]);
    // Go skips an empty match right after the previous match, so `a*` does not replace twice around `b`.
    if (m[1]! > lastMatchEnd || m[0] === 0) out += expand(template, src, m, names);
    lastMatchEnd = m[1]!;
    const width = searchPos < src.length ? String.fromCodePoint(src.codePointAt(searchPos)!).length : 1;
    if (searchPos + width > m[1]!) searchPos += width;
    else if (searchPos + 1 > m[1]!) searchPos++;
    else searchPos = m[1]!;
  }
  return out + src.slice(lastMatchEnd);
}

/** Regexp.Expand's template rules. */
export function expand(template: string, src: string, m: Match, names: Record<string, number>): string {
  let out = '';
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf('$');
    if (dollar === -1) return out + rest;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const ref = extractReference(rest);
    if (!ref) {
      out += '$'; // malformed: the $ is literal text
      continue;
    }
    rest = ref.rest;
    const group = ref.num >= 0 ? ref.num : names[ref.name];
    if (group !== undefined && 2 * group + 1 < m.length && m[2 * group]! >= 0) out += src.slice(m[2 * group], m[2 * group + 1]);
  }
}

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;

/**
 * Go's extract: the longest run of letters, digits and `_` (so `$1x` is the group named `1x`, which is empty),
 * or `{name}`; a number without a leading zero is a group index.
 */
function extractReference(s: string): { name: string; num: number; rest: string } | undefined {
  const brace = s.startsWith('{');
  const body = brace ? s.slice(1) : s;
  let i = 0;
  for (const ch of body) {
    if (!NAME_CHAR.test(ch)) break;
    i += ch.length;
  }
  if (i === 0) return undefined;
  const name = body.slice(0, i);
  let end = i;
  if (brace) {
    if (body[i] !== '}') return undefined;
    end++;
  }
  let num = /^[0-9]+$/.test(name) && name.length < 9 ? Number(name) : -1;
  if (name.length > 1 && name.startsWith('0')) num = -1;
  return { name, num, rest: body.slice(end) };
}
