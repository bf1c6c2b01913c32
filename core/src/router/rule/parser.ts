// Tokenizer and recursive-descent parser turning a Traefik v3 rule string into an AST, with precise errors.
// The grammar (`&&`, `||`, `!`, parentheses, quoted arguments) is shared: a Grammar names the matchers it
// accepts, so the Docker/Swarm constraints (Label, LabelRegex) are read by this same parser.
import { WharfError } from '../../errors.js';
import { RULE_MATCHERS, RULE_MATCHERS_V2, describeArity, type MatcherName, type MatcherNameV2, type MatcherSet } from './signatures.js';

export type ExpressionNode<Name extends string> =
  | { readonly type: 'and' | 'or'; readonly left: ExpressionNode<Name>; readonly right: ExpressionNode<Name> }
  | { readonly type: 'not'; readonly operand: ExpressionNode<Name> }
  | MatcherNode<Name>;

/** A parsed rule of either syntax (`v3`, the default, or Traefik v2's through `ruleSyntax: v2`). */
export type RuleNode = ExpressionNode<MatcherName | MatcherNameV2>;

export type RuleSyntax = 'v2' | 'v3';

export interface MatcherNode<Name extends string = MatcherName> {
  readonly type: 'matcher';
  /** Canonical spelling (`PathPrefix`), whatever case the rule used. */
  readonly name: Name;
  readonly args: string[];
  /** 1-based column of the matcher name in the rule. */
  readonly position: number;
}

/** What a parser accepts besides the shared operators and quoting. */
export interface Grammar<Name extends string> {
  /** What the text is called in messages: "rule is empty", "end of rule". */
  readonly subject: string;
  readonly matchers: MatcherSet<Name>;
  /** Whether `` is a value: no rule matcher means anything by it, a constraint compares a missing label as ''. */
  readonly emptyArguments: 'allowed' | 'rejected';
  /** Appended to "takes exactly 1 argument" errors: how to write several values instead. */
  readonly severalValuesHint?: string;
}

const RULE_GRAMMAR: Grammar<MatcherName> = {
  subject: 'rule',
  matchers: RULE_MATCHERS,
  emptyArguments: 'rejected',
  severalValuesHint: "Traefik v3's rule syntax takes one value per matcher: write Host(`a`) || Host(`b`), or set the router's ruleSyntax (or core.defaultRuleSyntax) to v2",
};
const RULE_GRAMMAR_V2: Grammar<MatcherNameV2> = { subject: 'rule', matchers: RULE_MATCHERS_V2, emptyArguments: 'rejected' };

/** A rule that cannot be parsed or compiled; `position` is the 1-based column the message refers to. */
export class RuleSyntaxError extends WharfError {
  readonly position: number;
  /** The message without its "rule syntax error at column N" prefix, for callers that say where themselves. */
  readonly detail: string;
  constructor(position: number, detail: string) {
    super('WHARF_ERR_RULE_SYNTAX', `rule syntax error at column ${position}: ${detail}`);
    this.name = 'RuleSyntaxError';
    this.position = position;
    this.detail = detail;
  }
}

// Real rules nest a handful of levels; the cap turns hostile input into an error instead of a stack overflow.
const MAX_NESTING = 100;

type TokenKind = 'ident' | 'string' | '(' | ')' | ',' | '&&' | '||' | '!' | 'end';

interface Token {
  readonly kind: TokenKind;
  /** Identifier text or the unquoted string value. */
  readonly value: string;
  /** 1-based column. */
  readonly position: number;
}

export function parseRule(rule: string, syntax: RuleSyntax = 'v3'): RuleNode {
  return syntax === 'v2' ? parseExpression(rule, RULE_GRAMMAR_V2) : parseExpression(rule, RULE_GRAMMAR);
}

/** Parses `text` with the shared operators and the grammar's matchers; throws RuleSyntaxError. */
export function parseExpression<Name extends string>(text: string, grammar: Grammar<Name>): ExpressionNode<Name> {
  const tokens = tokenize(text);
  if (tokens[0]!.kind === 'end') throw new RuleSyntaxError(1, `${grammar.subject} is empty`);
  return new Parser(tokens, grammar).parseWhole();
}

class Parser<Name extends string> {
  private index = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly grammar: Grammar<Name>,
  ) {}

  parseWhole(): ExpressionNode<Name> {
    const node = this.parseOr(0);
    const next = this.peek();
    if (next.kind === ')') throw new RuleSyntaxError(next.position, "unbalanced parentheses: ')' has no matching '('");
    if (next.kind !== 'end') this.fail(next, `expected '&&', '||' or end of ${this.grammar.subject}`);
    return node;
  }

  private parseOr(depth: number): ExpressionNode<Name> {
    let left = this.parseAnd(depth);
    while (this.peek().kind === '||') {
      this.advance();
      left = { type: 'or', left, right: this.parseAnd(depth, "after '||'") };
    }
    return left;
  }

  private parseAnd(depth: number, context = ''): ExpressionNode<Name> {
    let left = this.parseUnary(depth, context);
    while (this.peek().kind === '&&') {
      this.advance();
      left = { type: 'and', left, right: this.parseUnary(depth, "after '&&'") };
    }
    return left;
  }

  private parseUnary(depth: number, context: string): ExpressionNode<Name> {
    const token = this.peek();
    if (depth > MAX_NESTING) throw new RuleSyntaxError(token.position, `${this.grammar.subject} nests deeper than ${MAX_NESTING} levels`);
    if (token.kind !== '!') return this.parsePrimary(depth, context);
    this.advance();
    return { type: 'not', operand: this.parseUnary(depth + 1, "after '!'") };
  }

  private parsePrimary(depth: number, context: string): ExpressionNode<Name> {
    const token = this.peek();
    if (token.kind === 'ident') return this.parseMatcher();
    if (token.kind !== '(') return this.fail(token, `expected a matcher, '!' or '('${context ? ' ' + context : ''}`);
    this.advance();
    const inner = this.parseOr(depth + 1);
    const close = this.peek();
    if (close.kind !== ')') this.fail(close, `expected ')' to close '(' opened at column ${token.position}`);
    this.advance();
    return inner;
  }

  private parseMatcher(): MatcherNode<Name> {
    const nameToken = this.advance();
    const matchers = this.grammar.matchers;
    const name = matchers.canonical(nameToken.value);
    if (!name) throw new RuleSyntaxError(nameToken.position, unknownMatcherMessage(nameToken.value, matchers));
    const open = this.peek();
    if (open.kind !== '(') this.fail(open, `expected '(' after matcher name '${nameToken.value}'`);
    this.advance();
    const args = this.parseArguments(name);
    checkArity(name, args, this.grammar, nameToken.position);
    return { type: 'matcher', name, args, position: nameToken.position };
  }

  private parseArguments(name: Name): string[] {
    const args: string[] = [];
    if (this.peek().kind === ')') {
      this.advance();
      return args;
    }
    for (;;) {
      const arg = this.peek();
      if (arg.kind !== 'string') {
        this.fail(arg, args.length === 0 ? 'expected a string argument in backticks or double quotes' : "expected a string argument after ','");
      }
      if (arg.value === '' && this.grammar.emptyArguments === 'rejected') {
        throw new RuleSyntaxError(arg.position, `empty argument to ${name}: values must not be empty`);
      }
      args.push(arg.value);
      this.advance();
      const separator = this.peek();
      if (separator.kind === ')') break;
      if (separator.kind !== ',') this.fail(separator, "expected ')' or ',' after argument");
      this.advance();
    }
    this.advance();
    return args;
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private advance(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private fail(found: Token, expectation: string): never {
    throw new RuleSyntaxError(found.position, `${expectation}, found ${describeToken(found, this.grammar.subject)}`);
  }
}

function checkArity<Name extends string>(name: Name, args: readonly string[], grammar: Grammar<Name>, position: number): void {
  const arity = grammar.matchers.arity[name];
  if (args.length >= arity.min && args.length <= arity.max) return;
  const hint = args.length > 1 && arity.max === 1 && grammar.severalValuesHint ? `; ${grammar.severalValuesHint}` : '';
  throw new RuleSyntaxError(position, `${name} takes ${describeArity(arity)}, got ${args.length}${hint}`);
}

function unknownMatcherMessage(name: string, matchers: MatcherSet<string>): string {
  const suggestion = matchers.suggest(name);
  const hint = suggestion ? ` (did you mean '${suggestion}'?)` : '';
  return `unknown matcher '${name}'${hint}; known matchers are ${matchers.names.join(', ')}`;
}

function describeToken(token: Token, subject: string): string {
  switch (token.kind) {
    case 'end':
      return `end of ${subject}`;
    case 'ident':
      return `'${token.value}'`;
    case 'string':
      return `string \`${token.value.length > 24 ? token.value.slice(0, 24) + '…' : token.value}\``;
    default:
      return `'${token.kind}'`;
  }
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const SINGLE_CHAR_TOKENS = new Set(['(', ')', ',', '!']);

function tokenize(rule: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < rule.length) {
    const ch = rule[i]!;
    if (WHITESPACE.has(ch)) {
      i++;
    } else if (SINGLE_CHAR_TOKENS.has(ch)) {
      tokens.push({ kind: ch as TokenKind, value: ch, position: i + 1 });
      i++;
    } else if (ch === '&' || ch === '|') {
      tokens.push(readDoubledOperator(rule, i));
      i += 2;
    } else if (ch === '`') {
      i = readRawString(rule, i, tokens);
    } else if (ch === '"') {
      i = readQuotedString(rule, i, tokens);
    } else if (IDENT_START.test(ch)) {
      i = readIdentifier(rule, i, tokens);
    } else if (ch === "'") {
      throw new RuleSyntaxError(i + 1, "single quotes are not supported; quote values with backticks or double quotes");
    } else {
      throw new RuleSyntaxError(i + 1, `unexpected character '${ch}'`);
    }
  }
  tokens.push({ kind: 'end', value: '', position: rule.length + 1 });
  return tokens;
}

function readDoubledOperator(rule: string, start: number): Token {
  const ch = rule[start]!;
  if (rule[start + 1] !== ch) throw new RuleSyntaxError(start + 1, `expected '${ch}${ch}', found a single '${ch}'`);
  return { kind: (ch + ch) as TokenKind, value: ch + ch, position: start + 1 };
}

/** Backtick strings are raw (Go raw string literals): no escapes, so regexps need no doubling of backslashes. */
function readRawString(rule: string, start: number, tokens: Token[]): number {
  const end = rule.indexOf('`', start + 1);
  if (end === -1) throw new RuleSyntaxError(start + 1, 'unterminated string: missing closing \'`\'');
  tokens.push({ kind: 'string', value: rule.slice(start + 1, end), position: start + 1 });
  return end + 1;
}

function readQuotedString(rule: string, start: number, tokens: Token[]): number {
  let value = '';
  let i = start + 1;
  while (i < rule.length) {
    const ch = rule[i]!;
    if (ch === '"') {
      tokens.push({ kind: 'string', value, position: start + 1 });
      return i + 1;
    }
    if (ch === '\\') {
      value += readEscape(rule, i);
      i += 2;
    } else {
      value += ch;
      i++;
    }
  }
  throw new RuleSyntaxError(start + 1, 'unterminated string: missing closing \'"\'');
}

/** Only \" and \\ are accepted: silently keeping other escapes would make `"\d"` mean something else than in Go. */
function readEscape(rule: string, backslash: number): string {
  const escaped = rule[backslash + 1];
  if (escaped === '"' || escaped === '\\') return escaped;
  if (escaped === undefined) throw new RuleSyntaxError(backslash + 1, 'unterminated string: missing closing \'"\'');
  throw new RuleSyntaxError(
    backslash + 1,
    `unsupported escape sequence '\\${escaped}' in double-quoted string; only \\" and \\\\ are allowed, use backticks for regular expressions`,
  );
}

function readIdentifier(rule: string, start: number, tokens: Token[]): number {
  let end = start + 1;
  while (end < rule.length && IDENT_PART.test(rule[end]!)) end++;
  tokens.push({ kind: 'ident', value: rule.slice(start, end), position: start + 1 });
  return end;
}
