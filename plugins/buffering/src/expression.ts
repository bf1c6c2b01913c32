// buffering.retryExpression: oxy's retry predicate language (vulcand/predicate over Go expression syntax), e.g.
// `IsNetworkError() && Attempts() <= 2`. Parsed once, in `create`, into a plain function of the last try; the syntax
// is @wharf/gourl's, shared with circuitBreaker's expression.
import { ExprSyntaxError, parseGoExpression, type ComparisonOperator, type ExprNode } from '@wharf/gourl';

/** What the predicate sees after a try. */
export interface RetryFacts {
  /** Tries made so far, the first one included. */
  attempts: number;
  /** The upstream's status, or the 502/504 the gateway answers for a failed try. */
  responseCode: number;
  /** The request method. */
  method: string;
}

export type RetryPredicate = (facts: RetryFacts) => boolean;

/** A retryExpression that does not parse; `position` is the 0-based offset in the expression. */
export class ExpressionError extends Error {
  constructor(
    readonly expression: string,
    readonly position: number,
    reason: string,
  ) {
    super(`${reason} at position ${position + 1}: ${expression.slice(0, position)}⟨here⟩${expression.slice(position)}`);
  }
}

/** What a sub-expression is, as in oxy: a predicate, a number or string of the try, or a constant. */
type Value =
  | { type: 'predicate'; fn: RetryPredicate }
  | { type: 'int'; fn: (f: RetryFacts) => number }
  | { type: 'string'; fn: (f: RetryFacts) => string }
  | { type: 'intConst'; value: number }
  | { type: 'stringConst'; value: string };

const FUNCTIONS: Record<string, Value> = {
  IsNetworkError: { type: 'predicate', fn: (f) => f.responseCode === 502 || f.responseCode === 504 },
  Attempts: { type: 'int', fn: (f) => f.attempts },
  ResponseCode: { type: 'int', fn: (f) => f.responseCode },
  RequestMethod: { type: 'string', fn: (f) => f.method },
};

/**
 * Parses a retry expression: `&&` and `||` over `IsNetworkError()`, and comparisons of `Attempts()`,
 * `ResponseCode()` (with ==, !=, <, <=, >, >=) or `RequestMethod()` (with ==, !=) to a constant on the right.
 * Throws an ExpressionError pointing at the position of the first problem.
 */
export function parseRetryExpression(source: string): RetryPredicate {
  let tree: ExprNode;
  try {
    tree = parseGoExpression(source);
  } catch (err) {
    if (err instanceof ExprSyntaxError) throw new ExpressionError(source, err.column - 1, err.problem);
    throw err;
  }
  return asPredicate(source, tree);
}

function valueOf(source: string, node: ExprNode): Value {
  switch (node.kind) {
    case 'number':
      if (!node.integer) throw new ExpressionError(source, node.col - 1, `expected a decimal integer, got ${node.text}`);
      return { type: 'intConst', value: node.value };
    case 'string':
      return { type: 'stringConst', value: node.value };
    case 'call': {
      const fn = FUNCTIONS[node.name];
      if (fn === undefined) throw new ExpressionError(source, node.col - 1, `unsupported function ${node.name} (use IsNetworkError(), Attempts(), ResponseCode(), RequestMethod())`);
      if (node.args.length > 0) throw new ExpressionError(source, node.args[0]!.col - 1, `${node.name}() takes no argument`);
      return fn;
    }
    case 'binary':
      if (node.op === '&&' || node.op === '||') {
        const a = asPredicate(source, node.left);
        const b = asPredicate(source, node.right);
        return { type: 'predicate', fn: node.op === '&&' ? (f) => a(f) && b(f) : (f) => a(f) || b(f) };
      }
      return compare(source, node as ExprNode & { kind: 'binary'; op: ComparisonOperator });
  }
}

function asPredicate(source: string, node: ExprNode): RetryPredicate {
  const value = valueOf(source, node);
  if (value.type !== 'predicate') throw new ExpressionError(source, node.col - 1, `expected a condition such as IsNetworkError() or Attempts() <= 2, got ${describe(value)}`);
  return value.fn;
}

/** oxy compares a function of the try (left) with a constant (right), never the other way round. */
function compare(source: string, node: ExprNode & { kind: 'binary'; op: ComparisonOperator }): Value {
  const { op } = node;
  const l = valueOf(source, node.left);
  const r = valueOf(source, node.right);
  const rightAt = node.right.col - 1;
  if (l.type === 'int') {
    if (r.type !== 'intConst') throw new ExpressionError(source, rightAt, `expected an integer after ${op}, got ${describe(r)}`);
    return { type: 'predicate', fn: intComparison(op, l.fn, r.value) };
  }
  if (l.type === 'string') {
    if (op !== '==' && op !== '!=') throw new ExpressionError(source, node.opCol - 1, `${op} does not apply to RequestMethod() (use == or !=)`);
    if (r.type !== 'stringConst') throw new ExpressionError(source, rightAt, `expected a string after ${op}, got ${describe(r)}`);
    const get = l.fn;
    const value = r.value;
    return { type: 'predicate', fn: op === '==' ? (f) => get(f) === value : (f) => get(f) !== value };
  }
  throw new ExpressionError(source, node.col - 1, `${op} compares Attempts(), ResponseCode() or RequestMethod() on its left with a constant, got ${describe(l)}`);
}

function intComparison(op: ComparisonOperator, get: (f: RetryFacts) => number, value: number): RetryPredicate {
  switch (op) {
    case '==':
      return (f) => get(f) === value;
    case '!=':
      return (f) => get(f) !== value;
    case '<':
      return (f) => get(f) < value;
    case '<=':
      return (f) => get(f) <= value;
    case '>':
      return (f) => get(f) > value;
    default:
      return (f) => get(f) >= value;
  }
}

function describe(value: Value): string {
  switch (value.type) {
    case 'predicate':
      return 'a condition';
    case 'int':
    case 'intConst':
      return 'a number';
    default:
      return 'a string';
  }
}
