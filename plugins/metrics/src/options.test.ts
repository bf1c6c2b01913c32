// --metrics.prometheus.* flags → the options the recorders use, and the errors that name a bad option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeStatic, PluginRegistry, readStaticSources } from '@wharf/core/config';
import { startGateway } from '@wharf/core';
import metrics from './index.js';
import { compileOptions, type MetricsOptions, type StaticConfig } from './options.js';

/** The flags decoded as the gateway decodes them, then checked by the plugin. */
function optionsFrom(flags: string[]): MetricsOptions {
  const config = decodeStatic(readStaticSources(flags, {}), new PluginRegistry().register(metrics)) as { metrics?: StaticConfig };
  const prometheus = config.metrics?.prometheus;
  assert.ok(prometheus, 'the prometheus section is present');
  return compileOptions(prometheus, config.metrics?.addInternals);
}

const cases: Array<{ desc: string; flags: string[]; expected: Partial<MetricsOptions> }> = [
  {
    desc: 'defaults: wharf names, Traefik defaults, no header labels',
    flags: ['--metrics.prometheus'],
    expected: { names: 'wharf', entryPoint: 'traefik', buckets: [0.1, 0.3, 1.2, 5], addEntryPointsLabels: true, addRoutersLabels: false, addServicesLabels: true, manualRouting: false, headerLabelList: [], addInternals: false },
  },
  { desc: 'names=traefik', flags: ['--metrics.prometheus.names=traefik'], expected: { names: 'traefik' } },
  { desc: 'metrics.addInternals, beside the prometheus section', flags: ['--metrics.addInternals=true', '--metrics.prometheus.names=traefik'], expected: { addInternals: true, names: 'traefik' } },
  { desc: 'names is case-insensitive like every enumerated option', flags: ['--metrics.prometheus.names=Traefik'], expected: { names: 'traefik' } },
  {
    desc: 'header labels keep the label as written; the header is matched in lower case',
    flags: ['--metrics.prometheus.headerLabels.userAgent=User-Agent', '--metrics.prometheus.headerlabels.tenant=X-Tenant'],
    expected: { headerLabelList: [{ label: 'userAgent', header: 'user-agent' }, { label: 'tenant', header: 'x-tenant' }] },
  },
  {
    desc: 'switches and buckets as Traefik spells them',
    flags: ['--metrics.prometheus.addEntryPointsLabels=false', '--metrics.prometheus.addRoutersLabels=true', '--metrics.prometheus.addServicesLabels=false', '--metrics.prometheus.buckets=0.5,2.5'],
    expected: { addEntryPointsLabels: false, addRoutersLabels: true, addServicesLabels: false, buckets: [0.5, 2.5] },
  },
];

for (const { desc, flags, expected } of cases) {
  test(`options: ${desc}`, () => {
    const options = optionsFrom(flags);
    const actual = Object.fromEntries(Object.keys(expected).map((key) => [key, options[key as keyof MetricsOptions]]));
    assert.deepEqual(actual, expected);
  });
}

const errors: Array<{ desc: string; flags: string[]; message: RegExp }> = [
  { desc: 'an unknown names value', flags: ['--metrics.prometheus.names=prometheus'], message: /metrics\.prometheus\.names.*prometheus/ },
  { desc: 'a label name Prometheus refuses', flags: ['--metrics.prometheus.headerLabels.user-agent=User-Agent'], message: /^metrics\.prometheus\.headerLabels\.user-agent: a Prometheus label name .* got 'user-agent'$/ },
  { desc: 'a reserved label name', flags: ['--metrics.prometheus.headerLabels.__name=X-A'], message: /^metrics\.prometheus\.headerLabels\.__name: .*not starting with a digit or '__'; got '__name'$/ },
  { desc: 'a label the series already have', flags: ['--metrics.prometheus.headerLabels.service=X-Service'], message: /^metrics\.prometheus\.headerLabels\.service: 'service' is already a label of the requests_total series; choose another label name, got 'service'$/ },
  { desc: 'a header name with a space', flags: ['--metrics.prometheus.headerLabels.tenant=X Tenant'], message: /^metrics\.prometheus\.headerLabels\.tenant: not a header name .* got 'X Tenant'$/ },
  { desc: 'an empty header name', flags: ['--metrics.prometheus.headerLabels.tenant='], message: /metrics\.prometheus\.headerLabels\.tenant/ },
  { desc: 'a bucket that is not a positive number', flags: ['--metrics.prometheus.buckets=0.1,-1'], message: /metrics\.prometheus\.buckets/ },
];

for (const { desc, flags, message } of errors) {
  test(`options error: ${desc}`, () => {
    assert.throws(() => optionsFrom(flags), (err: Error) => {
      assert.match(err.message, message);
      return true;
    });
  });
}

test('a bad header label stops the gateway at start-up with the option named', async () => {
  await assert.rejects(
    startGateway({ plugins: [metrics], args: ['--entrypoints.traefik.address=127.0.0.1:0', '--metrics.prometheus.names=traefik', '--metrics.prometheus.headerLabels.code=X-Code'] }),
    /metrics\.prometheus\.headerLabels\.code: 'code' is already a label/,
  );
});
