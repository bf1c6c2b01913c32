// The dashboard test's PromQL reader: what it takes for metric names and labels, on expressions of the kinds the
// Traefik dashboards use, so a series the dashboards need cannot slip past it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardQueries, matches, parseQuery, parseScrape, type Query } from './promql.test.helper.js';

const cases: Array<{ expr: string; expected: Query }> = [
  { expr: 'count(traefik_config_reloads_total)', expected: { selectors: [{ metric: 'traefik_config_reloads_total', matchers: [] }], labels: [] } },
  {
    expr: 'sum(rate(traefik_entrypoint_requests_total{entrypoint=~"$entrypoint"}[$interval])) by (entrypoint)',
    expected: { selectors: [{ metric: 'traefik_entrypoint_requests_total', matchers: [{ label: 'entrypoint', op: '=~', value: '$entrypoint' }] }], labels: ['entrypoint'] },
  },
  {
    expr: 'sum(rate(a_bucket{le="0.3",code="200"}[5m])) by (method) / 2 / sum(rate(a_count{code="200"}[5m])) by (method)',
    expected: {
      selectors: [
        { metric: 'a_bucket', matchers: [{ label: 'le', op: '=', value: '0.3' }, { label: 'code', op: '=', value: '200' }] },
        { metric: 'a_count', matchers: [{ label: 'code', op: '=', value: '200' }] },
      ],
      labels: ['method'],
    },
  },
  {
    expr: 'topk(15, label_replace(sum by (service,code) (rate(s_total{code!~"2..|5..",protocol="http"}[1m])) > 0, "dst", "$1", "src", "([^@]+)@.*"))',
    expected: {
      selectors: [{ metric: 's_total', matchers: [{ label: 'code', op: '!~', value: '2..|5..' }, { label: 'protocol', op: '=', value: 'http' }] }],
      labels: ['service', 'code', 'src'],
    },
  },
  { expr: 'x / y offset 5m > bool 1e3', expected: { selectors: [{ metric: 'x', matchers: [] }, { metric: 'y', matchers: [] }], labels: [] } },
  { expr: 'label_values(traefik_open_connections, entrypoint)', expected: { selectors: [{ metric: 'traefik_open_connections', matchers: [] }], labels: ['entrypoint'] } },
];

for (const { expr, expected } of cases) {
  test(`parseQuery: ${expr}`, () => assert.deepEqual(parseQuery(expr), expected));
}

test('dashboardQueries finds panel targets and query variables, not other strings', () => {
  const dashboard = {
    panels: [{ title: 'A', targets: [{ expr: 'up' }], description: 'not_a_query' }],
    templating: { list: [{ name: 'ep', type: 'query', definition: 'label_values(m, l)' }, { name: 'iv', type: 'interval', query: '1m,5m' }] },
  };
  assert.deepEqual(dashboardQueries(dashboard), [
    { where: 'A', expr: 'up' },
    { where: 'variable ep', expr: 'label_values(m, l)' },
  ]);
});

test('parseScrape and matches: anchored regexes, escapes, a missing label is empty', () => {
  const { samples, types } = parseScrape('# TYPE m counter\nm{a="x\\"y",b="web"} 3\nm 1\n');
  assert.equal(types.get('m'), 'counter');
  assert.deepEqual(samples[0], { name: 'm', labels: { a: 'x"y', b: 'web' }, value: 3 });
  assert.equal(matches(samples[0]!, { label: 'b', op: '=~', value: 'we' }, {}), false);
  assert.equal(matches(samples[0]!, { label: 'b', op: '=~', value: '$ep' }, { ep: '.*' }), true);
  assert.equal(matches(samples[1]!, { label: 'b', op: '!=', value: 'web' }, {}), true);
  assert.equal(matches(samples[1]!, { label: 'b', op: '=', value: '' }, {}), true);
});
