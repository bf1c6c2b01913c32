// providers.docker.constraints / providers.swarm.constraints: a boolean expression over a container's or
// service's labels — Label(`k`, `v`), LabelRegex(`k`, `re`), !, &&, || and parentheses — compiled once at
// start-up by the rule parser (same grammar, quoting, nesting limit and positioned errors) with Traefik's
// constraint matchers (pkg/provider/constraints/constraints_labels.go).
import { WharfError } from '@wharf/core';
import {
  MatcherSet,
  RuleSyntaxError,
  compileExpression,
  compileRegexp,
  parseExpression,
  type Grammar,
  type MatcherNode,
} from '@wharf/core/provider';

export type LabelPredicate = (labels: Readonly<Record<string, string>>) => boolean;

type ConstraintName = 'Label' | 'LabelRegex';

const NAME_AND_VALUE = { min: 2, max: 2 };

const CONSTRAINT_GRAMMAR: Grammar<ConstraintName> = {
  subject: 'expression',
  matchers: new MatcherSet<ConstraintName>({ Label: NAME_AND_VALUE, LabelRegex: NAME_AND_VALUE }),
  // Label(`k`, ``) is how Traefik says "k is unset or empty": a missing label reads as ''.
  emptyArguments: 'allowed',
};

const CONSTRAINT_MATCHERS: Readonly<Record<ConstraintName, (node: MatcherNode<ConstraintName>) => LabelPredicate>> = {
  Label: ({ args: [name, value] }) => (labels) => labelValue(labels, name!) === value,
  // Go's regexp.MatchString, as Traefik uses it: RE2 syntax, true when the pattern matches anywhere in the value.
  LabelRegex: ({ args: [name, pattern], position }) => {
    const re = compileRegexp('LabelRegex', pattern!, position);
    return (labels) => re.test(labelValue(labels, name!));
  },
};

/** Compiles an expression; `source` names the setting in errors (`--providers.docker.constraints`). */
export function compileConstraints(expression: string, source: string): LabelPredicate {
  try {
    const tree = parseExpression(expression, CONSTRAINT_GRAMMAR);
    return compileExpression(tree, (node) => CONSTRAINT_MATCHERS[node.name](node));
  } catch (err) {
    if (!(err instanceof RuleSyntaxError)) throw err;
    throw new WharfError('WHARF_ERR_STATIC_CONFIG', `${source}: ${JSON.stringify(expression)}: column ${err.position}: ${err.detail}`);
  }
}

/** Own labels only: a plain-object label map would otherwise answer `constructor` from its prototype. */
function labelValue(labels: Readonly<Record<string, string>>, name: string): string {
  return Object.hasOwn(labels, name) ? labels[name]! : '';
}
