// The wharf command with --workers=2 and acme.json: every worker runs the resolver, but the lock and the pending
// challenges live in the primary, so one order is made and whichever worker the CA reaches answers it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, spawnWharf } from '@wharf/test-helpers';
import { routers, served, staticConfig, ISSUANCE_MS, pebbleSuite } from './pebble.test.helper.js';


const suite = pebbleSuite('wharf-acme-workers-');
const { ports, dir } = suite;

test('--workers=2 with acme.json: one order, the certificate served by every worker', async () => {
  const acme = { email: 'ops@example.test', caServer: suite.pebble.directory, caCertificates: [suite.pebble.apiCAFile], keyType: 'EC256', storage: dir.file('acme.json'), httpChallenge: { entryPoint: 'web' } };
  const config = dir.write('wharf.json', JSON.stringify({ ...staticConfig(ports, acme), workers: 2, providers: { file: { filename: dir.file('dynamic.json') } } }));
  dir.write('dynamic.json', JSON.stringify(routers(suite.backend.url, { app: { rule: 'Host(`workers.test`)', tls: { certResolver: 'le' } } })));
  const wharf = spawnWharf([`--configFile=${config}`]);
  try {
    const root = await suite.pebble.issuerRoot();
    // New connections are spread over the workers: several handshakes in a row reach both.
    await eventually(async () => {
      const all = await Promise.all(Array.from({ length: 6 }, () => served(ports.websecure, 'workers.test', root)));
      return all.every((s) => s.authorized);
    }, `every worker serving the certificate\n${wharf.stdout()}${wharf.stderr()}`, ISSUANCE_MS);
    assert.equal(suite.pebble.orders(), 1, 'one order for two workers');
    assert.equal(suite.pebble.issued(), 1, 'one certificate for two workers');
  } finally {
    await wharf.stop();
  }
});
