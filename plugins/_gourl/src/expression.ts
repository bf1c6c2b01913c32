// The Go expression subset oxy's predicates are written in (vulcand/predicate parses them with go/parser): function
// calls, decimal numbers, strings, parentheses, comparisons, && and ||. Parsed into a tree that each caller types
// and compiles with its own functions (buffering's retryExpression, circuitBreaker's expression); syntax errors
// name the 1-based column.

export type ComparisonOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type BinaryOperator = '&&' | '||' | ComparisonOperator;

interface Located {
  /** 1-based column where the node starts. */
  col: number;
  /** The node's source text, without surrounding parentheses. */
  text: string;
}

export type ExprNode =
  | (Located & { kind: 'call'; name: string; args: ExprNode[] })
  | (Located & { kind: 'number'; value: number; /** written without point or exponent */ integer: boolean })
  | (Located & { kind: 'string'; value: string })
  | (Located & { kind: 'binary'; op: BinaryOperator; left: ExprNode; right: ExprNode; /** column of the operator */ opCol: number });

/** A syntax error: `problem` says what is wrong and what to write, `column` is 1-based. */
export class ExprSyntaxError extends Error {
  constructor(
    readonly problem: string,
    readonly column: number,
  ) {
    super(`${problem} at column ${column}`);
  }
}

export interface ParseOptions {
  /** What an operand is in this language, for "expected …" messages (default: a function call, a number or a string). */
  operand?: string;
}

type Token =
  | { type: 'ident'; text: string; col: number }
  | { type: 'number'; text: string; col: number }
  | { type: 'string'; text: string; value: string; col: number }
  | { type: 'op'; text: string; col: number }
  | { type: 'end'; text: ''; col: number };

// Go's decimal literals: 12, 1.5, 1., .5, 1e3, 1.5e-3 (hexadecimal, octal prefixes and `_` are refused, as by oxy).
const NUMBER = /(?:\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+)/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const OPERATORS = ['&&', '||', '>=', '<=', '==', '!=', '>', '<', '(', ')', ','];
const COMPARISONS = new Set<string>(['==', '!=', '<', '<=', '>', '>=']);
const OPERATOR_LIST = '&& || == != < <= > >=';

/** Parses `text`; throws ExprSyntaxError naming the column of the first problem. */
export function parseGoExpression(text: string, options: ParseOptions = {}): ExprNode {
  return new Parser(tokenize(text), text, options.operand ?? 'a function call, a number or a string').parse();
}

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
    const token = readNumber(text, i, col) ?? readIdent(text, i, col) ?? readString(text, i, col) ?? readOperator(text, i, col);
    tokens.push(token);
    i += token.text.length;
  }
  tokens.push({ type: 'end', text: '', col: text.length + 1 });
  return tokens;
}

function readNumber(text: string, i: number, col: number): Token | undefined {
  NUMBER.lastIndex = i;
  const number = NUMBER.exec(text);
  if (!number) return undefined;
  const end = i + number[0].length;
  if (/[A-Za-z0-9_]/.test(text[end] ?? '')) throw new ExprSyntaxError(`${JSON.stringify(text.slice(i, end + 1))}… is not a decimal number`, col);
  return { type: 'number', text: number[0], col };
}

function readIdent(text: string, i: number, col: number): Token | undefined {
  IDENT.lastIndex = i;
  const ident = IDENT.exec(text);
  return ident ? { type: 'ident', text: ident[0], col } : undefined;
}

/** A Go string literal: "…" with backslash escapes (JSON's subset), or `…` raw. */
function readString(text: string, i: number, col: number): Token | undefined {
  const quote = text[i];
  if (quote !== '"' && quote !== '`') return undefined;
  let j = i + 1;
  while (j < text.length && text[j] !== quote) {
    if (quote === '"' && text[j] === '\\') j++;
    j++;
  }
  if (j >= text.length) throw new ExprSyntaxError('unterminated string', col);
  const source = text.slice(i, j + 1);
  if (quote === '`') return { type: 'string', text: source, value: source.slice(1, -1), col };
  try {
    return { type: 'string', text: source, value: JSON.parse(source) as string, col };
  } catch {
    throw new ExprSyntaxError('invalid escape in string', col);
  }
}

function readOperator(text: string, i: number, col: number): Token {
  const op = OPERATORS.find((o) => text.startsWith(o, i));
  if (op !== undefined) return { type: 'op', text: op, col };
  const c = text[i]!;
  const hint = c === '!' || c === '-' ? `'${c}' is not supported: write the opposite comparison` : `operators: ${OPERATOR_LIST}`;
  throw new ExprSyntaxError(`unexpected '${c}' (${hint})`, col);
}

/** Recursive descent with Go's precedence: || below && below the comparisons, each left-associative. */
class Parser {
  private pos = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
    private readonly operand: string,
  ) {}

  parse(): ExprNode {
    const node = this.binary(0);
    const next = this.peek();
    if (next.type !== 'end') throw new ExprSyntaxError(`unexpected ${describe(next)} after a complete expression`, next.col);
    return node;
  }

  /** Levels: 0 `||`, 1 `&&`, 2 comparisons, 3 operands. */
  private binary(level: number): ExprNode {
    if (level === 3) return this.primary();
    let left = this.binary(level + 1);
    for (let op = this.peek(); op.type === 'op' && levelOf(op.text) === level; op = this.peek()) {
      this.pos++;
      const right = this.binary(level + 1);
      const text = this.source.slice(left.col - 1, right.col - 1 + right.text.length);
      left = { kind: 'binary', op: op.text as BinaryOperator, left, right, opCol: op.col, col: left.col, text };
    }
    return left;
  }

  private primary(): ExprNode {
    const token = this.next();
    switch (token.type) {
      case 'number':
        return { kind: 'number', value: Number(token.text), integer: /^\d+$/.test(token.text), col: token.col, text: token.text };
      case 'string':
        return { kind: 'string', value: token.value, col: token.col, text: token.text };
      case 'ident':
        return this.call(token);
      default:
        if (token.text === '(') {
          const inner = this.binary(0);
          this.expect(')', `to close the '(' at column ${token.col}`);
          return inner;
        }
        throw new ExprSyntaxError(`expected ${this.operand}, found ${describe(token)}`, token.col);
    }
  }

  private call(name: Token): ExprNode {
    this.expect('(', `after ${name.text}`);
    const args: ExprNode[] = [];
    while (!this.peekOp(')')) {
      args.push(this.binary(0));
      if (!this.peekOp(',')) break;
      this.pos++; // Go allows a trailing comma
    }
    const close = this.expect(')', `to close ${name.text}(`);
    return { kind: 'call', name: name.text, args, col: name.col, text: this.source.slice(name.col - 1, close.col) };
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

  private expect(text: string, why: string): Token {
    const token = this.next();
    if (token.type !== 'op' || token.text !== text) throw new ExprSyntaxError(`expected '${text}' ${why}, found ${describe(token)}`, token.col);
    return token;
  }
}

function levelOf(op: string): number | undefined {
  if (op === '||') return 0;
  if (op === '&&') return 1;
  return COMPARISONS.has(op) ? 2 : undefined;
}

function describe(token: Token): string {
  return token.type === 'end' ? 'the end of the expression' : `'${token.text}'`;
}
