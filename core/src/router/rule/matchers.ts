// Traefik v3 HTTP matchers: each validates its arguments once, at compile time, and returns a cheap predicate.
import { RE2JS, RE2JSSyntaxException } from 're2js';
import { matchingPath, type RequestFacts } from '../request-facts.js';
import { parseClientIP, parseIP, parseIPRange, rangeContains, type IPRange } from './ip.js';
import { RuleSyntaxError } from './parser.js';
import { MATCHER_ARITY, describeArity, type MatcherName } from './signatures.js';

export type MatcherFn = (facts: RequestFacts) => boolean;

/** `position` is the 1-based column of the matcher in its rule, used only in error messages. */
export type MatcherFactory = (args: readonly string[], position?: number) => MatcherFn;

/**
 * Traefik v3's Host: an exact name, `*` for any host (even none), or `*.example.com` for one more label in front of
 * example.com (not two, not none), compared after the same normalization as the request host (normalizeRuleHost).
 */
export function host(args: readonly string[], position = 1): MatcherFn {
  const value = args[0]!;
  if (args.length === 1 && value.trim() === '*') return () => true;
  if (args.length === 1 && value.trim().startsWith('*')) return wildcardHost(value, position);
  return exactHosts(args, position);
}

function wildcardHost(value: string, position: number): MatcherFn {
  const trimmed = value.trim();
  if (!trimmed.startsWith('*.')) {
    throw new RuleSyntaxError(position, `Host: invalid value \`${value}\`: a wildcard stands for one whole label, as in \`*.example.com\``);
  }
  const tail = '.' + validatedRuleHost(trimmed.slice(2), position);
  return (facts) => {
    const dot = facts.host.indexOf('.');
    return dot !== -1 && dot === facts.host.length - tail.length && facts.host.endsWith(tail);
  };
}

/** Exact host names (Traefik v2's Host and HostHeader take several). */
export function exactHosts(args: readonly string[], position = 1): MatcherFn {
  const hosts = args.map((value) => validatedRuleHost(value, position));
  return anyOf(hosts.map((h) => (facts: RequestFacts) => facts.host === h), hosts, (set) => (facts) => set.has(facts.host));
}

/** Unanchored regexps over the normalized (lower-case, port-less) host, as Traefik v3 does. */
export function hostRegexp(args: readonly string[], position = 1): MatcherFn {
  const patterns = args.map((pattern) => {
    requireASCII('HostRegexp', pattern, position);
    return compileRegexp('HostRegexp', pattern, position);
  });
  return anyOf(patterns.map((re) => (facts: RequestFacts) => re.test(facts.host)));
}

function path(args: readonly string[], position = 1): MatcherFn {
  const paths = args.map((value) => validatedRulePath('Path', value, position));
  return anyOf(paths.map((p) => (facts: RequestFacts) => facts.path === p), paths, (set) => (facts) => set.has(facts.path));
}

/** Plain string prefix, as in Traefik: PathPrefix(`/api`) also matches `/apiv2`. */
function pathPrefix(args: readonly string[], position = 1): MatcherFn {
  const prefixes = args.map((value) => validatedRulePath('PathPrefix', value, position));
  return anyOf(prefixes.map((p) => (facts: RequestFacts) => facts.path.startsWith(p)));
}

/** Unanchored, as in Traefik v3: users anchor with ^…$ themselves. */
export function pathRegexp(args: readonly string[], position = 1): MatcherFn {
  const patterns = args.map((pattern) => compileRegexp('PathRegexp', pattern, position));
  return anyOf(patterns.map((re) => (facts: RequestFacts) => re.test(facts.path)));
}

/** The rule value is upper-cased; the request method is compared as sent, so `get` on the wire never matches. */
export function method(args: readonly string[]): MatcherFn {
  const methods = args.map((value) => value.toUpperCase());
  return anyOf(methods.map((m) => (facts: RequestFacts) => facts.method === m), methods, (set) => (facts) => set.has(facts.method));
}

/** True when any one of the repeated header lines equals the value exactly (a comma-joined line is one value). */
function header(args: readonly string[], position = 1): MatcherFn {
  const [name, value] = validatedHeaderArgs('Header', args, position);
  return (facts) => headerValues(facts, name)?.includes(value) ?? false;
}

function headerRegexp(args: readonly string[], position = 1): MatcherFn {
  const [name, pattern] = validatedHeaderArgs('HeaderRegexp', args, position);
  const re = compileRegexp('HeaderRegexp', pattern, position);
  return (facts) => headerValues(facts, name)?.some((value) => re.test(value)) ?? false;
}

/**
 * Query(`k`, `v`) needs some `k` equal to `v`; Query(`k`) needs some `k` with an empty value (`?k` or `?k=`),
 * not merely the key's presence, exactly as Traefik v3 does.
 */
function query(args: readonly string[], position = 1): MatcherFn {
  expectCount('Query', args, 1, 2, position);
  const key = args[0]!;
  const value = args[1] ?? '';
  return (facts) => facts.query.getAll(key).includes(value);
}

/** With one argument, the same as Query (Traefik's queryRegexp). */
function queryRegexp(args: readonly string[], position = 1): MatcherFn {
  expectCount('QueryRegexp', args, 1, 2, position);
  if (args.length === 1) return query(args, position);
  const key = args[0]!;
  const re = compileRegexp('QueryRegexp', args[1]!, position);
  return (facts) => facts.query.getAll(key).some((value) => re.test(value));
}

/** The TCP peer, never X-Forwarded-For (Traefik's RemoteAddrStrategy), against IPs or CIDRs of either family. */
export function clientIP(args: readonly string[], position = 1): MatcherFn {
  const ranges = args.map((value) => validatedRange(value, position));
  return (facts) => {
    const ip = parseClientIP(facts.clientIP);
    return ip !== undefined && ranges.some((range) => rangeContains(range, ip));
  };
}

export const MATCHERS: Readonly<Record<MatcherName, MatcherFactory>> = {
  ClientIP: clientIP,
  Header: header,
  HeaderRegexp: headerRegexp,
  Host: host,
  HostRegexp: hostRegexp,
  Method: method,
  Path: path,
  PathPrefix: pathPrefix,
  PathRegexp: pathRegexp,
  Query: query,
  QueryRegexp: queryRegexp,
};

/** Arity-checked construction, for callers that did not come through the parser. */
export function buildMatcher(name: MatcherName, args: readonly string[], position = 1): MatcherFn {
  const arity = MATCHER_ARITY[name];
  expectCount(name, args, arity.min, arity.max, position);
  const empty = args.findIndex((arg) => arg === '');
  if (empty !== -1) throw new RuleSyntaxError(position, `empty argument to ${name}: values must not be empty`);
  return MATCHERS[name](args, position);
}

/**
 * Collapse Traefik v2's multi-value form into one predicate. Exact-value matchers pass their values so that
 * several of them become one Set lookup instead of a loop.
 */
function anyOf(
  predicates: MatcherFn[],
  values?: readonly string[],
  fromSet?: (set: ReadonlySet<string>) => MatcherFn,
): MatcherFn {
  if (predicates.length === 1) return predicates[0]!;
  if (values && fromSet) return fromSet(new Set(values));
  return (facts) => predicates.some((predicate) => predicate(facts));
}

export function expectCount(name: string, args: readonly string[], min: number, max: number, position: number): void {
  if (args.length >= min && args.length <= max) return;
  throw new RuleSyntaxError(position, `${name} takes ${describeArity({ min, max })}, got ${args.length}`);
}

/** Go regexp (RE2) syntax, unanchored; a bad pattern is a RuleSyntaxError naming the matcher and the pattern. */
export function compileRegexp(matcher: string, pattern: string, position: number): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (err) {
    const reason = err instanceof RE2JSSyntaxException ? err.getDescription() : String(err);
    throw new RuleSyntaxError(position, `${matcher}: invalid regular expression \`${pattern}\`: ${reason}`);
  }
}

export function requireASCII(matcher: string, value: string, position: number): void {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(value)) return;
  throw new RuleSyntaxError(position, `${matcher}: invalid value \`${value}\`: non-ASCII characters are not allowed, use the punycode (xn--) form`);
}

const HOST_NAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;
const HOST_WITH_PORT = /^[a-z0-9_.-]+:[0-9]+$/;

/**
 * Lower-case, drop one trailing dot and the [] of an IPv6 literal: the same normalization the request host
 * gets, so matching is a plain string comparison (and the routing table can index by it).
 */
export function normalizeRuleHost(value: string): string {
  let h = value.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

function validatedRuleHost(value: string, position: number): string {
  requireASCII('Host', value, position);
  const normalized = normalizeRuleHost(value);
  if (HOST_NAME.test(normalized) || parseIP(normalized) !== undefined) return normalized;
  const reason = HOST_WITH_PORT.test(normalized)
    ? 'the port must not be included, the request host is compared without it'
    : 'not a valid host name';
  throw new RuleSyntaxError(position, `Host: invalid value \`${value}\`: ${reason}`);
}

/** Rule paths get the request path's normalization, so `/%7euser` and `/~user` mean the same thing on both sides. */
export function validatedRulePath(matcher: string, value: string, position: number): string {
  if (!value.startsWith('/')) throw new RuleSyntaxError(position, `${matcher}: path \`${value}\` must start with '/'`);
  return matchingPath(value);
}

export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Header names are case-insensitive: Node hands them to us lower-cased. */
function validatedHeaderArgs(matcher: string, args: readonly string[], position: number): [string, string] {
  expectCount(matcher, args, 2, 2, position);
  const name = args[0]!;
  if (!HEADER_NAME.test(name)) throw new RuleSyntaxError(position, `${matcher}: \`${name}\` is not a valid header name`);
  return [name.toLowerCase(), args[1]!];
}

/** Guarded because a plain-object header map would answer `constructor` or `__proto__` from its prototype. */
export function headerValues(facts: RequestFacts, name: string): readonly string[] | undefined {
  const values = facts.headers[name];
  return Array.isArray(values) ? values : undefined;
}

function validatedRange(value: string, position: number): IPRange {
  const range = parseIPRange(value.trim());
  if (range) return range;
  throw new RuleSyntaxError(position, `ClientIP: \`${value}\` is not an IPv4/IPv6 address or CIDR`);
}
