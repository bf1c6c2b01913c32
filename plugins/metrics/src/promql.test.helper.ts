// Just enough PromQL and exposition-format reading for the dashboard test: which series an expression selects
// (metric names, label matchers) and which labels it groups or relabels by; and the samples of a scrape.

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface Selector {
  metric: string;
  matchers: Matcher[];
}

export interface Query {
  selectors: Selector[];
  /** Labels the expression needs on its series: `by (…)`/`without (…)`, label_replace's source, label_values' label. */
  labels: string[];
}

// Words that are PromQL syntax, not metric names, when not followed by `(`.
// Aggregation operators, which may be followed by `by (…)` before their `(`.
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);
const IDENT = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const SPACE = /\s*/y;
// Numbers and durations (`1e3`, `0.3`, `5m`, `1h30m`): no identifier follows one directly in PromQL.
const NUMBER = /[0-9.][0-9a-zA-Z_.]*(?:[+-][0-9]+)?/y;
const STRING = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/y;
const MATCHER = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)\s*,?/y;

/** A call being read: its function name and how many top-level arguments came before the current one. */
interface Call {
  name: string;
  arg: number;
}

/**
 * Reads one expression left to right. An identifier followed by `(` is a function or aggregation; `by`/`without`
 * followed by `(` lists grouping labels; any other identifier outside strings, `[…]` ranges and `{…}` matchers is
 * a metric name, with the matchers in the `{…}` that follows it. Inside label_replace the 4th argument (a string)
 * is the source label; inside Grafana's label_values the 2nd argument is a label, not a metric.
 */
export function parseQuery(expr: string): Query {
  const selectors: Selector[] = [];
  const labels = new Set<string>();
  const calls: Call[] = [];
  let i = 0;
  const at = (re: RegExp): RegExpExecArray | null => {
    re.lastIndex = i;
    const m = re.exec(expr);
    if (m) i = re.lastIndex;
    return m;
  };
  const skipSpace = () => at(SPACE);
  while (i < expr.length) {
    const c = expr[i]!;
    const call = calls[calls.length - 1];
    if (c === '"' || c === "'" || c === '`') {
      const literal = at(STRING)?.[0] ?? expr.slice(i);
      if (call?.name === 'label_replace' && call.arg === 3) labels.add(unquote(literal));
      if (i >= expr.length) break;
      continue;
    }
    if (/[0-9.]/.test(c)) {
      if (!at(NUMBER)) i++;
      continue;
    }
    if (c === '[') {
      i = expr.indexOf(']', i) + 1 || expr.length;
      continue;
    }
    if (c === '(') {
      calls.push({ name: '', arg: 0 });
      i++;
      continue;
    }
    if (c === ')') {
      calls.pop();
      i++;
      continue;
    }
    if (c === ',' && call) {
      call.arg++;
      i++;
      continue;
    }
    const ident = at(IDENT);
    if (!ident) {
      i++;
      continue;
    }
    const word = ident[0];
    skipSpace();
    if (expr[i] === '(') {
      i++;
      if (word === 'by' || word === 'without') {
        const close = expr.indexOf(')', i);
        for (const label of expr.slice(i, close).split(',')) if (label.trim()) labels.add(label.trim());
        i = close + 1;
      } else calls.push({ name: word, arg: 0 });
      continue;
    }
    if (KEYWORDS.has(word.toLowerCase()) || AGGREGATIONS.has(word)) continue;
    if (call?.name === 'label_values' && call.arg === 1) {
      labels.add(word);
      continue;
    }
    const matchers: Matcher[] = [];
    if (expr[i] === '{') {
      i++;
      for (let m = at(MATCHER); m; m = at(MATCHER)) matchers.push({ label: m[1]!, op: m[2] as Matcher['op'], value: unquote(m[3]!) });
      skipSpace();
      if (expr[i] !== '}') throw new Error(`cannot read the label matchers at ${i} in ${expr}`);
      i++;
    }
    selectors.push({ metric: word, matchers });
  }
  return { selectors, labels: [...labels] };
}

function unquote(literal: string): string {
  if (literal.startsWith('`')) return literal.slice(1, -1);
  return literal.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** Every PromQL text of a Grafana dashboard: panel targets' `expr` and the templating variables' queries. */
export function dashboardQueries(dashboard: unknown): Array<{ where: string; expr: string }> {
  const found: Array<{ where: string; expr: string }> = [];
  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) return node.forEach((child) => walk(child, where));
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    const here = typeof o.title === 'string' ? o.title : typeof o.name === 'string' ? `variable ${o.name}` : where;
    if (typeof o.expr === 'string') found.push({ where: here, expr: o.expr });
    // A query variable of the Prometheus data source: `label_values(…)` (the `query` object form repeats it).
    if (o.type === 'query' && typeof o.definition === 'string' && o.definition !== '') found.push({ where: here, expr: o.definition });
    for (const [key, value] of Object.entries(o)) if (key !== 'expr') walk(value, here);
  };
  walk(dashboard, 'dashboard');
  return found;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text-format scrape (the escapes prom-client writes: \\, \" and \n). */
export function parseScrape(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

/** Whether a sample satisfies a matcher; regexes are anchored, and a missing label is the empty string (PromQL). */
export function matches(sample: Sample, matcher: Matcher, variables: Record<string, string>): boolean {
  const value = sample.labels[matcher.label] ?? '';
  const wanted = matcher.value.replace(/\$(\w+)|\$\{(\w+)\}/g, (whole, a?: string, b?: string) => variables[a ?? b ?? ''] ?? whole);
  switch (matcher.op) {
    case '=':
      return value === wanted;
    case '!=':
      return value !== wanted;
    case '=~':
      return new RegExp(`^(?:${wanted})$`).test(value);
    case '!~':
      return !new RegExp(`^(?:${wanted})$`).test(value);
  }
}
