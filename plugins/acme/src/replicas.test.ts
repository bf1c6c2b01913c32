// Two gateways sharing one real redis-server as their ACME store: one order at pebble, both serve the certificate;
// pebble validates HTTP-01 on the first gateway only, whichever replica ordered.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import tlsPlugin from '@wharf/plugin-tls';
import { eventually, freePort, startRedisServer, startServer, type RedisServerProcess } from '@wharf/test-helpers';
import acmePlugin from './index.js';
import { routers, served, startPebble, staticConfig, type Pebble, ISSUANCE_MS } from './pebble.test.helper.js';


let pebble: Pebble;
let redis: RedisServerProcess;
let backend: { url: string; close(): Promise<void> };
const portsA = { web: 0, websecure: 0 };

before(async () => {
  Object.assign(portsA, { web: await freePort(), websecure: await freePort() });
  pebble = await startPebble({ httpPort: portsA.web, tlsPort: portsA.websecure });
  redis = await startRedisServer();
  backend = await startServer((_req, res) => res.end('ok'));
});

after(async () => {
  await backend.close();
  await redis.stop();
  await pebble.stop();
});

test('two gateways on one Redis store: one order at the CA, both serve the certificate', async () => {
  const portsB = { web: await freePort(), websecure: await freePort() };
  const acme = { email: 'ops@example.test', caServer: pebble.directory, caCertificates: [pebble.apiCAFile], keyType: 'EC256', storage: redis.url, httpChallenge: { entryPoint: 'web' } };
  const dynamic = routers(backend.url, { app: { rule: 'Host(`shared.test`)', tls: { certResolver: 'le' } } });
  const root = await pebble.issuerRoot();
  const gateways: EmbeddedGateway[] = [];
  try {
    // B starts first, so it may well be the one that orders, and pebble still validates through A.
    gateways.push(await startGateway({ plugins: [tlsPlugin, acmePlugin], config: staticConfig(portsB, acme), dynamic }));
    gateways.push(await startGateway({ plugins: [tlsPlugin, acmePlugin], config: staticConfig(portsA, acme), dynamic }));
    for (const port of [portsA.websecure, portsB.websecure]) {
      const cert = await eventually(async () => {
        const s = await served(port, 'shared.test', root);
        return s.authorized && s;
      }, `the shared certificate served on ${port}`, ISSUANCE_MS);
      assert.equal(cert.subjectaltname, 'DNS:shared.test');
    }
    const [a, b] = await Promise.all([served(portsA.websecure, 'shared.test', root), served(portsB.websecure, 'shared.test', root)]);
    assert.equal(a.serial, b.serial);
    assert.equal(pebble.issued(), 1, 'exactly one certificate issued for two replicas');
    assert.equal((pebble.output().match(/There are now \d+ accounts in memory/g) ?? []).length, 1, 'one ACME account for two replicas');
  } finally {
    await Promise.all(gateways.map((g) => g.stop()));
  }
});

test('Redis unreachable: the gateway starts, serves the default certificate, and the routers show why', async () => {
  const ports = { web: await freePort(), websecure: await freePort() };
  const redisPort = await freePort();
  const acme = { email: 'ops@example.test', caServer: pebble.directory, caCertificates: [pebble.apiCAFile], keyType: 'EC256', storage: `redis://:secret@127.0.0.1:${redisPort}`, httpChallenge: { entryPoint: 'web' } };
  const gw = await startGateway({ plugins: [tlsPlugin, acmePlugin], config: staticConfig(ports, acme), dynamic: routers(backend.url, { app: { rule: 'Host(`nostore.test`)', tls: { certResolver: 'le' } } }) });
  try {
    const errors = await eventually(() => gw.info.routers['app@inline']!.errors?.join('\n'), 'the storage error on the router', ISSUANCE_MS);
    assert.match(errors, new RegExp(`acme resolver le: cannot obtain a certificate for nostore\\.test: Redis store redis://127\\.0\\.0\\.1:${redisPort}: .+; retrying in 60s`));
    assert.doesNotMatch(errors, /secret/, 'the password is never shown');
    const cert = await served(ports.websecure, 'nostore.test', await pebble.issuerRoot());
    assert.equal(cert.issuer, 'WHARF DEFAULT CERT');
  } finally {
    await gw.stop();
  }
});
