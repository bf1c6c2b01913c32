// Compiles a Traefik v3 rule string once into a predicate over RequestFacts, plus the hosts it requires;
// compileExpression is the tree compiler the provider constraints share.
import type { RequestFacts } from '../request-facts.js';
import { MATCHERS, normalizeRuleHost } from './matchers.js';
import { MATCHERS_V2 } from './matchers-v2.js';
import { parseRule, type ExpressionNode, type MatcherNode, type RuleNode, type RuleSyntax } from './parser.js';
import type { MatcherName, MatcherNameV2 } from './signatures.js';

export { parseRule, parseExpression, RuleSyntaxError, type ExpressionNode, type Grammar, type MatcherNode, type RuleSyntax } from './parser.js';
export { MatcherSet } from './signatures.js';
export { compileRegexp } from './matchers.js';

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

/**
 * Parse and compile in Traefik's v3 syntax, or v2's (`ruleSyntax: v2`); throws RuleSyntaxError (a WharfError, code
 * WHARF_ERR_RULE_SYNTAX) on any invalid rule.
 */
export function compileRule(rule: string, syntax: RuleSyntax = 'v3'): CompiledRule {
  const ast = parseRule(rule, syntax);
  const match = compileExpression(ast, syntax === 'v2'
    ? (node) => MATCHERS_V2[node.name as MatcherNameV2](node.args, node.position)
    : (node) => MATCHERS[node.name as MatcherName](node.args, node.position));
  const hosts = requiredHosts(ast);
  return Object.freeze({ rule, match, hosts: hosts && Object.freeze([...hosts]) });
}

/**
 * Every `Host(...)` value of a rule, lower-cased, in order, wherever it appears (under `&&`, `||` and `!` alike;
 * `HostRegexp` gives none): Traefik's ParseDomains, the domains a certificate resolver orders for a router.
 * Throws RuleSyntaxError on an invalid rule.
 */
export function ruleHostNames(rule: string, syntax: RuleSyntax = 'v3'): string[] {
  const names: string[] = [];
  const walk = (node: RuleNode): void => {
    if (node.type === 'matcher') {
      if (node.name === 'Host') names.push(...node.args.map((a) => a.toLowerCase()));
    } else if (node.type === 'not') walk(node.operand);
    else {
      walk(node.left);
      walk(node.right);
    }
  };
  walk(parseRule(rule, syntax));
  return names;
}

/**
 * Compiles a parsed expression into one predicate over `Input`, `leaf` building each matcher's; shared by rules
 * (over RequestFacts) and provider constraints (over labels).
 */
export function compileExpression<Name extends string, Input>(
  node: ExpressionNode<Name>,
  leaf: (matcher: MatcherNode<Name>) => Predicate<Input>,
): Predicate<Input> {
  switch (node.type) {
    case 'matcher':
      return leaf(node);
    case 'not': {
      const operand = compileExpression(node.operand, leaf);
      return (input) => !operand(input);
    }
    case 'and':
      return allOf(collectChain(node, 'and').map((operand) => compileExpression(operand, leaf)));
    case 'or':
      return someOf(collectChain(node, 'or').map((operand) => compileExpression(operand, leaf)));
  }
}

type Predicate<Input> = (input: Input) => boolean;

/**
 * Flatten `a && b && c` (a left-deep tree) into [a, b, c], so evaluation is a loop rather than recursion
 * as deep as the chain is long.
 */
function collectChain<Name extends string>(node: ExpressionNode<Name>, type: 'and' | 'or'): ExpressionNode<Name>[] {
  const operands: ExpressionNode<Name>[] = [];
  const pending: ExpressionNode<Name>[] = [node];
  while (pending.length > 0) {
    const current = pending.pop()!;
    if (current.type === type) pending.push(current.right, current.left);
    else operands.push(current);
  }
  return operands;
}

function allOf<Input>(predicates: Predicate<Input>[]): Predicate<Input> {
  if (predicates.length === 2) {
    const [a, b] = predicates as [Predicate<Input>, Predicate<Input>];
    return (input) => a(input) && b(input);
  }
  return (input) => predicates.every((predicate) => predicate(input));
}

function someOf<Input>(predicates: Predicate<Input>[]): Predicate<Input> {
  if (predicates.length === 2) {
    const [a, b] = predicates as [Predicate<Input>, Predicate<Input>];
    return (input) => a(input) || b(input);
  }
  return (input) => predicates.some((predicate) => predicate(input));
}

/**
 * A set the request host must belong to for the rule to possibly match, or null when no such set is known.
 * Only conjunctions and disjunctions of Host are understood; anything under `!` is given up on.
 */
function requiredHosts(node: RuleNode): ReadonlySet<string> | null {
  switch (node.type) {
    case 'matcher':
      return isExactHostMatcher(node) ? new Set(node.args.map(normalizeRuleHost)) : null;
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

/** Host (or v2's HostHeader) naming exact hosts: a wildcard (`*`, `*.example.com`) cannot be looked up by name. */
function isExactHostMatcher(node: MatcherNode<MatcherName | MatcherNameV2>): boolean {
  return (node.name === 'Host' || node.name === 'HostHeader') && !node.args.some((arg) => arg.trim().startsWith('*'));
}
