// The circuit breaker's `expression`: the grammar oxy's cbreaker accepts (a Go expression read by vulcand/predicate)
// — metric calls compared with numbers, joined with && and ||, parentheses — parsed once into a condition. Types are
// as strict as Traefik's: a ratio is compared with a decimal number (0.5), a latency or a count with an integer, and
// the quantile is a decimal number (50.0). Errors name the column. The syntax is @wharf/gourl's, shared with
// buffering's retryExpression.
import { ExprSyntaxError, parseGoExpression, type ComparisonOperator, type ExprNode } from '@wharf/gourl';

/** What the condition reads; oxy's RTMetrics over its rolling window. */
export interface Metrics {
  networkErrorRatio(): number;
  responseCodeRatio(from: number, to: number, dividedByFrom: number, dividedByTo: number): number;
  /** Whole milliseconds (truncated), as oxy's int. */
  latencyAtQuantileMS(quantile: number): number;
  totalCount(): number;
}

export type Condition = (metrics: Metrics) => boolean;

/** An integer metric or a float one: what it must be compared with. */
type NumberKind = 'int' | 'float';

/** A typed sub-expression: a condition, a metric, or a number constant. */
type Typed =
  | { kind: 'condition'; eval: Condition }
  | { kind: 'metric'; type: NumberKind; eval: (m: Metrics) => number }
  | { kind: 'number'; type: NumberKind; value: number };

interface FunctionDef {
  /** The kind of each argument, in order. */
  args: readonly NumberKind[];
  argNames: readonly string[];
  result: NumberKind;
  make(args: number[]): (m: Metrics) => number;
}

const FUNCTIONS: Record<string, FunctionDef> = {
  NetworkErrorRatio: { args: [], argNames: [], result: 'float', make: () => (m) => m.networkErrorRatio() },
  ResponseCodeRatio: {
    args: ['int', 'int', 'int', 'int'],
    argNames: ['from', 'to', 'dividedByFrom', 'dividedByTo'],
    result: 'float',
    make: ([a, b, c, d]) => (m) => m.responseCodeRatio(a!, b!, c!, d!),
  },
  LatencyAtQuantileMS: { args: ['float'], argNames: ['quantile'], result: 'int', make: ([q]) => (m) => m.latencyAtQuantileMS(q!) },
  RequestThreshold: { args: [], argNames: [], result: 'int', make: () => (m) => m.totalCount() },
};

const KNOWN = Object.entries(FUNCTIONS)
  .map(([name, def]) => `${name}(${def.argNames.join(', ')})`)
  .join(', ');

const COMPARE: Record<ComparisonOperator, (a: number, b: number) => boolean> = {
  '>': (a, b) => a > b,
  '<': (a, b) => a < b,
  '>=': (a, b) => a >= b,
  '<=': (a, b) => a <= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

/** A problem in the expression, at a 1-based column. */
export class ExpressionError extends Error {
  constructor(
    readonly problem: string,
    readonly column: number,
    readonly expression: string,
  ) {
    super(`expression: ${problem} at column ${column} of ${JSON.stringify(expression)}`);
  }
}

/** Parses an expression into a condition over the metrics; throws ExpressionError naming the column. */
export function parseExpression(text: string): Condition {
  let tree: ExprNode;
  try {
    tree = parseGoExpression(text, { operand: 'a metric such as NetworkErrorRatio() or a number' });
  } catch (err) {
    if (err instanceof ExprSyntaxError) throw new ExpressionError(err.problem, err.column, text);
    throw err;
  }
  const typed = typeOf(tree, text);
  if (typed.kind !== 'condition') throw new ExpressionError(`${tree.text} is not a condition: compare it, e.g. NetworkErrorRatio() > 0.5`, tree.col, text);
  return typed.eval;
}

function typeOf(node: ExprNode, text: string): Typed {
  switch (node.kind) {
    case 'number':
      return { kind: 'number', type: node.integer ? 'int' : 'float', value: node.value };
    case 'string':
      return fail(`a string is not a metric or a number, got ${node.text}`, node.col, text);
    case 'call':
      return metric(node, text);
    case 'binary': {
      if (node.op === '&&' || node.op === '||') {
        const a = condition(node.left, node.op, text);
        const b = condition(node.right, node.op, text);
        return { kind: 'condition', eval: node.op === '&&' ? (m) => a(m) && b(m) : (m) => a(m) || b(m) };
      }
      return comparison(node as ExprNode & { kind: 'binary'; op: ComparisonOperator }, text);
    }
  }
}

function condition(node: ExprNode, op: string, text: string): Condition {
  const typed = typeOf(node, text);
  if (typed.kind === 'condition') return typed.eval;
  return fail(`'${op}' joins conditions such as NetworkErrorRatio() > 0.5, got ${node.text}`, node.col, text);
}

function comparison(node: ExprNode & { kind: 'binary'; op: ComparisonOperator }, text: string): Typed {
  const left = typeOf(node.left, text);
  if (left.kind !== 'metric') return fail(`the left side of '${node.op}' must be a metric such as NetworkErrorRatio(), got ${node.left.text}`, node.left.col, text);
  const right = typeOf(node.right, text);
  if (right.kind !== 'number') return fail(`the right side of '${node.op}' must be a number, got ${node.right.text}`, node.right.col, text);
  if (right.type !== left.type) {
    const want =
      left.type === 'float'
        ? 'is a ratio: compare it with a decimal number such as 0.5 (Traefik refuses a whole number here)'
        : 'is a whole number: compare it with a whole number such as 100 (Traefik refuses a decimal one here)';
    return fail(`${node.left.text} ${want}, got ${node.right.text}`, node.right.col, text);
  }
  const compare = COMPARE[node.op];
  const read = left.eval;
  const value = right.value;
  return { kind: 'condition', eval: (m) => compare(read(m), value) };
}

function metric(node: ExprNode & { kind: 'call' }, text: string): Typed {
  const def = FUNCTIONS[node.name];
  if (def === undefined) {
    const near = Object.keys(FUNCTIONS).find((f) => f.toLowerCase() === node.name.toLowerCase());
    return fail(`unknown function '${node.name}'${near ? ` (did you mean '${near}'?)` : ''}; known: ${KNOWN}`, node.col, text);
  }
  const signature = `${node.name}(${def.argNames.join(', ')})`;
  const values = node.args.map((arg, i) => {
    if (arg.kind !== 'number') return fail(`arguments of ${node.name} are numbers, found ${arg.text}`, arg.col, text);
    const want = def.args[i];
    if (want !== undefined && (arg.integer ? 'int' : 'float') !== want) {
      const what = want === 'float' ? 'a decimal number with a point, such as 50.0' : 'a whole number';
      return fail(`${def.argNames[i]} of ${node.name} must be ${what}, as in Traefik, got ${arg.text}`, arg.col, text);
    }
    return arg.value;
  });
  if (values.length !== def.args.length) {
    return fail(`${signature} takes ${def.args.length} argument${def.args.length === 1 ? '' : 's'}, got ${values.length}`, node.col, text);
  }
  return { kind: 'metric', type: def.result, eval: def.make(values) };
}

function fail(problem: string, column: number, text: string): never {
  throw new ExpressionError(problem, column, text);
}
