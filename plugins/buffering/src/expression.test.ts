// retryExpression: oxy's grammar (vulcand/predicate), what each expression decides, and errors that point at the position.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpressionError, parseRetryExpression, type RetryFacts } from './expression.js';

const facts = (attempts: number, responseCode: number, method = 'GET'): RetryFacts => ({ attempts, responseCode, method });

describe('retryExpression decisions', () => {
  const cases: Array<{ expression: string; facts: RetryFacts; expected: boolean }> = [
    { expression: 'IsNetworkError()', facts: facts(1, 502), expected: true },
    { expression: 'IsNetworkError()', facts: facts(1, 504), expected: true },
    { expression: 'IsNetworkError()', facts: facts(1, 503), expected: false },
    { expression: 'IsNetworkError() && Attempts() <= 2', facts: facts(2, 502), expected: true },
    { expression: 'IsNetworkError() && Attempts() <= 2', facts: facts(3, 502), expected: false },
    { expression: 'Attempts() <= 2 && ResponseCode() == 502', facts: facts(1, 502), expected: true },
    { expression: 'ResponseCode() != 200', facts: facts(1, 200), expected: false },
    { expression: 'ResponseCode() >= 500 && ResponseCode() < 600', facts: facts(1, 503), expected: true },
    { expression: 'ResponseCode() > 500', facts: facts(1, 500), expected: false },
    { expression: 'Attempts() < 2 || ResponseCode() == 418', facts: facts(5, 418), expected: true },
    // Go precedence: && binds tighter than ||.
    { expression: 'ResponseCode() == 418 || ResponseCode() == 503 && Attempts() < 2', facts: facts(9, 418), expected: true },
    { expression: '(ResponseCode() == 418 || ResponseCode() == 503) && Attempts() < 2', facts: facts(9, 418), expected: false },
    { expression: 'RequestMethod() == "GET" && IsNetworkError()', facts: facts(1, 502, 'GET'), expected: true },
    { expression: 'RequestMethod() != `POST`', facts: facts(1, 502, 'POST'), expected: false },
    { expression: '  IsNetworkError( )  ', facts: facts(1, 502), expected: true },
  ];
  for (const c of cases) {
    test(`${c.expression} with ${JSON.stringify(c.facts)}`, () => {
      assert.equal(parseRetryExpression(c.expression)(c.facts), c.expected);
    });
  }
});

describe('retryExpression errors', () => {
  const cases: Array<{ expression: string; position: number; reason: string }> = [
    { expression: 'Attempts()', position: 0, reason: 'expected a condition such as IsNetworkError() or Attempts() <= 2, got a number' },
    { expression: 'IsNetworkError() && Retries() < 2', position: 20, reason: 'unsupported function Retries' },
    { expression: 'Attempts() <= "2"', position: 14, reason: 'expected an integer after <=, got a string' },
    { expression: '2 >= Attempts()', position: 0, reason: '>= compares Attempts(), ResponseCode() or RequestMethod() on its left with a constant, got a number' },
    { expression: '!IsNetworkError()', position: 0, reason: "unexpected '!' ('!' is not supported: write the opposite comparison)" },
    { expression: 'IsNetworkError() &&', position: 19, reason: 'expected a function call, a number or a string, found the end of the expression' },
    { expression: 'IsNetworkError() IsNetworkError()', position: 17, reason: "unexpected 'IsNetworkError' after a complete expression" },
    { expression: '(IsNetworkError()', position: 17, reason: "expected ')' to close the '(' at column 1, found the end of the expression" },
    { expression: 'Attempts(1) < 2', position: 9, reason: 'Attempts() takes no argument' },
    { expression: 'RequestMethod() < "GET"', position: 16, reason: '< does not apply to RequestMethod()' },
    { expression: 'Attempts() < 2.5', position: 13, reason: 'expected a decimal integer' },
    { expression: 'RequestMethod() == "GET', position: 19, reason: 'unterminated string' },
    { expression: 'Attempts() < 2 ; rm', position: 15, reason: "unexpected ';' (operators: && || == != < <= > >=)" },
    { expression: '', position: 0, reason: 'expected a function call, a number or a string, found the end of the expression' },
    { expression: 'IsNetworkError', position: 14, reason: "expected '(' after IsNetworkError, found the end of the expression" },
    { expression: 'Attempts() < 0x2', position: 13, reason: '"0x"… is not a decimal number' },
  ];
  for (const c of cases) {
    test(`${JSON.stringify(c.expression)}: ${c.reason}`, () => {
      assert.throws(
        () => parseRetryExpression(c.expression),
        (err: unknown) => {
          assert.ok(err instanceof ExpressionError);
          assert.equal(err.position, c.position);
          assert.ok(err.message.startsWith(c.reason), err.message);
          assert.ok(err.message.includes(`at position ${c.position + 1}`), err.message);
          return true;
        },
      );
    });
  }
});
