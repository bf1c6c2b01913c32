// The circuit breaker's `expression`: the grammar oxy's cbreaker accepts (a Go expression read by vulcand/predicate)
// — metric calls compared with numbers, joined with && and ||, parentheses — parsed once into a condition. Types are
// as strict as Traefik's: a ratio is compared with a decimal number (0.5), a latency or a count with an integer, and
// the quantile is a decimal number (50.0). Errors name the column.

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

type Node =
  | { kind: 'condition'; eval: Condition; col: number; text: string }
  | { kind: 'metric'; type: NumberKind; eval: (m: Metrics) => number; col: number; text: string }
  | { kind: 'number'; type: NumberKind; value: number; col: number; text: string };

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

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
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

type Token =
  | { type: 'ident'; text: string; col: number }
  | { type: 'number'; text: string; numberType: NumberKind; col: number }
  | { type: 'op'; text: string; col: number }
  | { type: 'end'; text: ''; col: number };

// Go's decimal literals: 12, 1.5, 1., .5, 1e3, 1.5e-3 (hexadecimal, octal prefixes and `_` fail as in Traefik).
const NUMBER = /(?:\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+)/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const OPERATORS = ['&&', '||', '>=', '<=', '==', '!=', '>', '<', '(', ')', ','];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const col = i + 1;
    NUMBER.lastIndex = i;
    const number = NUMBER.exec(text);
    if (number) {
      const end = i + number[0].length;
      if (/[A-Za-z0-9_]/.test(text[end] ?? '')) {
        throw new ExpressionError(`${JSON.stringify(text.slice(i, end + 1))}… is not a decimal number`, col, text);
      }
      tokens.push({ type: 'number', text: number[0], numberType: /^\d+$/.test(number[0]) ? 'int' : 'float', col });
      i = end;
      continue;
    }
    IDENT.lastIndex = i;
    const ident = IDENT.exec(text);
    if (ident) {
      tokens.push({ type: 'ident', text: ident[0], col });
      i += ident[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op === undefined) {
      const hint = c === '!' || c === '-' ? ` ('${c}' is not supported: write the opposite comparison)` : ' (operators: && || > < >= <= == !=)';
      throw new ExpressionError(`unexpected '${c}'${hint}`, col, text);
    }
    tokens.push({ type: 'op', text: op, col });
    i += op.length;
  }
  tokens.push({ type: 'end', text: '', col: text.length + 1 });
  return tokens;
}

/** Recursive descent with Go's precedence: || below && below the comparisons. */
class Parser {
  private pos = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly text: string,
  ) {}

  parse(): Condition {
    const node = this.or();
    const next = this.peek();
    if (next.type !== 'end') throw this.error(`unexpected ${describe(next)} after a complete expression`, next.col);
    if (node.kind !== 'condition') throw this.error(`${node.text} is not a condition: compare it, e.g. NetworkErrorRatio() > 0.5`, node.col);
    return node.eval;
  }

  private or(): Node {
    let left = this.and();
    while (this.peekOp('||')) {
      const op = this.next();
      const right = this.and();
      const a = this.condition(left, op);
      const b = this.condition(right, op);
      left = { kind: 'condition', eval: (m) => a(m) || b(m), col: left.col, text: `${left.text} || ${right.text}` };
    }
    return left;
  }

  private and(): Node {
    let left = this.comparison();
    while (this.peekOp('&&')) {
      const op = this.next();
      const right = this.comparison();
      const a = this.condition(left, op);
      const b = this.condition(right, op);
      left = { kind: 'condition', eval: (m) => a(m) && b(m), col: left.col, text: `${left.text} && ${right.text}` };
    }
    return left;
  }

  private comparison(): Node {
    let left = this.primary();
    for (;;) {
      const op = this.peek();
      const compare = op.type === 'op' ? COMPARE[op.text] : undefined;
      if (compare === undefined) return left;
      this.next();
      const right = this.primary();
      left = this.compare(left, op, right, compare);
    }
  }

  private compare(left: Node, op: Token, right: Node, compare: (a: number, b: number) => boolean): Node {
    if (left.kind !== 'metric') {
      throw this.error(`the left side of '${op.text}' must be a metric such as NetworkErrorRatio(), got ${left.text}`, left.col);
    }
    if (right.kind !== 'number') {
      throw this.error(`the right side of '${op.text}' must be a number, got ${right.text}`, right.col);
    }
    if (right.type !== left.type) {
      const want =
        left.type === 'float'
          ? 'is a ratio: compare it with a decimal number such as 0.5 (Traefik refuses a whole number here)'
          : 'is a whole number: compare it with a whole number such as 100 (Traefik refuses a decimal one here)';
      throw this.error(`${left.text} ${want}, got ${right.text}`, right.col);
    }
    const metric = left.eval;
    const value = right.value;
    return { kind: 'condition', eval: (m) => compare(metric(m), value), col: left.col, text: `${left.text} ${op.text} ${right.text}` };
  }

  private primary(): Node {
    const token = this.next();
    if (token.type === 'number') {
      return { kind: 'number', type: token.numberType, value: Number(token.text), col: token.col, text: token.text };
    }
    if (token.type === 'op' && token.text === '(') {
      const inner = this.or();
      this.expectOp(')', `to close the '(' at column ${token.col}`);
      return inner;
    }
    if (token.type === 'ident') return this.call(token);
    throw this.error(`expected a metric such as NetworkErrorRatio() or a number, found ${describe(token)}`, token.col);
  }

  private call(name: Token): Node {
    const def = FUNCTIONS[name.text];
    if (def === undefined) {
      const near = Object.keys(FUNCTIONS).find((f) => f.toLowerCase() === name.text.toLowerCase());
      throw this.error(`unknown function '${name.text}'${near ? ` (did you mean '${near}'?)` : ''}; known: ${KNOWN}`, name.col);
    }
    this.expectOp('(', `after ${name.text}`);
    const args: Array<Token & { type: 'number' }> = [];
    if (!this.peekOp(')')) {
      for (;;) {
        const arg = this.next();
        if (arg.type !== 'number') throw this.error(`arguments of ${name.text} are numbers, found ${describe(arg)}`, arg.col);
        args.push(arg);
        if (!this.peekOp(',')) break;
        this.next();
        if (this.peekOp(')')) break; // Go allows a trailing comma
      }
    }
    this.expectOp(')', `to close ${name.text}(`);
    const signature = `${name.text}(${def.argNames.join(', ')})`;
    if (args.length !== def.args.length) {
      throw this.error(`${signature} takes ${def.args.length} argument${def.args.length === 1 ? '' : 's'}, got ${args.length}`, name.col);
    }
    args.forEach((arg, i) => {
      if (arg.numberType === def.args[i]) return;
      const want = def.args[i] === 'float' ? 'a decimal number with a point, such as 50.0' : 'a whole number';
      throw this.error(`${def.argNames[i]} of ${name.text} must be ${want}, as in Traefik, got ${arg.text}`, arg.col);
    });
    const text = `${name.text}(${args.map((a) => a.text).join(', ')})`;
    return { kind: 'metric', type: def.result, eval: def.make(args.map((a) => Number(a.text))), col: name.col, text };
  }

  private condition(node: Node, op: Token): Condition {
    if (node.kind === 'condition') return node.eval;
    throw this.error(`'${op.text}' joins conditions such as NetworkErrorRatio() > 0.5, got ${node.text}`, node.col);
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private peekOp(text: string): boolean {
    const token = this.peek();
    return token.type === 'op' && token.text === text;
  }

  private next(): Token {
    const token = this.tokens[this.pos]!;
    if (token.type !== 'end') this.pos++;
    return token;
  }

  private expectOp(text: string, why: string): Token {
    const token = this.next();
    if (token.type !== 'op' || token.text !== text) throw this.error(`expected '${text}' ${why}, found ${describe(token)}`, token.col);
    return token;
  }

  private error(problem: string, col: number): ExpressionError {
    return new ExpressionError(problem, col, this.text);
  }
}

function describe(token: Token): string {
  return token.type === 'end' ? 'the end of the expression' : `'${token.text}'`;
}

/** Parses an expression into a condition over the metrics; throws ExpressionError naming the column. */
export function parseExpression(text: string): Condition {
  return new Parser(tokenize(text), text).parse();
}
