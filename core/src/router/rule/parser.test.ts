// Tests for the rule parser: precedence, grouping, negation, quoting, name case, and every syntax error.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WharfError } from '../../errors.js';
import { parseExpression, parseRule, RuleSyntaxError, type Grammar, type RuleNode } from './parser.js';
import { MatcherSet } from './signatures.js';

/** Compact rendering so expectations read like the rule: and(Host(a), not(Path(/))). */
function show(node: RuleNode): string {
  switch (node.type) {
    case 'matcher':
      return `${node.name}(${node.args.join(', ')})`;
    case 'not':
      return `not(${show(node.operand)})`;
    default:
      return `${node.type}(${show(node.left)}, ${show(node.right)})`;
  }
}

describe('parseRule structure', () => {
  const cases: { desc: string; rule: string; expected: string }[] = [
    { desc: 'single matcher', rule: 'Host(`a.example`)', expected: 'Host(a.example)' },
    { desc: '&& binds tighter than || (right)', rule: 'Host(`a`) || Path(`/b`) && Method(`GET`)', expected: 'or(Host(a), and(Path(/b), Method(GET)))' },
    { desc: '&& binds tighter than || (left)', rule: 'Host(`a`) && Path(`/b`) || Method(`GET`)', expected: 'or(and(Host(a), Path(/b)), Method(GET))' },
    { desc: 'parentheses override precedence', rule: '(Host(`a`) || Path(`/b`)) && Method(`GET`)', expected: 'and(or(Host(a), Path(/b)), Method(GET))' },
    { desc: 'redundant parentheses vanish', rule: '((Host(`a`)))', expected: 'Host(a)' },
    { desc: '&& is left-associative', rule: 'Host(`a`) && Path(`/b`) && Method(`GET`)', expected: 'and(and(Host(a), Path(/b)), Method(GET))' },
    { desc: '|| is left-associative', rule: 'Host(`a`) || Path(`/b`) || Method(`GET`)', expected: 'or(or(Host(a), Path(/b)), Method(GET))' },
    { desc: '! binds tighter than &&', rule: '!Host(`a`) && Path(`/`)', expected: 'and(not(Host(a)), Path(/))' },
    { desc: '! applies to a group', rule: '!(Host(`a`) && Path(`/`))', expected: 'not(and(Host(a), Path(/)))' },
    { desc: 'double negation is kept', rule: '!!Host(`a`)', expected: 'not(not(Host(a)))' },
    { desc: '! after && and ||', rule: 'Host(`a`) && !Path(`/`) || !Method(`GET`)', expected: 'or(and(Host(a), not(Path(/))), not(Method(GET)))' },
    { desc: 'several arguments', rule: 'Header(`X-A`, `b`)', expected: 'Header(X-A, b)' },
    { desc: 'double-quoted argument', rule: 'Host("a.example")', expected: 'Host(a.example)' },
    { desc: 'escaped double quote', rule: 'PathRegexp("^/\\"q\\"$")', expected: 'PathRegexp(^/"q"$)' },
    { desc: 'escaped backslash', rule: 'Header("X", "a\\\\b")', expected: 'Header(X, a\\b)' },
    { desc: 'backticks keep backslashes raw', rule: 'PathRegexp(`^/\\d+$`)', expected: 'PathRegexp(^/\\d+$)' },
    { desc: 'backticks may contain double quotes and parentheses', rule: 'Header(`X`, `say "hi" (now) && || !`)', expected: 'Header(X, say "hi" (now) && || !)' },
    { desc: 'double quotes may contain backticks', rule: 'Header(`X`, "a`b")', expected: 'Header(X, a`b)' },
    { desc: 'mixed quoting styles in one call', rule: 'Header("X", `y`)', expected: 'Header(X, y)' },
    { desc: 'lower-case name', rule: 'pathprefix(`/a`)', expected: 'PathPrefix(/a)' },
    { desc: 'upper-case name', rule: 'PATHPREFIX(`/a`)', expected: 'PathPrefix(/a)' },
    { desc: 'mixed-case names', rule: 'hOsT(`a`) && clientip(`::1`)', expected: 'and(Host(a), ClientIP(::1))' },
    { desc: 'whitespace of all kinds between tokens', rule: ' Header ( `a` ,\t`b` )\n\t&&\r\n! Path(`/`) ', expected: 'and(Header(a, b), not(Path(/)))' },
    { desc: 'no whitespace at all', rule: 'Host(`a`)&&!Path(`/`)||Method(`GET`)', expected: 'or(and(Host(a), not(Path(/))), Method(GET))' },
    { desc: 'zero arguments parse, arity is checked after', rule: 'Query(`k`)', expected: 'Query(k)' },
  ];
  for (const { desc, rule, expected } of cases) {
    test(desc, () => assert.equal(show(parseRule(rule)), expected));
  }

  test('matcher nodes carry the 1-based column of their name', () => {
    const ast = parseRule('Host(`a`) && pathPrefix(`/`)');
    assert.deepEqual(ast, {
      type: 'and',
      left: { type: 'matcher', name: 'Host', args: ['a'], position: 1 },
      right: { type: 'matcher', name: 'PathPrefix', args: ['/'], position: 14 },
    });
  });

  test('100 levels of nesting are fine', () => {
    const rule = '('.repeat(100) + 'Host(`a`)' + ')'.repeat(100);
    assert.equal(show(parseRule(rule)), 'Host(a)');
  });
});

describe('parseRule errors', () => {
  const KNOWN = 'ClientIP, Header, HeaderRegexp, Host, HostRegexp, Method, Path, PathPrefix, PathRegexp, Query, QueryRegexp';
  const cases: { desc: string; rule: string; expectedError: { position: number; message: string } }[] = [
    { desc: 'empty rule', rule: '', expectedError: { position: 1, message: 'rule is empty' } },
    { desc: 'blank rule', rule: ' \t\n', expectedError: { position: 1, message: 'rule is empty' } },
    {
      desc: 'unknown matcher with a near miss',
      rule: 'Host(`a`) && Hots(`b`)',
      expectedError: { position: 14, message: `unknown matcher 'Hots' (did you mean 'Host'?); known matchers are ${KNOWN}` },
    },
    {
      desc: 'Traefik v2 matcher name suggests the v3 one',
      rule: 'Headers(`X`, `y`)',
      expectedError: { position: 1, message: `unknown matcher 'Headers' (did you mean 'Header'?); known matchers are ${KNOWN}` },
    },
    {
      desc: 'unknown matcher without a near miss',
      rule: 'Frobnicate(`a`)',
      expectedError: { position: 1, message: `unknown matcher 'Frobnicate'; known matchers are ${KNOWN}` },
    },
    { desc: 'too few arguments (exact count)', rule: 'Header(`X`)', expectedError: { position: 1, message: 'Header takes exactly 2 arguments, got 1' } },
    { desc: 'too many arguments (exact count)', rule: 'HeaderRegexp(`X`, `a`, `b`)', expectedError: { position: 1, message: 'HeaderRegexp takes exactly 2 arguments, got 3' } },
    { desc: 'QueryRegexp takes one or two', rule: 'QueryRegexp(`q`, `a`, `b`)', expectedError: { position: 1, message: 'QueryRegexp takes 1 or 2 arguments, got 3' } },
    { desc: 'no arguments (one or two)', rule: 'Query()', expectedError: { position: 1, message: 'Query takes 1 or 2 arguments, got 0' } },
    { desc: 'too many arguments (one or two)', rule: 'Query(`a`, `b`, `c`)', expectedError: { position: 1, message: 'Query takes 1 or 2 arguments, got 3' } },
    { desc: 'no arguments (exactly one)', rule: 'Path(`/`) || Host()', expectedError: { position: 14, message: 'Host takes exactly 1 argument, got 0' } },
    { desc: 'empty backtick argument', rule: 'Host(``)', expectedError: { position: 6, message: 'empty argument to Host: values must not be empty' } },
    { desc: 'empty double-quoted argument', rule: 'Header(`X`, "")', expectedError: { position: 13, message: 'empty argument to Header: values must not be empty' } },
    { desc: 'missing ( after name', rule: 'Host && Path(`/`)', expectedError: { position: 6, message: "expected '(' after matcher name 'Host', found '&&'" } },
    { desc: 'name at end of rule', rule: 'Path(`/`) && Host', expectedError: { position: 18, message: "expected '(' after matcher name 'Host', found end of rule" } },
    {
      desc: 'argument is not a string',
      rule: 'Host(Path(`/`))',
      expectedError: { position: 6, message: "expected a string argument in backticks or double quotes, found 'Path'" },
    },
    { desc: 'unclosed argument list', rule: 'Host(', expectedError: { position: 6, message: 'expected a string argument in backticks or double quotes, found end of rule' } },
    { desc: 'trailing comma', rule: 'Host(`a`,)', expectedError: { position: 10, message: "expected a string argument after ',', found ')'" } },
    { desc: 'operator inside the argument list', rule: 'Host(`a` && Path(`/`))', expectedError: { position: 10, message: "expected ')' or ',' after argument, found '&&'" } },
    { desc: 'missing comma between arguments', rule: 'Host(`a` `b`)', expectedError: { position: 10, message: "expected ')' or ',' after argument, found string `b`" } },
    { desc: 'argument list runs to the end', rule: 'Host(`a`', expectedError: { position: 9, message: "expected ')' or ',' after argument, found end of rule" } },
    { desc: 'unclosed group', rule: '(Host(`a`)', expectedError: { position: 11, message: "expected ')' to close '(' opened at column 1, found end of rule" } },
    { desc: 'unclosed inner group', rule: '((Host(`a`))', expectedError: { position: 13, message: "expected ')' to close '(' opened at column 1, found end of rule" } },
    { desc: 'group closed by something else', rule: '(Host(`a`) Path(`/`))', expectedError: { position: 12, message: "expected ')' to close '(' opened at column 1, found 'Path'" } },
    { desc: 'extra closing parenthesis', rule: 'Host(`a`))', expectedError: { position: 10, message: "unbalanced parentheses: ')' has no matching '('" } },
    { desc: 'trailing matcher without operator', rule: 'Host(`a`) Path(`/`)', expectedError: { position: 11, message: "expected '&&', '||' or end of rule, found 'Path'" } },
    { desc: 'trailing string', rule: 'Host(`a`) `b`', expectedError: { position: 11, message: "expected '&&', '||' or end of rule, found string `b`" } },
    { desc: 'word operators are not operators', rule: 'Host(`a`) and Path(`/`)', expectedError: { position: 11, message: "expected '&&', '||' or end of rule, found 'and'" } },
    { desc: 'leading operator', rule: '&& Host(`a`)', expectedError: { position: 1, message: "expected a matcher, '!' or '(', found '&&'" } },
    { desc: 'dangling &&', rule: 'Host(`a`) &&', expectedError: { position: 13, message: "expected a matcher, '!' or '(' after '&&', found end of rule" } },
    { desc: 'dangling ||', rule: 'Host(`a`) || ', expectedError: { position: 14, message: "expected a matcher, '!' or '(' after '||', found end of rule" } },
    { desc: 'dangling !', rule: 'Host(`a`) && !', expectedError: { position: 15, message: "expected a matcher, '!' or '(' after '!', found end of rule" } },
    { desc: 'empty group', rule: '()', expectedError: { position: 2, message: "expected a matcher, '!' or '(', found ')'" } },
    { desc: 'bare string', rule: '`a`', expectedError: { position: 1, message: "expected a matcher, '!' or '(', found string `a`" } },
    {
      desc: 'long strings are shortened in messages',
      rule: 'Host(`a`) `abcdefghijklmnopqrstuvwxyz0123`',
      expectedError: { position: 11, message: "expected '&&', '||' or end of rule, found string `abcdefghijklmnopqrstuvwx…`" },
    },
    { desc: 'single &', rule: 'Host(`a`) & Path(`/`)', expectedError: { position: 11, message: "expected '&&', found a single '&'" } },
    { desc: 'single |', rule: 'Host(`a`) | Path(`/`)', expectedError: { position: 11, message: "expected '||', found a single '|'" } },
    { desc: 'unterminated backtick string swallows the rest', rule: 'Host(`a) && Path(`/`)', expectedError: { position: 19, message: "unexpected character '/'" } },
    { desc: 'unterminated backtick string at the end', rule: 'Path(`/`) && Host(`a)', expectedError: { position: 19, message: "unterminated string: missing closing '`'" } },
    { desc: 'unterminated double-quoted string', rule: 'Host("a)', expectedError: { position: 6, message: `unterminated string: missing closing '"'` } },
    { desc: 'double-quoted string ending in a backslash', rule: 'Host("a\\', expectedError: { position: 8, message: `unterminated string: missing closing '"'` } },
    {
      desc: 'unsupported escape sequence',
      rule: 'PathRegexp("^/\\d+$")',
      expectedError: {
        position: 15,
        message: `unsupported escape sequence '\\d' in double-quoted string; only \\" and \\\\ are allowed, use backticks for regular expressions`,
      },
    },
    { desc: 'single quotes', rule: "Host('a')", expectedError: { position: 6, message: 'single quotes are not supported; quote values with backticks or double quotes' } },
    { desc: 'unexpected character', rule: 'Host(`a`) ; Path(`/`)', expectedError: { position: 11, message: "unexpected character ';'" } },
    {
      desc: 'nesting beyond 100 levels',
      rule: '('.repeat(101) + 'Host(`a`)' + ')'.repeat(101),
      expectedError: { position: 102, message: 'rule nests deeper than 100 levels' },
    },
    {
      desc: 'negation beyond 100 levels',
      rule: '!'.repeat(150) + 'Host(`a`)',
      expectedError: { position: 102, message: 'rule nests deeper than 100 levels' },
    },
  ];
  for (const { desc, rule, expectedError } of cases) {
    test(desc, () => {
      assert.throws(
        () => parseRule(rule),
        (err: unknown) => {
          assert.ok(err instanceof RuleSyntaxError);
          assert.ok(err instanceof WharfError);
          assert.equal(err.code, 'WHARF_ERR_RULE_SYNTAX');
          assert.equal(err.message, `rule syntax error at column ${expectedError.position}: ${expectedError.message}`);
          assert.equal(err.position, expectedError.position);
          return true;
        },
      );
    });
  }
});

describe('parseExpression with another grammar', () => {
  const grammar: Grammar<'Tag' | 'TagRegex'> = {
    subject: 'filter',
    matchers: new MatcherSet({ Tag: { min: 1, max: 1 }, TagRegex: { min: 1, max: 1 } }),
    emptyArguments: 'allowed',
  };
  const cases: { desc: string; input: string; expected?: unknown; expectedError?: string }[] = [
    { desc: 'its names, in any case, and the shared operators', input: '!tag(`a`) || TAGREGEX(`^b`)', expected: { type: 'or', left: { type: 'not', operand: { type: 'matcher', name: 'Tag', args: ['a'], position: 2 } }, right: { type: 'matcher', name: 'TagRegex', args: ['^b'], position: 14 } } },
    { desc: 'empty arguments when the grammar allows them', input: 'Tag(``)', expected: { type: 'matcher', name: 'Tag', args: [''], position: 1 } },
    { desc: 'rule matchers are unknown to it', input: 'Host(`a`)', expectedError: "rule syntax error at column 1: unknown matcher 'Host'; known matchers are Tag, TagRegex" },
    { desc: 'its arities', input: 'Tag(`a`, `b`)', expectedError: 'rule syntax error at column 1: Tag takes exactly 1 argument, got 2' },
    { desc: 'its subject in messages', input: 'Tag(`a`) Tag(`b`)', expectedError: "rule syntax error at column 10: expected '&&', '||' or end of filter, found 'Tag'" },
    { desc: 'its subject when empty', input: ' ', expectedError: 'rule syntax error at column 1: filter is empty' },
    { desc: 'the same nesting guard', input: '!'.repeat(101) + 'Tag(`a`)', expectedError: 'rule syntax error at column 102: filter nests deeper than 100 levels' },
  ];
  for (const { desc, input, expected, expectedError } of cases) {
    test(desc, () => {
      if (expectedError === undefined) assert.deepEqual(parseExpression(input, grammar), expected);
      else assert.throws(() => parseExpression(input, grammar), { name: 'RuleSyntaxError', message: expectedError });
    });
  }

  test('RuleSyntaxError.detail is the message without its position prefix', () => {
    assert.throws(() => parseExpression('Tag(', grammar), { detail: 'expected a string argument in backticks or double quotes, found end of filter' });
  });
});
