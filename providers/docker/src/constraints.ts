// providers.docker.constraints: a boolean expression over a container's or service's labels, in the rule
// parser's style — Label(`k`,`v`), LabelRegex(`k`,`re`), !, &&, || and parentheses — compiled once at start-up.
import { RE2JS, RE2JSSyntaxException } from 're2js';
import { WharfError } from '@wharf/core';

export type LabelPredicate = (labels: Readonly<Record<string, string>>) => boolean;

type TokenKind = 'ident' | 'string' | '(' | ')' | ',' | '&&' | '||' | '!' | 'end';
interface Token {
  kind: TokenKind;
  value: string;
  /** 1-based column. */
  position: number;
}

const MATCHERS: Record<string, (args: string[], fail: (m: string) => never) => LabelPredicate> = {
  label: ([key, value]) => (labels) => (labels[key!] ?? '') === value,
  // Go's regexp.MatchString, as Traefik uses it: true when the pattern matches anywhere in the value.
  labelregex: ([key, pattern], fail) => {
    let re: RE2JS;
    try {
      re = RE2JS.compile(pattern!);
    } catch (err) {
      fail(`invalid regular expression \`${pattern}\`: ${err instanceof RE2JSSyntaxException ? err.getDescription() : String(err)}`);
    }
    return (labels) => re.matcher(labels[key!] ?? '').find();
  },
};

/** Compiles an expression; `source` names the setting in errors (`--providers.docker.constraints`). */
export function compileConstraints(expression: string, source: string): LabelPredicate {
  const fail = (position: number, message: string): never => {
    throw new WharfError('WHARF_ERR_STATIC_CONFIG', `${source}: ${JSON.stringify(expression)}: column ${position}: ${message}`);
  };
  const tokens = tokenize(expression, fail);
  if (tokens[0]!.kind === 'end') fail(1, 'the expression is empty');
  return new ConstraintParser(tokens, fail).parseAll();
}

class ConstraintParser {
  private index = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly fail: (position: number, message: string) => never,
  ) {}

  parseAll(): LabelPredicate {
    const predicate = this.parseOr();
    const next = this.peek();
    if (next.kind !== 'end') this.fail(next.position, `expected '&&', '||' or the end, found '${next.value}'`);
    return predicate;
  }

  private parseOr(): LabelPredicate {
    let left = this.parseAnd();
    while (this.peek().kind === '||') {
      this.index++;
      const a = left;
      const b = this.parseAnd();
      left = (labels) => a(labels) || b(labels);
    }
    return left;
  }

  private parseAnd(): LabelPredicate {
    let left = this.parseUnary();
    while (this.peek().kind === '&&') {
      this.index++;
      const a = left;
      const b = this.parseUnary();
      left = (labels) => a(labels) && b(labels);
    }
    return left;
  }

  private parseUnary(): LabelPredicate {
    if (this.peek().kind !== '!') return this.parsePrimary();
    this.index++;
    const operand = this.parseUnary();
    return (labels) => !operand(labels);
  }

  private parsePrimary(): LabelPredicate {
    const token = this.next();
    if (token.kind === '(') {
      const inner = this.parseOr();
      if (this.next().kind !== ')') this.fail(token.position, "'(' is not closed");
      return inner;
    }
    if (token.kind !== 'ident') return this.fail(token.position, `expected Label(...), LabelRegex(...), '!' or '(', found '${token.value || 'the end'}'`);
    const make = MATCHERS[token.value.toLowerCase()];
    if (!make) return this.fail(token.position, `unknown matcher '${token.value}' (known: Label, LabelRegex)`);
    const args = this.parseArguments(token);
    if (args.length !== 2) this.fail(token.position, `${token.value} takes 2 arguments (label name and value), got ${args.length}`);
    return make(args, (m) => this.fail(token.position, m));
  }

  private parseArguments(name: Token): string[] {
    if (this.next().kind !== '(') this.fail(name.position, `expected '(' after ${name.value}`);
    const args: string[] = [];
    for (;;) {
      const arg = this.next();
      if (arg.kind !== 'string') this.fail(arg.position, 'expected a string in backticks or double quotes');
      args.push(arg.value);
      const separator = this.next();
      if (separator.kind === ')') return args;
      if (separator.kind !== ',') this.fail(separator.position, "expected ',' or ')'");
    }
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'end') this.index++;
    return token;
  }
}

function tokenize(text: string, fail: (position: number, message: string) => never): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const position = i + 1;
    if (/\s/.test(ch)) i++;
    else if ('(),!'.includes(ch)) {
      tokens.push({ kind: ch as TokenKind, value: ch, position });
      i++;
    } else if (ch === '&' || ch === '|') {
      if (text[i + 1] !== ch) fail(position, `expected '${ch}${ch}'`);
      tokens.push({ kind: (ch + ch) as TokenKind, value: ch + ch, position });
      i += 2;
    } else if (ch === '`' || ch === '"') {
      const end = text.indexOf(ch, i + 1);
      if (end === -1) fail(position, `unterminated string: missing closing ${ch}`);
      tokens.push({ kind: 'string', value: text.slice(i + 1, end), position });
      i = end + 1;
    } else if (/[A-Za-z_]/.test(ch)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))![0];
      tokens.push({ kind: 'ident', value: word, position });
      i += word.length;
    } else fail(position, `unexpected character '${ch}'`);
  }
  tokens.push({ kind: 'end', value: '', position: text.length + 1 });
  return tokens;
}
