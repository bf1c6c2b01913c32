// Go's net/url path rules (escape, unescape, EscapedPath, setPath, JoinPath, path.Clean), byte for byte, so the
// rewrite plugins produce the request line Traefik would send for the same input, %2F and %20 included.

/** A URL path the way Go holds it: `path` decoded, `rawPath` the encoded form when it differs from the default one. */
export interface GoPath {
  path: string;
  rawPath: string;
}

export class EscapeError extends Error {
  constructor(readonly escape: string) {
    // Go: `invalid URL escape "%zz"`.
    super(`invalid URL escape ${JSON.stringify(escape)}`);
  }
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** url.PathUnescape: %XX decoded (UTF-8), `+` kept; a bad escape throws EscapeError as Go returns one. */
export function unescapePath(s: string): string {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 /* % */) {
      const hex = s.slice(i + 1, i + 3);
      if (!HEX.test(hex)) throw new EscapeError(s.slice(i, i + 3));
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      // A non-ASCII character stays as its UTF-8 bytes, as in Go's byte strings.
      const cp = s.codePointAt(i)!;
      bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
      if (cp > 0xffff) i++;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** shouldEscape(c, encodePath) for one byte. */
function shouldEscapePathByte(c: number): boolean {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return false;
  // Unreserved, plus the sub-delims and ':' '@' '/' Go leaves alone in a path ('?' is the one it escapes).
  return !'-_.~$&+,/:;=@'.includes(String.fromCharCode(c));
}

/** Characters Go's URL escaping leaves as they are in a path: exactly those shouldEscapePathByte keeps. */
const PLAIN_PATH = /^[A-Za-z0-9\-_.~$&+,/:;=@]*$/;
/** A `.` or `..` segment. */
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/** url.escape(s, encodePath): the default encoding of a decoded path. */
export function escapePath(s: string): string {
  if (PLAIN_PATH.test(s)) return s;
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    out += shouldEscapePathByte(byte) ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}

/** validEncoded(s, encodePath): whether `s` can be sent as it is. */
function validEncoded(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ("!$&'()*+,;=:@[]%".includes(s[i]!)) continue;
    if (c >= 0x80 || shouldEscapePathByte(c)) return false;
  }
  return true;
}

/** URL.setPath: decode, and keep the encoded form only when it is not the default one. Throws EscapeError. */
export function setPath(p: string): GoPath {
  // Most paths hold only characters Go never escapes in a path: decoding and re-encoding would give them back.
  if (PLAIN_PATH.test(p)) return { path: p, rawPath: '' };
  const path = unescapePath(p);
  return { path, rawPath: escapePath(path) === p ? '' : p };
}

/** URL.EscapedPath: the encoded form when it is valid and still decodes to `path`, else the default encoding. */
export function escapedPath({ path, rawPath }: GoPath): string {
  if (rawPath !== '' && validEncoded(rawPath)) {
    try {
      if (unescapePath(rawPath) === path) return rawPath;
    } catch {
      // An invalid escape: fall through to the default encoding, as Go does.
    }
  }
  if (path === '*') return '*';
  return escapePath(path);
}

/** path.Clean: one slash between elements, `.` removed, `..` resolved (never above the root). */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const element of p.split('/')) {
    if (element === '' || element === '.') continue;
    if (element === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
    } else {
      out.push(element);
    }
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/**
 * URL.JoinPath() with no elements, as Traefik's stripPrefix, stripPrefixRegex and replacePathRegex call it to
 * sanitize the result: the escaped path cleaned, a trailing slash kept.
 */
export function joinPath(u: GoPath): GoPath {
  const escaped = escapedPath(u);
  const cleaned = escaped.startsWith('/') ? cleanPath(escaped) : cleanPath(`/${escaped}`).slice(1);
  const p = escaped.endsWith('/') && !cleaned.endsWith('/') ? `${cleaned}/` : cleaned;
  try {
    return setPath(p);
  } catch {
    // Go ignores setPath's error here; the path it built from a valid escaped path cannot fail anyway.
    return u;
  }
}

/**
 * Traefik's check after a strip or a regex replacement: a non-empty decoded path must equal its sanitized form,
 * otherwise the request is refused (400) — `/a/../b` or `//b` produced by a rewrite is never forwarded.
 */
export function sanitized(u: GoPath): GoPath | undefined {
  if (u.path === '') return u;
  // A rooted plain path without empty, `.` or `..` segments is its own cleaned form: skip the round trip.
  if (u.rawPath === '' && u.path.startsWith('/') && PLAIN_PATH.test(u.path) && !u.path.includes('//') && !DOT_SEGMENT.test(u.path)) return u;
  const joined = joinPath(u);
  return joined.path === u.path ? joined : undefined;
}

/** ensureLeadingSlash as Traefik's middlewares define it: the empty string stays empty. */
export function ensureLeadingSlash(s: string): string {
  return s === '' || s.startsWith('/') ? s : `/${s}`;
}

/** How many bytes of `rawPath` encode the first `decodedPrefix.length` bytes (Traefik's encodedPrefixLen). */
export function encodedPrefixLength(rawPath: string, decodedPrefix: string): number {
  const wanted = Buffer.byteLength(decodedPrefix, 'utf8');
  const raw = Buffer.from(rawPath, 'utf8');
  let decoded = 0;
  let i = 0;
  while (i < raw.length && decoded < wanted) {
    i += raw[i] === 0x25 && i + 2 < raw.length ? 3 : 1;
    decoded++;
  }
  return raw.subarray(0, i).toString('utf8').length;
}
