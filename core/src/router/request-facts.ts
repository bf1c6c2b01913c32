// The normalized view of a request that rule matchers look at, built once per request as cheaply as possible.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

export interface RequestFacts {
  readonly method: string;
  /** Normalized with normalizeHost(). */
  readonly host: string;
  /** Normalized with matchingPath() (and sanitizePath() unless disabled): the routing path rules see. */
  readonly path: string;
  /**
   * The same path still percent-encoded (canonicalPath(), sanitized alike): what the service receives, a valid
   * request target whatever the routing path decoded.
   */
  readonly targetPath: string;
  /** Query string without '?', '' when none. */
  readonly rawQuery: string;
  /** Lower-case name -> every header line's value (Node's req.headersDistinct). */
  readonly headers: Record<string, string[] | undefined>;
  /** TCP peer, IPv4-mapped IPv6 unwrapped. */
  readonly clientIP: string;
  /** Parsed on first access only, so requests without Query matchers never pay for it. */
  readonly query: URLSearchParams;
}

/** Plain fields for building facts without a Node request (tests, other transports). */
export interface RequestFactsInit {
  method?: string;
  host?: string;
  path?: string;
  rawQuery?: string;
  headers?: Record<string, string[] | undefined>;
  clientIP?: string;
}

/**
 * Lower-case, strip the port, strip the [] of an IPv6 literal and one trailing dot, so that
 * `Example.COM.:8080` and `example.com` are the same host for routing.
 */
export function normalizeHost(value: string | undefined): string {
  if (!value) return '';
  let host = value.trim().toLowerCase();
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    host = close === -1 ? host : host.slice(1, close);
  } else {
    host = stripPort(host);
  }
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** A single colon separates host and port; several colons mean a bare IPv6 literal, which has no port. */
function stripPort(host: string): string {
  const colon = host.indexOf(':');
  if (colon === -1 || host.indexOf(':', colon + 1) !== -1) return host;
  return host.slice(0, colon);
}

/**
 * RFC 3986's reserved characters (gen-delims and sub-delims) and '%': decoding them would change what the path
 * means, so they stay encoded in the routing path (Traefik's reservedCharacters in pkg/muxer/http/mux.go).
 */
const RESERVED = new Set([...":/?#[]@!$&'()*+,;=%"].map((c) => c.charCodeAt(0)));
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The path form rules are matched against, as Traefik's routing path: every percent-encoding is decoded except
 * reserved characters, so PathPrefix(`/foo bar`) matches `/foo%20bar` and `/caf%C3%A9` is `/café`. Reserved ones
 * stay encoded with upper-case hex (RFC 3986 §6.2.2.1), so an encoded '/' never poses as a segment separator —
 * Traefik keeps a lower-case `%2f` as sent and then decodes it, Wharf does not. Bytes that are not valid UTF-8
 * stay encoded.
 */
export function matchingPath(rawPath: string): string {
  if (!rawPath.includes('%')) return rawPath;
  let out = '';
  let bytes: number[] = [];
  let i = 0;
  while (i < rawPath.length) {
    const ch = rawPath[i]!;
    const hex = ch === '%' ? rawPath.slice(i + 1, i + 3) : '';
    const code = isHexPair(hex) ? parseInt(hex, 16) : -1;
    if (code !== -1 && !RESERVED.has(code)) {
      bytes.push(code);
      i += 3;
      continue;
    }
    if (bytes.length > 0) {
      out += decodedBytes(bytes);
      bytes = [];
    }
    out += code === -1 ? ch : '%' + hex.toUpperCase();
    i += code === -1 ? 1 : 3;
  }
  return bytes.length > 0 ? out + decodedBytes(bytes) : out;
}

/** A run of percent-decoded bytes as text, or kept encoded when it is not UTF-8. */
function decodedBytes(bytes: number[]): string {
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return bytes.map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join('');
  }
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * The encoded path in canonical form: percent-encoded unreserved characters decoded (RFC 3986 §2.3 makes them
 * equivalent to the plain character), every other encoding kept with upper-case hex (§6.2.2.1). Still a valid
 * request target, unlike the routing path.
 */
export function canonicalPath(rawPath: string): string {
  if (!rawPath.includes('%')) return rawPath;
  let out = '';
  let i = 0;
  while (i < rawPath.length) {
    const ch = rawPath[i]!;
    const hex = ch === '%' ? rawPath.slice(i + 1, i + 3) : '';
    if (!isHexPair(hex)) {
      out += ch;
      i += 1;
      continue;
    }
    const decoded = String.fromCharCode(parseInt(hex, 16));
    out += UNRESERVED.test(decoded) ? decoded : '%' + hex.toUpperCase();
    i += 3;
  }
  return out;
}

function isHexPair(s: string): boolean {
  return s.length === 2 && isHexDigit(s.charCodeAt(0)) && isHexDigit(s.charCodeAt(1));
}

function isHexDigit(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

/**
 * Resolve '.' and '..' segments and merge repeated slashes like Go's path.Clean, but keep a trailing
 * slash as Go's URL.JoinPath (which Traefik uses) does, because `/dir/` and `/dir` may route differently.
 */
export function sanitizePath(path: string): string {
  // Most request paths are already clean; skip the split/join on the hot path.
  if (path.startsWith('/') && !path.includes('//') && !path.includes('/.')) return path;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const cleaned = '/' + segments.join('/');
  return path.endsWith('/') && cleaned !== '/' ? cleaned + '/' : cleaned;
}

/**
 * Facts for a Node request. `clientIP` is the TCP peer as the entrypoint saw it. Sanitization is on by
 * default, as Traefik's entryPoints.http.sanitizePath is.
 */
export function requestFacts(req: IncomingMessage, clientIP: string, opts?: { sanitize?: boolean }, split?: RequestTarget): RequestFacts {
  // The entrypoint split the target already (`split`) unless a step before routing rewrote req.url since.
  const url = req.url ?? '/';
  const target = split !== undefined && split.url === url ? split : splitTarget(url);
  const host = target.authority !== undefined ? normalizeHost(target.authority) : normalizeHost(hostHeaderOf(req));
  const sanitize = opts?.sanitize ?? true;
  const targetPath = cleanPath(canonicalPath(target.rawPath), sanitize);
  // Without escapes both forms are the raw path: one computation.
  const path = target.rawPath.includes('%') ? cleanPath(matchingPath(target.rawPath), sanitize) : targetPath;
  return new NodeRequestFacts(req, req.method ?? '', host, path, targetPath, target.rawQuery, unwrapMappedIPv4(clientIP));
}

/** Asterisk-form (OPTIONS *) is not a path at all; cleaning would turn it into '/*'. */
function cleanPath(path: string, sanitize: boolean): string {
  return sanitize && path.startsWith('/') ? sanitizePath(path) : path;
}

/** Facts from plain values; missing fields are empty. */
export function createRequestFacts(init: RequestFactsInit): RequestFacts {
  return new PlainRequestFacts(init);
}

/** A request target split into its parts, once per request (the entrypoint's checks and routing share it). */
export interface RequestTarget {
  /** The target it was split from (req.url at the time). */
  url: string;
  /** Set only for an absolute-form target with a non-empty authority, which wins over the Host header. */
  authority?: string;
  rawPath: string;
  rawQuery: string;
}

/** Split a request target without `new URL()`: it is slow and would normalize the path behind our back. */
export function splitTarget(url: string): RequestTarget {
  if (url.charCodeAt(0) === 0x2f /* '/' */ || url === '*') return splitPathAndQuery(url, url);
  const absolute = splitAbsoluteForm(url);
  return absolute ?? splitPathAndQuery(url, url);
}

function splitPathAndQuery(url: string, pathAndQuery: string): RequestTarget {
  const q = pathAndQuery.indexOf('?');
  if (q === -1) return { url, authority: undefined, rawPath: pathAndQuery, rawQuery: '' };
  return { url, authority: undefined, rawPath: pathAndQuery.slice(0, q), rawQuery: pathAndQuery.slice(q + 1) };
}

const SCHEME_AND_SLASHES = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** `http://user@host:port/path?query` -> authority and origin-form remainder, or undefined if not absolute-form. */
function splitAbsoluteForm(url: string): RequestTarget | undefined {
  const scheme = SCHEME_AND_SLASHES.exec(url);
  if (!scheme) return undefined;
  const start = scheme[0].length;
  let end = start;
  while (end < url.length && url[end] !== '/' && url[end] !== '?' && url[end] !== '#') end++;
  const authority = url.slice(start, end);
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const rest = splitPathAndQuery(url, url.slice(end));
  const rawPath = rest.rawPath === '' ? '/' : rest.rawPath;
  // Go (and so Traefik) falls back to the Host header when the target's authority is empty.
  return { url, authority: hostPort === '' ? undefined : hostPort, rawPath, rawQuery: rest.rawQuery };
}

function hostHeaderOf(req: IncomingMessage): string | undefined {
  const host = req.headers.host;
  if (host) return host;
  const authority = req.headers[':authority'];
  return Array.isArray(authority) ? authority[0] : authority;
}

/** `::ffff:1.2.3.4` -> `1.2.3.4`: dual-stack sockets report IPv4 peers in mapped form. */
export function unwrapMappedIPv4(ip: string): string {
  // Checked by character first: most addresses (IPv4 ones) are ruled out without building a string.
  if (ip.length <= 7 || ip.charCodeAt(0) !== 0x3a /* ':' */ || ip.charCodeAt(6) !== 0x3a) return ip;
  return ip.slice(0, 7).toLowerCase() === '::ffff:' && ip.includes('.') ? ip.slice(7) : ip;
}

class NodeRequestFacts implements RequestFacts {
  #query: URLSearchParams | undefined;
  #headers: Record<string, string[] | undefined> | undefined;

  constructor(
    private readonly req: IncomingMessage,
    readonly method: string,
    readonly host: string,
    readonly path: string,
    readonly targetPath: string,
    readonly rawQuery: string,
    readonly clientIP: string,
  ) {}

  // Only Header matchers need this, and Node builds headersDistinct lazily too.
  get headers(): Record<string, string[] | undefined> {
    return (this.#headers ??= this.req.headersDistinct ?? distinctHeaders(this.req.headers));
  }

  get query(): URLSearchParams {
    return (this.#query ??= parseQuery(this.rawQuery));
  }
}

class PlainRequestFacts implements RequestFacts {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly targetPath: string;
  readonly rawQuery: string;
  readonly headers: Record<string, string[] | undefined>;
  readonly clientIP: string;
  #query: URLSearchParams | undefined;

  constructor(init: RequestFactsInit) {
    this.method = init.method ?? '';
    this.host = init.host ?? '';
    this.path = init.path ?? '';
    this.targetPath = this.path;
    this.rawQuery = init.rawQuery ?? '';
    this.headers = init.headers ?? {};
    this.clientIP = init.clientIP ?? '';
  }

  get query(): URLSearchParams {
    return (this.#query ??= parseQuery(this.rawQuery));
  }
}

/** The HTTP/2 compatibility request has no headersDistinct; its pseudo-headers are not headers to match on. */
function distinctHeaders(headers: IncomingHttpHeaders): Record<string, string[] | undefined> {
  // No prototype, so a rule naming a header `constructor` or `__proto__` finds nothing.
  const distinct: Record<string, string[] | undefined> = Object.create(null);
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    distinct[name] = Array.isArray(value) ? value : [value];
  }
  return distinct;
}

/** Traefik's default (http.AllowQuerySemicolons) treats ';' as a pair separator like '&'. */
function parseQuery(rawQuery: string): URLSearchParams {
  return new URLSearchParams(rawQuery.includes(';') ? rawQuery.replaceAll(';', '&') : rawQuery);
}
