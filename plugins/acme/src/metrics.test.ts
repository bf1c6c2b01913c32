// tls_certs_not_after covers ACME certificates: the wharf command (with the metrics plugin of the distribution) shows
// the expiry of the certificate pebble issued, for its names, once it is served — and Traefik's series with its serial.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { eventually, freePort, spawnWharf } from '@wharf/test-helpers';
import { ISSUANCE_MS, pebbleSuite, routers, served, staticConfig } from './pebble.test.helper.js';

const suite = pebbleSuite('wharf-acme-metrics-');
const { ports, dir } = suite;

/** The sample of `metric` whose labels contain `label`, as [labels, value]. */
function sample(text: string, metric: string, label: string): [string, number] | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{`) && l.includes(label));
  return line ? [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))] : undefined;
}

for (const names of ['wharf', 'traefik'] as const) {
  test(`${names}_tls_certs_not_after shows the ACME certificate's expiry once it is issued`, async () => {
    const metricsPort = await freePort();
    const storage = dir.file(`${names}.json`);
    const acme = { email: 'ops@example.test', caServer: suite.pebble.directory, caCertificates: [suite.pebble.apiCAFile], keyType: 'EC256', storage, httpChallenge: { entryPoint: 'web' } };
    const config = staticConfig(ports, acme) as { entryPoints: Record<string, unknown> } & Record<string, unknown>;
    config.entryPoints.traefik = { address: `127.0.0.1:${metricsPort}` };
    config.metrics = { prometheus: { names } };
    config.providers = { file: { filename: dir.write(`${names}-dynamic.json`, JSON.stringify(routers(suite.backend.url, { app: { rule: 'Host(`metrics.test`) || Host(`www.metrics.test`)', tls: { certResolver: 'le' } } }))) } };
    const wharf = spawnWharf([`--configFile=${dir.write(`${names}.json`, JSON.stringify(config))}`]);
    try {
      const metric = `${names}_tls_certs_not_after`;
      const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const [labels, value] = await eventually(async () => sample(await scrape(), metric, 'metrics.test'), `${metric} for metrics.test`, ISSUANCE_MS);
      const stored = JSON.parse(readFileSync(storage, 'utf8')) as { le: { Certificates: Array<{ certificate: string }> } };
      const issued = new X509Certificate(Buffer.from(stored.le.Certificates[0]!.certificate, 'base64'));
      assert.equal(value, Math.floor(Date.parse(issued.validTo) / 1000), 'the expiry of the certificate pebble issued');
      assert.match(labels, /cn="metrics\.test"/);
      assert.match(labels, /sans="metrics\.test,www\.metrics\.test"/);
      if (names === 'traefik') assert.match(labels, new RegExp(`serial="${BigInt(`0x${issued.serialNumber}`).toString()}"`));
      assert.equal((await served(ports.websecure, 'www.metrics.test', suite.root)).authorized, true);
    } finally {
      await wharf.stop();
    }
  });
}
