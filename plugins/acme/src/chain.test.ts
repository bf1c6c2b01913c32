// preferredChain against a pebble offering an alternate chain to a second root: the resolver keeps the chain whose
// issuer has the configured common name, so clients trusting only that root verify the served certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { startGateway } from '@wharf/core';
import tlsPlugin from '@wharf/plugin-tls';
import { eventually } from '@wharf/test-helpers';
import acmePlugin from './index.js';
import { ISSUANCE_MS, pebbleSuite, routers, served, staticConfig } from './pebble.test.helper.js';

const suite = pebbleSuite('wharf-acme-chain-', { alternateRoots: 1 });
const { ports, dir } = suite;

function commonName(pem: string): string {
  const cn = new X509Certificate(pem).subject.split('\n').find((part) => part.startsWith('CN='));
  return cn!.slice('CN='.length);
}

async function certifiedFor(domain: string, preferredChain?: string) {
  const acme = { email: 'ops@example.test', caServer: suite.pebble.directory, caCertificates: [suite.pebble.apiCAFile], keyType: 'EC256', storage: dir.file(`${domain}.json`), httpChallenge: { entryPoint: 'web' }, ...(preferredChain ? { preferredChain } : {}) };
  const gw = await startGateway({ plugins: [tlsPlugin, acmePlugin], config: staticConfig(ports, acme), dynamic: routers(suite.backend.url, { app: { rule: `Host(\`${domain}\`)`, tls: { certResolver: 'le' } } }) });
  const roots = [await suite.pebble.issuerRoot(0), await suite.pebble.issuerRoot(1)];
  try {
    await eventually(async () => {
      const byRoot = await Promise.all(roots.map((root) => served(ports.websecure, domain, root)));
      return byRoot.some((s) => s.authorized);
    }, `a certificate for ${domain}`, ISSUANCE_MS);
    return await Promise.all(roots.map(async (root) => (await served(ports.websecure, domain, root)).authorized));
  } finally {
    await gw.stop();
  }
}

test("preferredChain: the alternate chain whose issuer has that common name is served; without it, the CA's default", async () => {
  const alternate = commonName(await suite.pebble.issuerRoot(1));
  assert.notEqual(alternate, commonName(await suite.pebble.issuerRoot(0)));
  assert.deepEqual(await certifiedFor('default-chain.test'), [true, false], 'the default chain leads to root 0');
  assert.deepEqual(await certifiedFor('preferred-chain.test', alternate), [false, true], `the chain issued by ${alternate} leads to root 1`);
});
