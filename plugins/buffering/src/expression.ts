// buffering.retryExpression: oxy's retry predicate language (vulcand/predicate over Go expression syntax), e.g.
// `IsNetworkError() && Attempts() <= 2`. Parsed once, in `create`, into a plain function of the last try.

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

type Token =
  | { kind: 'ident'; text: string; at: number }
  | { kind: 'int'; value: number; at: number }
  | { kind: 'string'; value: string; at: number }
  | { kind: 'op'; text: string; at: number }
  | { kind: 'end'; at: number };

/** Operators Go's parser knows; those the predicate language lacks are reported as unsupported, as oxy does. */
const OPERATORS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '(', ')', ',', '!', '+', '-', '*', '/', '%', '&', '|', '^'];
const SUPPORTED = new Set(['&&', '||', '==', '!=', '<=', '>=', '<', '>', '(', ')', ',']);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const at = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < source.length && /\w/.test(source[i]!)) i++;
      tokens.push({ kind: 'ident', text: source.slice(at, i), at });
      continue;
    }
    if (/\d/.test(c)) {
      while (i < source.length && /\d/.test(source[i]!)) i++;
      if (i < source.length && /[\w.]/.test(source[i]!)) throw new ExpressionError(source, at, 'expected a decimal integer');
      tokens.push({ kind: 'int', value: Number(source.slice(at, i)), at });
      continue;
    }
    if (c === '"' || c === '`') {
      const { value, end } = readString(source, at);
      tokens.push({ kind: 'string', value, at });
      i = end;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op === undefined) throw new ExpressionError(source, at, `unexpected character ${JSON.stringify(c)}`);
    if (!SUPPORTED.has(op)) throw new ExpressionError(source, at, `operator ${op} is not supported (use &&, ||, ==, !=, <, <=, >, >=)`);
    tokens.push({ kind: 'op', text: op, at });
    i += op.length;
  }
  tokens.push({ kind: 'end', at: source.length });
  return tokens;
}

/** A Go string literal: "…" with backslash escapes (JSON's subset), or `…` raw; `end` is just past it. */
function readString(source: string, at: number): { value: string; end: number } {
  const quote = source[at]!;
  let i = at + 1;
  while (i < source.length && source[i] !== quote) {
    if (quote === '"' && source[i] === '\\') i++;
    i++;
  }
  if (i >= source.length) throw new ExpressionError(source, at, 'unterminated string');
  const body = source.slice(at + 1, i);
  if (quote === '`') return { value: body, end: i + 1 };
  try {
    return { value: JSON.parse(`"${body}"`) as string, end: i + 1 };
  } catch {
    throw new ExpressionError(source, at, 'invalid escape in string');
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

/** Binary operators by Go precedence: || < && < comparisons. */
const PRECEDENCE: Record<string, number> = { '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 3, '<=': 3, '>': 3, '>=': 3 };

/**
 * Parses a retry expression: `&&` and `||` over `IsNetworkError()`, and comparisons of `Attempts()`,
 * `ResponseCode()` (with ==, !=, <, <=, >, >=) or `RequestMethod()` (with ==, !=) to a constant on the right.
 * Throws an ExpressionError pointing at the position of the first problem.
 */
export function parseRetryExpression(source: string): RetryPredicate {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = (): Token => tokens[pos]!;

  function primary(): { value: Value; at: number } {
    const token = tokens[pos++]!;
    if (token.kind === 'op' && token.text === '(') {
      const inner = binary(1);
      expectOp(')');
      return inner;
    }
    if (token.kind === 'int') return { value: { type: 'intConst', value: token.value }, at: token.at };
    if (token.kind === 'string') return { value: { type: 'stringConst', value: token.value }, at: token.at };
    if (token.kind === 'ident') {
      const fn = FUNCTIONS[token.text];
      if (fn === undefined) throw new ExpressionError(source, token.at, `unsupported function ${token.text} (use IsNetworkError(), Attempts(), ResponseCode(), RequestMethod())`);
      expectOp('(');
      if (peek().kind !== 'op' || (peek() as { text: string }).text !== ')') throw new ExpressionError(source, peek().at, `${token.text}() takes no argument`);
      expectOp(')');
      return { value: fn, at: token.at };
    }
    throw new ExpressionError(source, token.at, token.kind === 'end' ? 'unexpected end of expression' : 'expected a function call, a number or a string');
  }

  function expectOp(text: string): void {
    const token = tokens[pos];
    if (token?.kind !== 'op' || token.text !== text) throw new ExpressionError(source, token?.at ?? source.length, `expected ${text}`);
    pos++;
  }

  function binary(minPrecedence: number): { value: Value; at: number } {
    let left = primary();
    for (;;) {
      const token = peek();
      if (token.kind !== 'op') break;
      const precedence = PRECEDENCE[token.text];
      if (precedence === undefined || precedence < minPrecedence) break;
      pos++;
      const right = binary(precedence + 1);
      left = { value: combine(token.text, left, right, token.at), at: left.at };
    }
    return left;
  }

  function combine(op: string, left: { value: Value; at: number }, right: { value: Value; at: number }, at: number): Value {
    if (op === '&&' || op === '||') {
      const a = asPredicate(left);
      const b = asPredicate(right);
      return { type: 'predicate', fn: op === '&&' ? (f) => a(f) && b(f) : (f) => a(f) || b(f) };
    }
    return compare(op, left, right, at);
  }

  function asPredicate({ value, at }: { value: Value; at: number }): RetryPredicate {
    if (value.type !== 'predicate') throw new ExpressionError(source, at, `expected a condition such as IsNetworkError() or Attempts() <= 2, got ${describe(value)}`);
    return value.fn;
  }

  /** oxy compares a function of the try (left) with a constant (right), never the other way round. */
  function compare(op: string, left: { value: Value; at: number }, right: { value: Value; at: number }, at: number): Value {
    const l = left.value;
    const r = right.value;
    if (l.type === 'int') {
      if (r.type !== 'intConst') throw new ExpressionError(source, right.at, `expected an integer after ${op}, got ${describe(r)}`);
      return { type: 'predicate', fn: intComparison(op, l.fn, r.value) };
    }
    if (l.type === 'string') {
      if (op !== '==' && op !== '!=') throw new ExpressionError(source, at, `${op} does not apply to RequestMethod() (use == or !=)`);
      if (r.type !== 'stringConst') throw new ExpressionError(source, right.at, `expected a string after ${op}, got ${describe(r)}`);
      const get = l.fn;
      const value = r.value;
      return { type: 'predicate', fn: op === '==' ? (f) => get(f) === value : (f) => get(f) !== value };
    }
    throw new ExpressionError(source, left.at, `${op} compares Attempts(), ResponseCode() or RequestMethod() on its left with a constant, got ${describe(l)}`);
  }

  const result = binary(1);
  if (peek().kind !== 'end') throw new ExpressionError(source, peek().at, 'unexpected text after the expression');
  return asPredicate(result);
}

function intComparison(op: string, get: (f: RetryFacts) => number, value: number): RetryPredicate {
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
