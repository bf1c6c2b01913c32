// The expression grammar: what oxy's cbreaker (vulcand/predicate) accepts and how it evaluates, and errors that name
// the column for what it refuses.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExpression, type Metrics } from './expression.js';

/** Fixed metric values, as oxy's tests build them. */
function metrics(values: Partial<{ netRatio: number; codeRatio: number; latencyMS: number; total: number }>): Metrics & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    networkErrorRatio: () => values.netRatio ?? 0,
    responseCodeRatio: (a, b, c, d) => {
      calls.push(`ResponseCodeRatio(${a}, ${b}, ${c}, ${d})`);
      return values.codeRatio ?? 0;
    },
    latencyAtQuantileMS: (q) => {
      calls.push(`LatencyAtQuantileMS(${q})`);
      return values.latencyMS ?? 0;
    },
    totalCount: () => values.total ?? 0,
  };
}

describe('expressions that parse', () => {
  const cases: Array<{ expression: string; values: Parameters<typeof metrics>[0]; expected: boolean }> = [
    { expression: 'NetworkErrorRatio() > 0.5', values: { netRatio: 0.6 }, expected: true },
    { expression: 'NetworkErrorRatio() < 0.5', values: { netRatio: 0.6 }, expected: false },
    { expression: 'LatencyAtQuantileMS(50.0) > 50', values: { latencyMS: 51 }, expected: true },
    { expression: 'LatencyAtQuantileMS(50.0) < 50', values: { latencyMS: 51 }, expected: false },
    { expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.5', values: { codeRatio: 6 / 11 }, expected: true },
    { expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.5', values: { codeRatio: 4 / 9 }, expected: false },
    { expression: 'NetworkErrorRatio() > 0.5 && RequestThreshold() >= 20', values: { netRatio: 1, total: 19 }, expected: false },
    { expression: 'NetworkErrorRatio() > 0.5 && RequestThreshold() >= 20', values: { netRatio: 1, total: 20 }, expected: true },
    { expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.30 || NetworkErrorRatio() > 0.10', values: { netRatio: 0.2 }, expected: true },
    { expression: 'NetworkErrorRatio() >= 0.5', values: { netRatio: 0.5 }, expected: true },
    { expression: 'NetworkErrorRatio() <= 0.5', values: { netRatio: 0.5 }, expected: true },
    { expression: 'NetworkErrorRatio() == 0.5', values: { netRatio: 0.5 }, expected: true },
    { expression: 'NetworkErrorRatio() != 0.5', values: { netRatio: 0.5 }, expected: false },
    { expression: 'RequestThreshold() == 3', values: { total: 3 }, expected: true },
    { expression: '(NetworkErrorRatio() > 0.5 || LatencyAtQuantileMS(99.0) > 200) && RequestThreshold() > 10', values: { latencyMS: 300, total: 11 }, expected: true },
    { expression: 'NetworkErrorRatio() > 0.5 || LatencyAtQuantileMS(99.0) > 200 && RequestThreshold() > 10', values: { netRatio: 0.9, total: 0 }, expected: true },
    { expression: 'NetworkErrorRatio()>.5', values: { netRatio: 0.6 }, expected: true },
    { expression: 'NetworkErrorRatio() > 5e-1', values: { netRatio: 0.6 }, expected: true },
    { expression: '\tNetworkErrorRatio()  >  0.5 ', values: { netRatio: 0.6 }, expected: true },
    { expression: '((NetworkErrorRatio())) > (0.5)', values: { netRatio: 0.6 }, expected: true },
    { expression: 'ResponseCodeRatio(500, 600, 0, 600,) > 0.5', values: { codeRatio: 0.6 }, expected: true },
  ];
  for (const { expression, values, expected } of cases) {
    test(`${expression} → ${expected}`, () => {
      assert.equal(parseExpression(expression)(metrics(values)), expected);
    });
  }

  test('arguments reach the metrics as written', () => {
    const m = metrics({});
    parseExpression('ResponseCodeRatio(400, 500, 0, 600) > 0.1 || LatencyAtQuantileMS(99.9) > 1')(m);
    assert.deepEqual(m.calls, ['ResponseCodeRatio(400, 500, 0, 600)', 'LatencyAtQuantileMS(99.9)']);
  });
});

describe('expressions refused, with the column', () => {
  const cases: Array<{ expression: string; error: string }> = [
    { expression: '', error: 'expression: expected a metric such as NetworkErrorRatio() or a number, found the end of the expression at column 1 of ""' },
    { expression: 'NetworkErrorRate() > 0.5', error: "expression: unknown function 'NetworkErrorRate'; known: NetworkErrorRatio(), ResponseCodeRatio(from, to, dividedByFrom, dividedByTo), LatencyAtQuantileMS(quantile), RequestThreshold() at column 1" },
    { expression: 'networkErrorRatio() > 0.5', error: "expression: unknown function 'networkErrorRatio' (did you mean 'NetworkErrorRatio'?)" },
    { expression: 'NetworkErrorRatio() > 1', error: 'expression: NetworkErrorRatio() is a ratio: compare it with a decimal number such as 0.5 (Traefik refuses a whole number here), got 1 at column 23' },
    { expression: 'LatencyAtQuantileMS(50.0) > 100.5', error: 'expression: LatencyAtQuantileMS(50.0) is a whole number: compare it with a whole number such as 100 (Traefik refuses a decimal one here), got 100.5 at column 29' },
    { expression: 'LatencyAtQuantileMS(50) > 100', error: 'expression: quantile of LatencyAtQuantileMS must be a decimal number with a point, such as 50.0, as in Traefik, got 50 at column 21' },
    { expression: 'ResponseCodeRatio(500, 600, 0) > 0.5', error: 'expression: ResponseCodeRatio(from, to, dividedByFrom, dividedByTo) takes 4 arguments, got 3 at column 1' },
    { expression: 'ResponseCodeRatio(500.0, 600, 0, 600) > 0.5', error: 'expression: from of ResponseCodeRatio must be a whole number, as in Traefik, got 500.0 at column 19' },
    { expression: 'NetworkErrorRatio()', error: 'expression: NetworkErrorRatio() is not a condition: compare it, e.g. NetworkErrorRatio() > 0.5 at column 1' },
    { expression: 'NetworkErrorRatio() > 0.5 &&', error: 'expression: expected a metric such as NetworkErrorRatio() or a number, found the end of the expression at column 29' },
    { expression: 'NetworkErrorRatio() > 0.5 & RequestThreshold() > 1', error: "expression: unexpected '&' (operators: && || == != < <= > >=) at column 27" },
    { expression: '!(NetworkErrorRatio() > 0.5)', error: "expression: unexpected '!' ('!' is not supported: write the opposite comparison) at column 1" },
    { expression: '0.5 < NetworkErrorRatio()', error: "expression: the left side of '<' must be a metric such as NetworkErrorRatio(), got 0.5 at column 1" },
    { expression: 'NetworkErrorRatio() > RequestThreshold()', error: "expression: the right side of '>' must be a number, got RequestThreshold() at column 23" },
    { expression: 'NetworkErrorRatio() > 0.5 > 0.2', error: "expression: the left side of '>' must be a metric such as NetworkErrorRatio(), got NetworkErrorRatio() > 0.5 at column 1" },
    { expression: 'NetworkErrorRatio() && RequestThreshold() > 1', error: "expression: '&&' joins conditions such as NetworkErrorRatio() > 0.5, got NetworkErrorRatio() at column 1" },
    { expression: 'NetworkErrorRatio > 0.5', error: "expression: expected '(' after NetworkErrorRatio, found '>' at column 19" },
    { expression: '(NetworkErrorRatio() > 0.5', error: "expression: expected ')' to close the '(' at column 1, found the end of the expression at column 27" },
    { expression: 'NetworkErrorRatio() > 0.5)', error: "expression: unexpected ')' after a complete expression at column 26" },
    { expression: 'RequestThreshold() > "100"', error: 'expression: a string is not a metric or a number, got "100" at column 22' },
    { expression: 'RequestThreshold() > 0x10', error: 'expression: "0x"… is not a decimal number at column 22' },
    { expression: 'LatencyAtQuantileMS(NetworkErrorRatio()) > 1', error: 'expression: arguments of LatencyAtQuantileMS are numbers, found NetworkErrorRatio() at column 21' },
  ];
  for (const { expression, error } of cases) {
    test(JSON.stringify(expression), () => {
      assert.throws(() => parseExpression(expression), (err: Error) => {
        assert.ok(err.message.startsWith(error), `${err.message}\n  should start with\n${error}`);
        return true;
      });
    });
  }
});
