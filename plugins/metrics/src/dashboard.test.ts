// Traefik's official Grafana dashboards (testdata/grafana, copied from traefik/traefik contrib/grafana; see
// SOURCE.md there) against a scrape of Wharf with --metrics.prometheus.names=traefik: every series selector of every
// query finds samples that satisfy its label matchers, and carries every label the query groups or relabels by.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dashboardQueries, matches, parseQuery } from './promql.test.helper.js';
import { startHarness, type Harness } from './traefik.test.helper.js';

const DASHBOARDS = ['traefik.json', 'traefik-kubernetes.json'];
// Grafana variables as "All" selects them: `$service.*` and `$entrypoint` become regexes matching anything.
const ALL = { entrypoint: '.*', service: '.*' };

let h: Harness;

before(async () => {
  h = await startHarness();
});

after(async () => {
  await h.close();
});

for (const file of DASHBOARDS) {
  test(`${file}: every series its queries select exists in the scrape, with the labels they use`, async () => {
    const dashboard: unknown = JSON.parse(await readFile(new URL(`../testdata/grafana/${file}`, import.meta.url), 'utf8'));
    const queries = dashboardQueries(dashboard);
    assert.ok(queries.length >= 10, `${file}: its queries were found (${queries.length})`);
    const metricNames = new Set<string>();
    for (const { where, expr } of queries) {
      const { selectors, labels } = parseQuery(expr);
      assert.ok(selectors.length > 0, `${where}: a series selector in ${expr}`);
      for (const { metric, matchers } of selectors) {
        metricNames.add(metric);
        const named = h.samples.filter((s) => s.name === metric);
        assert.ok(named.length > 0, `${where}: no ${metric} in the scrape (${expr})`);
        const selected = named.filter((s) => matchers.every((m) => matches(s, m, ALL)));
        const wanted = matchers.map((m) => `${m.label}${m.op}"${m.value}"`).join(',');
        assert.ok(selected.length > 0, `${where}: no ${metric} sample matches {${wanted}}`);
        for (const label of [...labels, ...matchers.map((m) => m.label)]) {
          assert.ok(
            selected.every((s) => label in s.labels),
            `${where}: ${metric} samples lack the label '${label}' (${expr})`,
          );
        }
      }
    }
    // What the two dashboards select, as read from them: the test covers all of it.
    assert.deepEqual([...metricNames].sort(), [
      'traefik_config_reloads_total',
      'traefik_entrypoint_request_duration_seconds_bucket',
      'traefik_entrypoint_request_duration_seconds_count',
      'traefik_entrypoint_requests_total',
      'traefik_open_connections',
      'traefik_service_request_duration_seconds_bucket',
      'traefik_service_request_duration_seconds_count',
      'traefik_service_request_duration_seconds_sum',
      'traefik_service_requests_bytes_total',
      'traefik_service_requests_total',
      'traefik_service_responses_bytes_total',
    ]);
  });
}
