// TCP router rules (Traefik's pkg/muxer/tcp): HostSNI, HostSNIRegexp, ClientIP and ALPN with && || !, compiled once
// into a predicate over what is known of a connection before any byte is relayed.
import type { RequestFacts } from '../router/request-facts.js';
import { compileExpression, parseExpression, RuleSyntaxError, type ExpressionNode, type Grammar, type MatcherNode } from '../router/rule/index.js';
import { clientIP, compileRegexp, requireASCII } from '../router/rule/matchers.js';
import { MatcherSet, type Arity } from '../router/rule/signatures.js';

/** What a TCP rule can see of a connection. */
export interface ConnectionFacts {
  /** SNI, lower-cased; '' for non-TLS connections and ClientHellos without one. */
  readonly serverName: string;
  /** The peer (or the PROXY header's client), IPv4-mapped IPv6 unwrapped. */
  readonly clientIP: string;
  /** Protocols the ClientHello offers (ALPN). */
  readonly alpn: readonly string[];
}

export interface CompiledTCPRule {
  readonly rule: string;
  match(facts: ConnectionFacts): boolean;
  /** Exactly `HostSNI(`*`)`: matches every connection, and loses to specific HTTPS routers (Traefik's catchAll). */
  readonly catchAll: boolean;
}

type TCPMatcherName = 'ALPN' | 'ClientIP' | 'HostSNI' | 'HostSNIRegexp';
type Matcher = (facts: ConnectionFacts) => boolean;

const ONE: Arity = { min: 1, max: 1 };
const ONE_OR_MORE: Arity = { min: 1, max: Infinity };
const GRAMMAR: Grammar<TCPMatcherName> = {
  subject: 'rule',
  matchers: new MatcherSet<TCPMatcherName>({ ALPN: ONE, ClientIP: ONE, HostSNI: ONE, HostSNIRegexp: ONE }),
  emptyArguments: 'rejected',
  severalValuesHint: 'write HostSNI(`a`) || HostSNI(`b`), or set the router\'s ruleSyntax to v2',
};
/** Traefik v2's TCP syntax: lists of values in one matcher. */
const GRAMMAR_V2: Grammar<TCPMatcherName> = {
  subject: 'rule',
  matchers: new MatcherSet<TCPMatcherName>({ ALPN: ONE_OR_MORE, ClientIP: ONE_OR_MORE, HostSNI: ONE_OR_MORE, HostSNIRegexp: ONE_OR_MORE }),
  emptyArguments: 'rejected',
};

// Traefik's hostOrIP: a name, a `*.` wildcard of one label, or an IP.
const HOST_OR_IP = /^(\*\.)?[0-9A-Za-z_.\-:]+$/;
const ACME_TLS_ALPN = 'acme-tls/1';

/** Compiles a TCP rule; throws RuleSyntaxError naming the column and the problem. */
export function compileTCPRule(rule: string, syntax: 'v2' | 'v3' = 'v3'): CompiledTCPRule {
  const ast = parseExpression(rule, syntax === 'v2' ? GRAMMAR_V2 : GRAMMAR);
  const match = compileExpression<TCPMatcherName, ConnectionFacts>(ast, matcherOf);
  const catchAll = ast.type === 'matcher' && ast.name === 'HostSNI' && ast.args.length === 1 && ast.args[0] === '*';
  return Object.freeze({ rule, match, catchAll });
}

/**
 * Every `HostSNI(...)` value of a TCP rule but `*`, lower-cased without a trailing dot, in order, wherever it appears
 * (`HostSNIRegexp` gives none): Traefik's ParseHostSNI, the domains a certificate resolver orders for a TCP router.
 * Throws RuleSyntaxError on an invalid rule.
 */
export function tcpRuleHostNames(rule: string, syntax: 'v2' | 'v3' = 'v3'): string[] {
  const names: string[] = [];
  const walk = (node: ExpressionNode<TCPMatcherName>): void => {
    if (node.type === 'matcher') {
      if (node.name === 'HostSNI') names.push(...node.args.filter((a) => a !== '*').map((a) => a.replace(/\.$/, '').toLowerCase()));
    } else if (node.type === 'not') walk(node.operand);
    else {
      walk(node.left);
      walk(node.right);
    }
  };
  walk(parseExpression(rule, syntax === 'v2' ? GRAMMAR_V2 : GRAMMAR));
  return names;
}

/** Traefik's GetRulePriority: the rule's length, and -1 for the catch-all so it is tried last. */
export function tcpRouterPriority(configured: number | undefined, rule: CompiledTCPRule | string): number {
  if (configured) return configured;
  const text = typeof rule === 'string' ? rule : rule.rule;
  if (typeof rule !== 'string' && rule.catchAll) return -1;
  return Buffer.byteLength(text, 'utf8');
}

function matcherOf(node: MatcherNode<TCPMatcherName>): Matcher {
  const alternatives = node.args.map((arg) => MATCHERS[node.name](arg, node.position));
  return alternatives.length === 1 ? alternatives[0]! : (facts) => alternatives.some((m) => m(facts));
}

const MATCHERS: Readonly<Record<TCPMatcherName, (arg: string, position: number) => Matcher>> = {
  HostSNI: hostSNI,
  HostSNIRegexp: hostSNIRegexp,
  ClientIP: clientIPMatcher,
  ALPN: alpn,
};

function hostSNI(value: string, position: number): Matcher {
  if (value === '*') return () => true;
  if (!HOST_OR_IP.test(value)) throw new RuleSyntaxError(position, `HostSNI: \`${value}\` is not a valid hostname`);
  const expected = value.replace(/\.$/, '').toLowerCase();
  if (expected.startsWith('*.')) {
    const suffix = expected.slice(1);
    // One label replaced by the wildcard, as Traefik's DomainMatchHostExpression compares.
    return ({ serverName }) => {
      const dot = serverName.indexOf('.');
      return dot > 0 && serverName.slice(dot) === suffix;
    };
  }
  return ({ serverName }) => serverName === expected;
}

function hostSNIRegexp(pattern: string, position: number): Matcher {
  requireASCII('HostSNIRegexp', pattern, position);
  const re = compileRegexp('HostSNIRegexp', pattern, position);
  return ({ serverName }) => re.test(serverName);
}

function clientIPMatcher(value: string, position: number): Matcher {
  const inRange = clientIP([value], position);
  // The HTTP matcher reads only `clientIP`, which ConnectionFacts has under the same name.
  return (facts) => inRange(facts as unknown as RequestFacts);
}

function alpn(protocol: string, position: number): Matcher {
  if (protocol === ACME_TLS_ALPN) throw new RuleSyntaxError(position, `ALPN: \`${ACME_TLS_ALPN}\` is reserved for TLS-ALPN-01 challenges`);
  return ({ alpn: offered }) => offered.includes(protocol);
}
