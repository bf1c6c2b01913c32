// External account binding (eab.kid, eab.hmacEncoded) against a pebble that requires it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startGateway } from '@wharf/core';
import tlsPlugin from '@wharf/plugin-tls';
import { eventually } from '@wharf/test-helpers';
import acmePlugin from './index.js';
import { routers, served, staticConfig, ISSUANCE_MS, pebbleSuite } from './pebble.test.helper.js';


const eab = { kid: 'wharf-kid', hmac: randomBytes(32).toString('base64url') };
const suite = pebbleSuite('wharf-acme-eab-', { eab });
const { ports, dir } = suite;

function acme(storage: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { email: 'ops@example.test', caServer: suite.pebble.directory, caCertificates: [suite.pebble.apiCAFile], keyType: 'EC256', storage: dir.file(storage), tlsChallenge: {}, ...extra };
}

test('a CA requiring external account binding: refused without eab (error on the router), issued with it', async () => {
  const without = await startGateway({ plugins: [tlsPlugin, acmePlugin], config: staticConfig(ports, acme('none.json')), dynamic: routers(suite.backend.url, { app: { rule: 'Host(`eab.test`)', tls: { certResolver: 'le' } } }) });
  try {
    const errors = await eventually(() => without.info.routers['app@inline']!.errors?.join('\n'), 'the refusal on the router', ISSUANCE_MS);
    assert.match(errors, /acme resolver le: cannot obtain a certificate for eab\.test: .*externalAccountBinding/);
  } finally {
    await without.stop();
  }
  const withEab = await startGateway({
    plugins: [tlsPlugin, acmePlugin],
    config: staticConfig(ports, acme('eab.json', { eab: { kid: eab.kid, hmacEncoded: eab.hmac } })),
    dynamic: routers(suite.backend.url, { app: { rule: 'Host(`eab.test`)', tls: { certResolver: 'le' } } }),
  });
  try {
    const root = await suite.pebble.issuerRoot();
    await eventually(async () => (await served(ports.websecure, 'eab.test', root)).authorized, 'a certificate with external account binding', ISSUANCE_MS);
  } finally {
    await withEab.stop();
  }
});
