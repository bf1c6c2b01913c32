// `storage: redis` with a `redis` section (the connection settings shared with rateLimit): two gateways on one
// real redis-server reached as an ACL user in a chosen database, then over TLS with a private CA and a client
// certificate, order one certificate at pebble and both serve it. Pebble validates through gateway A.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import tlsPlugin from '@wharf/plugin-tls';
import { eventually, freePort, makeCA, makeCert, startRedisServer, type RedisServerProcess } from '@wharf/test-helpers';
import acmePlugin from './index.js';
import { ISSUANCE_MS, pebbleSuite, routers, served, verifiedCertificate, staticConfig } from './pebble.test.helper.js';

const suite = pebbleSuite('wharf-acme-redis-section-');
const servers: RedisServerProcess[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

const PASSWORD = 'acme-s3cret';

/** Gateway A on the suite's ports (where pebble validates) and B on its own, both on `redis`, both wanting `domain`. */
async function twoGateways(domain: string, redis: Record<string, unknown>): Promise<[EmbeddedGateway, EmbeddedGateway, number]> {
  const acme = { email: 'ops@example.test', caServer: suite.pebble.directory, caCertificates: [suite.pebble.apiCAFile], keyType: 'EC256', storage: 'redis', redis, httpChallenge: { entryPoint: 'web' } };
  const dynamic = routers(suite.backend.url, { app: { rule: `Host(\`${domain}\`)`, tls: { certResolver: 'le' } } });
  const portsB = { web: await freePort(), websecure: await freePort() };
  const start = (ports: { web: number; websecure: number }) => startGateway({ plugins: [tlsPlugin, acmePlugin], config: staticConfig(ports, acme), dynamic });
  return [await start(suite.ports), await start(portsB), portsB.websecure];
}

/** Both gateways serve one certificate for `domain`, from one order at the CA. */
async function assertSharedCertificate(domain: string, portB: number, ordersBefore: number): Promise<void> {
  const servedBy = (port: number) => verifiedCertificate(port, domain, suite.root, `the certificate for ${domain} on ${port}`);
  const [a, b] = [await servedBy(suite.ports.websecure), await servedBy(portB)];
  assert.equal(a.subjectaltname, `DNS:${domain}`);
  assert.equal(a.serial, b.serial, 'the same certificate on both gateways');
  assert.equal(suite.pebble.orders() - ordersBefore, 1, 'one order for two gateways');
}

test('an ACL user with a password and a database: one order, both gateways serve it, the store is in that database', async () => {
  const server = await startRedisServer('127.0.0.1', { args: ['--user', 'default', 'off', '--user', 'wharf', 'on', `>${PASSWORD}`, '~wharf:*', '&*', '+@all'] });
  servers.push(server);
  const ordersBefore = suite.pebble.orders();
  const [a, b, portB] = await twoGateways('acl.redis.test', { endpoints: [`127.0.0.1:${server.port}`], username: 'wharf', password: PASSWORD, db: 3 });
  try {
    await assertSharedCertificate('acl.redis.test', portB, ordersBefore);
    const reader = new Redis({ port: server.port, username: 'wharf', password: PASSWORD, db: 3 });
    try {
      assert.deepEqual(await reader.hkeys('wharf:acme:le:certificates'), ['acl.redis.test'], 'stored in db 3 under the ACL user');
    } finally {
      reader.disconnect();
    }
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('TLS with a private CA and a required client certificate: one order, both gateways serve it', async () => {
  const ca = await makeCA('Redis private CA');
  const server = await startRedisServer('127.0.0.1', { tls: { server: await makeCert(['127.0.0.1'], { ca }), ca } });
  servers.push(server);
  const client = await makeCert(['wharf'], { ca, usage: 'client' });
  const tls = { ca: suite.dir.write('redis-ca.pem', ca.cert), cert: suite.dir.write('redis-client.pem', client.cert), key: suite.dir.write('redis-client-key.pem', client.key) };
  const ordersBefore = suite.pebble.orders();
  const [a, b, portB] = await twoGateways('tls.redis.test', { endpoints: [`127.0.0.1:${server.port}`], tls });
  try {
    await assertSharedCertificate('tls.redis.test', portB, ordersBefore);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('a wrong password: the routers show the store (without the password) and why, the default certificate is served', async () => {
  const server = await startRedisServer('127.0.0.1', { args: ['--user', 'default', 'off', '--user', 'wharf', 'on', `>${PASSWORD}`, '~wharf:*', '&*', '+@all'] });
  servers.push(server);
  const ports = { web: await freePort(), websecure: await freePort() };
  const acme = { email: 'ops@example.test', caServer: suite.pebble.directory, caCertificates: [suite.pebble.apiCAFile], storage: 'redis', redis: { endpoints: [`127.0.0.1:${server.port}`], username: 'wharf', password: 'not-the-password', db: 2 }, httpChallenge: { entryPoint: 'web' } };
  const gw = await startGateway({ plugins: [tlsPlugin, acmePlugin], config: staticConfig(ports, acme), dynamic: routers(suite.backend.url, { app: { rule: 'Host(`wrongpass.test`)', tls: { certResolver: 'le' } } }) });
  try {
    const errors = await eventually(() => gw.info.routers['app@inline']!.errors?.join('\n'), 'the storage error on the router', ISSUANCE_MS);
    assert.match(errors, new RegExp(`acme resolver le: cannot obtain a certificate for wrongpass\\.test: Redis store redis://127\\.0\\.0\\.1:${server.port}/2: .*WRONGPASS`));
    assert.doesNotMatch(errors, /not-the-password/, 'the password is never shown');
    assert.equal((await served(ports.websecure, 'wrongpass.test', suite.root)).issuer, 'WHARF DEFAULT CERT');
  } finally {
    await gw.stop();
  }
});
