// Traefik v2's matchers, for routers with `ruleSyntax: v2` (or core.defaultRuleSyntax=v2): lists of values and
// gorilla/mux route templates (`/users/{id:[0-9]+}`, `{sub:[a-z]+}.example.com`), as pkg/muxer/http/matcher_v2.go
// builds them. Templates become anchored RE2 patterns the way gorilla/mux's newRouteRegexp writes them.
import { RE2JS } from 're2js';
import type { RequestFacts } from '../request-facts.js';
import { clientIP, compileRegexp, exactHosts, headerValues, HEADER_NAME, method, requireASCII, type MatcherFactory, type MatcherFn } from './matchers.js';
import { RuleSyntaxError } from './parser.js';
import type { MatcherNameV2 } from './signatures.js';

type TemplateKind = 'host' | 'path' | 'prefix' | 'query';

/** What a variable without its own pattern matches, per gorilla/mux. */
const DEFAULT_PATTERN: Record<TemplateKind, string> = { host: '[^.]+', path: '[^/]+', prefix: '[^/]+', query: '[^?&]*' };

/** A gorilla/mux template as an RE2 pattern: `^`, literal text quoted, `{name:pattern}` groups, `$` unless a prefix. */
export function templatePattern(matcher: string, template: string, kind: TemplateKind, position: number): string {
  let pattern = '^';
  let end = 0;
  for (const [open, close] of braceSpans(matcher, template, position)) {
    pattern += RE2JS.quote(template.slice(end, open));
    const inner = template.slice(open + 1, close);
    const colon = inner.indexOf(':');
    const name = colon === -1 ? inner : inner.slice(0, colon);
    const patt = colon === -1 ? DEFAULT_PATTERN[kind] : inner.slice(colon + 1);
    if (name === '' || patt === '') throw new RuleSyntaxError(position, `${matcher}: missing name or pattern in \`${template.slice(open, close + 1)}\``);
    pattern += patt.startsWith('(') && patt.endsWith(')') ? patt : `(${patt})`;
    end = close + 1;
  }
  pattern += RE2JS.quote(template.slice(end));
  if (kind === 'query' && template.slice(template.indexOf('=') + 1) === '') pattern += DEFAULT_PATTERN.query;
  return kind === 'prefix' ? pattern : pattern + '$';
}

/** First-level `{…}` spans, as gorilla/mux's braceIndices; unbalanced braces are an error. */
function braceSpans(matcher: string, template: string, position: number): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let level = 0;
  let open = 0;
  for (let i = 0; i < template.length; i++) {
    if (template[i] === '{' && ++level === 1) open = i;
    else if (template[i] === '}' && --level === 0) spans.push([open, i]);
    if (level < 0) break;
  }
  if (level !== 0) throw new RuleSyntaxError(position, `${matcher}: unbalanced braces in \`${template}\``);
  return spans;
}

function templates(matcher: string, args: readonly string[], kind: TemplateKind, position: number): RE2JS[] {
  return args.map((template) => compileRegexp(matcher, templatePattern(matcher, template, kind, position), position));
}

function anyTemplate(regexps: RE2JS[], subject: (facts: RequestFacts) => string): MatcherFn {
  return (facts) => {
    const value = subject(facts);
    return regexps.some((re) => re.test(value));
  };
}

function hostRegexpV2(args: readonly string[], position = 1): MatcherFn {
  for (const template of args) requireASCII('HostRegexp', template, position);
  return anyTemplate(templates('HostRegexp', args, 'host', position), (facts) => facts.host);
}

function pathV2(args: readonly string[], position = 1): MatcherFn {
  return anyTemplate(templates('Path', args, 'path', position), (facts) => facts.path);
}

function pathPrefixV2(args: readonly string[], position = 1): MatcherFn {
  return anyTemplate(templates('PathPrefix', args, 'prefix', position), (facts) => facts.path);
}

/** Name/value pairs, every one required: an empty value asks only for the header's presence (gorilla/mux). */
function headerPairs(matcher: string, args: readonly string[], position: number): Array<[string, string]> {
  if (args.length % 2 !== 0) throw new RuleSyntaxError(position, `${matcher} takes name/value pairs, got ${args.length} arguments`);
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i]!;
    if (!HEADER_NAME.test(name)) throw new RuleSyntaxError(position, `${matcher}: \`${name}\` is not a valid header name`);
    pairs.push([name.toLowerCase(), args[i + 1]!]);
  }
  return pairs;
}

function headersV2(args: readonly string[], position = 1): MatcherFn {
  const pairs = headerPairs('Headers', args, position);
  return (facts) => pairs.every(([name, value]) => {
    const values = headerValues(facts, name);
    return values !== undefined && (value === '' || values.includes(value));
  });
}

function headersRegexpV2(args: readonly string[], position = 1): MatcherFn {
  const pairs = headerPairs('HeadersRegexp', args, position).map(([name, pattern]) => [name, pattern === '' ? null : compileRegexp('HeadersRegexp', pattern, position)] as const);
  return (facts) => pairs.every(([name, re]) => {
    const values = headerValues(facts, name);
    return values !== undefined && (re === null || values.some((value) => re.test(value)));
  });
}

/**
 * `Query(`k=v`, …)`: every pair required, each matched as `k=<first value of k>` against its template, so
 * `k=` (or `k={x}`) asks for the key with any value; a bare `k` is an error, as in Traefik v2.
 */
function queryV2(args: readonly string[], position = 1): MatcherFn {
  const checks = args.map((element) => {
    const eq = element.indexOf('=');
    if (eq === -1) throw new RuleSyntaxError(position, `Query: \`${element}\` is not a key=value pair (v2 syntax; write \`${element}=\` for any value)`);
    const key = element.slice(0, eq);
    return { key, re: compileRegexp('Query', templatePattern('Query', element, 'query', position), position) };
  });
  return (facts) => checks.every(({ key, re }) => {
    const values = facts.query.getAll(key);
    return values.length > 0 && re.test(`${key}=${values[0]!}`);
  });
}

export const MATCHERS_V2: Readonly<Record<MatcherNameV2, MatcherFactory>> = {
  ClientIP: clientIP,
  Headers: headersV2,
  HeadersRegexp: headersRegexpV2,
  Host: exactHosts,
  HostHeader: exactHosts,
  HostRegexp: hostRegexpV2,
  Method: method,
  Path: pathV2,
  PathPrefix: pathPrefixV2,
  Query: queryV2,
};
