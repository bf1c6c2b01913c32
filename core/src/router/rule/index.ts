// Compiles a Traefik v3 rule string once into a predicate over RequestFacts, plus the hosts it requires.
import type { RequestFacts } from '../request-facts.js';
import { MATCHERS, normalizeRuleHost, type MatcherFn } from './matchers.js';
import { parseRule, type RuleNode } from './parser.js';

export { parseRule, RuleSyntaxError, type RuleNode, type MatcherNode } from './parser.js';
export { MATCHER_NAMES, type MatcherName } from './signatures.js';

export interface CompiledRule {
  readonly rule: string;
  match(facts: RequestFacts): boolean;
  /**
   * Exact hosts the rule requires, one of which the request host must equal for the rule to match: set when
   * the rule is `Host(...)` possibly `&&`-ed with anything at the top level (or an `||` of such rules, which
   * yields the union), else null.
   */
  readonly hosts: readonly string[] | null;
}

/** Parse and compile; throws RuleSyntaxError (a WharfError, code WHARF_ERR_RULE_SYNTAX) on any invalid rule. */
export function compileRule(rule: string): CompiledRule {
  const ast = parseRule(rule);
  const match = compileNode(ast);
  const hosts = requiredHosts(ast);
  return Object.freeze({ rule, match, hosts: hosts && Object.freeze([...hosts]) });
}

function compileNode(node: RuleNode): MatcherFn {
  switch (node.type) {
    case 'matcher':
      return MATCHERS[node.name](node.args, node.position);
    case 'not': {
      const operand = compileNode(node.operand);
      return (facts) => !operand(facts);
    }
    case 'and':
      return allOf(collectChain(node, 'and').map(compileNode));
    case 'or':
      return someOf(collectChain(node, 'or').map(compileNode));
  }
}

/**
 * Flatten `a && b && c` (a left-deep tree) into [a, b, c], so evaluation is a loop rather than recursion
 * as deep as the chain is long.
 */
function collectChain(node: RuleNode, type: 'and' | 'or'): RuleNode[] {
  const operands: RuleNode[] = [];
  const pending: RuleNode[] = [node];
  while (pending.length > 0) {
    const current = pending.pop()!;
    if (current.type === type) pending.push(current.right, current.left);
    else operands.push(current);
  }
  return operands;
}

function allOf(predicates: MatcherFn[]): MatcherFn {
  if (predicates.length === 2) {
    const [a, b] = predicates as [MatcherFn, MatcherFn];
    return (facts) => a(facts) && b(facts);
  }
  return (facts) => predicates.every((predicate) => predicate(facts));
}

function someOf(predicates: MatcherFn[]): MatcherFn {
  if (predicates.length === 2) {
    const [a, b] = predicates as [MatcherFn, MatcherFn];
    return (facts) => a(facts) || b(facts);
  }
  return (facts) => predicates.some((predicate) => predicate(facts));
}

/**
 * A set the request host must belong to for the rule to possibly match, or null when no such set is known.
 * Only conjunctions and disjunctions of Host are understood; anything under `!` is given up on.
 */
function requiredHosts(node: RuleNode): ReadonlySet<string> | null {
  switch (node.type) {
    case 'matcher':
      return node.name === 'Host' ? new Set(node.args.map(normalizeRuleHost)) : null;
    case 'not':
      return null;
    case 'and':
      // Every conjunct is necessary, so the first one with a requirement will do; users write Host first.
      for (const operand of collectChain(node, 'and')) {
        const hosts = requiredHosts(operand);
        if (hosts) return hosts;
      }
      return null;
    case 'or': {
      const union = new Set<string>();
      for (const operand of collectChain(node, 'or')) {
        const hosts = requiredHosts(operand);
        if (!hosts) return null;
        for (const h of hosts) union.add(h);
      }
      return union;
    }
  }
}
