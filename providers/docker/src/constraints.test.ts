// Table tests for providers.docker.constraints expressions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WharfError } from '@wharf/core';
import { compileConstraints } from './constraints.js';

const labels = { 'traefik.enable': 'true', tier: 'front', 'com.docker.stack.namespace': 'golf-stack' };

test('constraints: Label, LabelRegex, !, &&, || and parentheses', () => {
  const cases: { desc: string; input: string; expected: boolean }[] = [
    { desc: 'Label equal', input: 'Label(`tier`, `front`)', expected: true },
    { desc: 'Label different', input: 'Label(`tier`, `back`)', expected: false },
    { desc: 'negation', input: '!Label(`tier`, `back`)', expected: true },
    { desc: 'anchored regex', input: 'LabelRegex(`com.docker.stack.namespace`, `^golf`)', expected: true },
    { desc: 'regex matches anywhere, as Go\'s MatchString', input: 'LabelRegex(`com.docker.stack.namespace`, `stack`)', expected: true },
    { desc: 'fully anchored regex must match the whole value', input: 'LabelRegex(`tier`, `^fr$`)', expected: false },
    { desc: 'RE2 syntax', input: 'LabelRegex(`com.docker.stack.namespace`, `^\\w+-(?:stack|swarm)$`)', expected: true },
    { desc: 'double quotes', input: 'Label(`tier`, `back`) || Label("traefik.enable", "true")', expected: true },
    { desc: 'grouping', input: 'Label(`tier`, `front`) && !(Label(`a`, `b`) || LabelRegex(`tier`, `^b`))', expected: true },
    { desc: '&& binds tighter than ||', input: 'Label(`tier`, `front`) || Label(`a`, `b`) && Label(`c`, `d`)', expected: true },
    { desc: 'name in any case', input: 'label(`missing`, ``)', expected: true }, // a missing label reads as empty, as in Traefik
    { desc: 'regex on a missing label sees the empty string', input: 'LabelRegex(`missing`, `^$`)', expected: true },
    { desc: 'a present label is not empty', input: 'Label(`tier`, ``)', expected: false },
    { desc: 'prototype keys are not labels', input: 'Label(`constructor`, ``) && LabelRegex(`__proto__`, `^$`)', expected: true },
  ];
  for (const { desc, input, expected } of cases) assert.equal(compileConstraints(input, '--c')(labels), expected, desc);
});

test('constraints: a long || chain compiles and evaluates without deep recursion', () => {
  const input = Array.from({ length: 20_000 }, (_, i) => `Label(\`tier\`, \`t${i}\`)`).join(' || ') + ' || Label(`tier`, `front`)';
  assert.equal(compileConstraints(input, '--c')(labels), true);
});

test('constraints: errors name the flag, the expression, the column and what is wrong', () => {
  const flag = '--providers.docker.constraints';
  const nested = '('.repeat(101) + 'Label(`a`, `b`)' + ')'.repeat(101);
  const cases: { desc: string; input: string; expectedError: { column: number; message: string } }[] = [
    { desc: 'too few arguments', input: 'Label(`a`)', expectedError: { column: 1, message: 'Label takes exactly 2 arguments, got 1' } },
    { desc: 'too many arguments', input: 'LabelRegex(`a`, `b`, `c`)', expectedError: { column: 1, message: 'LabelRegex takes exactly 2 arguments, got 3' } },
    { desc: 'unknown matcher', input: 'Tag(`a`, `b`)', expectedError: { column: 1, message: "unknown matcher 'Tag'; known matchers are Label, LabelRegex" } },
    {
      desc: 'unknown matcher with a near miss (the rules\' spelling)',
      input: 'Label(`a`, `b`) || LabelRegexp(`a`, `b`)',
      expectedError: { column: 20, message: "unknown matcher 'LabelRegexp' (did you mean 'LabelRegex'?); known matchers are Label, LabelRegex" },
    },
    { desc: 'a rule matcher is not a constraint', input: 'Host(`a`)', expectedError: { column: 1, message: "unknown matcher 'Host'; known matchers are Label, LabelRegex" } },
    { desc: 'single &', input: 'Label(`a`, `b`) & Label(`c`, `d`)', expectedError: { column: 17, message: "expected '&&', found a single '&'" } },
    { desc: 'bad regex', input: 'LabelRegex(`a`, `(`)', expectedError: { column: 1, message: 'LabelRegex: invalid regular expression `(`: missing closing )' } },
    {
      desc: 'bad regex after another matcher is positioned',
      input: 'Label(`a`, `b`) && LabelRegex(`a`, `[z-a]`)',
      expectedError: { column: 20, message: 'LabelRegex: invalid regular expression `[z-a]`: invalid character class range' },
    },
    {
      desc: 'lookahead is not RE2',
      input: 'LabelRegex(`a`, `^(?=x)`)',
      expectedError: { column: 1, message: 'LabelRegex: invalid regular expression `^(?=x)`: invalid or unsupported Perl syntax' },
    },
    { desc: 'unclosed group', input: '(Label(`a`, `b`)', expectedError: { column: 17, message: "expected ')' to close '(' opened at column 1, found end of expression" } },
    { desc: 'extra closing parenthesis', input: 'Label(`a`, `b`))', expectedError: { column: 16, message: "unbalanced parentheses: ')' has no matching '('" } },
    { desc: 'dangling operator', input: 'Label(`a`, `b`) ||', expectedError: { column: 19, message: "expected a matcher, '!' or '(' after '||', found end of expression" } },
    { desc: 'unterminated string', input: 'Label(`a`, `b)', expectedError: { column: 12, message: "unterminated string: missing closing '`'" } },
    { desc: 'empty', input: '', expectedError: { column: 1, message: 'expression is empty' } },
    { desc: 'nesting beyond 100 levels', input: nested, expectedError: { column: 102, message: 'expression nests deeper than 100 levels' } },
    { desc: 'negation beyond 100 levels', input: '!'.repeat(5000) + 'Label(`a`, `b`)', expectedError: { column: 102, message: 'expression nests deeper than 100 levels' } },
  ];
  for (const { desc, input, expectedError } of cases) {
    assert.throws(
      () => compileConstraints(input, flag),
      (err: unknown) => {
        assert.ok(err instanceof WharfError, desc);
        assert.equal(err.code, 'WHARF_ERR_STATIC_CONFIG', desc);
        assert.equal(err.message, `${flag}: ${JSON.stringify(input)}: column ${expectedError.column}: ${expectedError.message}`, desc);
        return true;
      },
      desc,
    );
  }
});

test('constraints: 100 levels of nesting are fine', () => {
  const input = '('.repeat(100) + 'Label(`tier`, `front`)' + ')'.repeat(100);
  assert.equal(compileConstraints(input, '--c')(labels), true);
});
