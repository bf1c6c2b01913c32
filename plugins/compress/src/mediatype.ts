// Media types as Go's mime.ParseMediaType reads them (what Traefik and klauspost's gzhttp compare), and the
// content-type filter built from excludedContentTypes / includedContentTypes.

export interface MediaType {
  /** `type/subtype`, lower-cased. */
  type: string;
  /** Parameter names lower-cased, values as written (quotes removed). */
  params: ReadonlyMap<string, string>;
}

const TSPECIALS = new Set('()<>@,;:\\"/[]?=');

function isTokenChar(code: number, char: string): boolean {
  return code > 0x20 && code < 0x7f && !TSPECIALS.has(char);
}

/** Length of the token at `from` (0 when none). */
function tokenEnd(s: string, from: number): number {
  let i = from;
  while (i < s.length && isTokenChar(s.charCodeAt(i), s[i]!)) i++;
  return i;
}

function skipSpace(s: string, from: number): number {
  let i = from;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i;
}

/** The quoted string at `from` (which is a `"`), unescaped, and where it ends; undefined when unterminated. */
function quoted(s: string, from: number): { value: string; end: number } | undefined {
  let value = '';
  for (let i = from + 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') return { value, end: i + 1 };
    if (c === '\\' && i + 1 < s.length) value += s[++i];
    else value += c;
  }
  return undefined;
}

/** Parses `type/subtype; k=v`; a string naming why when it is not one. */
export function readMediaType(value: string): MediaType | string {
  const s = value.trim();
  const typeEnd = tokenEnd(s, 0);
  if (typeEnd === 0) return 'no media type';
  let i = typeEnd;
  // Go accepts a lone token ("text"); with a slash, the subtype must be a token.
  if (i < s.length && s[i] === '/') {
    const subEnd = tokenEnd(s, i + 1);
    if (subEnd === i + 1) return 'expected token after slash';
    i = subEnd;
  }
  const type = s.slice(0, i).toLowerCase();
  const params = new Map<string, string>();
  i = skipSpace(s, i);
  if (i < s.length && s[i] !== ';') return 'expected slash after first token';
  while (i < s.length) {
    i = skipSpace(s, i + 1); // past ';'
    if (i >= s.length) break; // a trailing ';' is allowed
    const keyEnd = tokenEnd(s, i);
    if (keyEnd === i || s[keyEnd] !== '=') return 'invalid media parameter';
    const key = s.slice(i, keyEnd).toLowerCase();
    let paramValue: string;
    if (s[keyEnd + 1] === '"') {
      const q = quoted(s, keyEnd + 1);
      if (!q) return 'invalid media parameter';
      paramValue = q.value;
      i = q.end;
    } else {
      const valueEnd = tokenEnd(s, keyEnd + 1);
      if (valueEnd === keyEnd + 1) return 'invalid media parameter';
      paramValue = s.slice(keyEnd + 1, valueEnd);
      i = valueEnd;
    }
    if (params.has(key)) return 'duplicate parameter name';
    params.set(key, paramValue);
    i = skipSpace(s, i);
    if (i < s.length && s[i] !== ';') return 'invalid media parameter';
  }
  return { type, params };
}

/** A media type from the configuration; throws naming the field. */
export function parseMediaType(value: string, field: string): MediaType {
  const parsed = readMediaType(value);
  if (typeof parsed === 'string') throw new Error(`${field}: not a media type (${parsed}; want type/subtype, e.g. text/html), got "${value}"`);
  return parsed;
}

/** gzhttp's rule: a configured type without parameters matches any parameters; with some, exactly those. */
export function mediaTypeMatches(configured: MediaType, actual: MediaType): boolean {
  if (configured.type !== actual.type) return false;
  if (configured.params.size === 0) return true;
  if (configured.params.size !== actual.params.size) return false;
  for (const [key, value] of configured.params) if (actual.params.get(key) !== value) return false;
  return true;
}

/** Never compressed, whatever the options say (Traefik). */
const GRPC: MediaType = { type: 'application/grpc', params: new Map() };

/** Distinct Content-Type values are few; past this many the verdicts are forgotten and rebuilt. */
const VERDICTS_KEPT = 256;

/**
 * Whether a response's Content-Type may be compressed. Unparsable types are not (as in Traefik); verdicts are
 * remembered per header value so the per-response cost is one map lookup.
 */
export function contentTypeFilter(excluded: readonly MediaType[], included: readonly MediaType[]): (contentType: string) => boolean {
  const verdicts = new Map<string, boolean>();
  const decide = (contentType: string): boolean => {
    const actual = readMediaType(contentType);
    if (typeof actual === 'string') return false;
    if (mediaTypeMatches(GRPC, actual)) return false;
    if (included.length > 0) return included.some((t) => mediaTypeMatches(t, actual));
    return !excluded.some((t) => mediaTypeMatches(t, actual));
  };
  return function compressible(contentType: string): boolean {
    let verdict = verdicts.get(contentType);
    if (verdict === undefined) {
      if (verdicts.size >= VERDICTS_KEPT) verdicts.clear();
      verdict = decide(contentType);
      verdicts.set(contentType, verdict);
    }
    return verdict;
  };
}

/**
 * Traefik also looks at the request's Content-Type: a request whose media type is excluded (or gRPC) is passed
 * through untouched, compared by media type only. An unparsable one counts as no type.
 */
export function requestTypeFilter(excluded: readonly MediaType[]): (contentType: string | undefined) => boolean {
  const types = new Set([GRPC.type, ...excluded.map((t) => t.type)]);
  return function requestExcluded(contentType: string | undefined): boolean {
    if (contentType === undefined) return false;
    const semicolon = contentType.indexOf(';');
    const type = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
    if (!types.has(type)) return false;
    return typeof readMediaType(contentType) !== 'string';
  };
}
