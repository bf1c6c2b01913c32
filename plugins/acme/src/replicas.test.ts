// Two wharf processes sharing one real redis-server as their ACME store: one order at pebble, both serve the
// certificate; pebble validates on replica A only, so when B orders, A answers the CA's HTTP-01 request and TLS-ALPN-01
// handshake from what B published in Redis.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '@wharf/core';
import tlsPlugin from '@wharf/plugin-tls';
import { eventually, freePort, spawnWharf, startRedisServer, startServer, tempDir, type RedisServerProcess, type WharfProcess } from '@wharf/test-helpers';
import acmePlugin from './index.js';
import { routers, served, verifiedCertificate, startPebble, staticConfig, type Pebble, ISSUANCE_MS } from './pebble.test.helper.js';

let pebble: Pebble;
let redis: RedisServerProcess;
let backend: { url: string; close(): Promise<void> };
const portsA = { web: 0, websecure: 0 };
const dir = tempDir('wharf-acme-replicas-');

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
  dir.remove();
});

type Routers = Record<string, { rule: string; tls: Record<string, unknown> }>;

/** What differs from the first tests' replicas: another CA, another Redis database, other acme options. */
interface Setup {
  ca?: Pebble;
  storage?: string;
  acme?: Record<string, unknown>;
}

/** Resolvers `le` (HTTP-01 on web) and `alpn` (TLS-ALPN-01), both on the shared Redis store. */
function resolvers({ ca = pebble, storage = redis.url, acme: extra = {} }: Setup): Record<string, unknown> {
  const acme = { email: 'ops@example.test', caServer: ca.directory, caCertificates: [ca.apiCAFile], keyType: 'EC256', storage, ...extra };
  return { le: { acme: { ...acme, httpChallenge: { entryPoint: 'web' } } }, alpn: { acme: { ...acme, tlsChallenge: {} } } };
}

/** A wharf process (its own Node process, as a Swarm replica) on `ports`, with `routerSet` from a file provider. */
function replica(name: string, ports: { web: number; websecure: number }, routerSet: Routers, setup: Setup = {}): WharfProcess {
  const dynamic = dir.write(`${name}-dynamic.json`, JSON.stringify(routers(backend.url, routerSet)));
  const config = { ...staticConfig(ports, {}), certificatesResolvers: resolvers(setup), log: { level: 'INFO' }, providers: { file: { filename: dynamic } } };
  return spawnWharf([`--configFile=${dir.write(`${name}.json`, JSON.stringify(config))}`]);
}

/** The `certificate obtained` log lines of a replica for `domain`: the orders it made. */
function obtained(replicaProcess: WharfProcess, domain: string): number {
  return (replicaProcess.stdout() + replicaProcess.stderr()).split('\n').filter((line) => line.includes(`certificate obtained for ${domain} in`)).length;
}

async function servedBy(port: number, domain: string, root: string) {
  return verifiedCertificate(port, domain, root, `the shared certificate for ${domain} served on ${port}`);
}

test('two wharf processes on one Redis store wanting the same certificate: exactly one order at the CA, both serve it', async () => {
  const portsB = { web: await freePort(), websecure: await freePort() };
  const wanted = { app: { rule: 'Host(`shared.test`)', tls: { certResolver: 'le' } } };
  const root = await pebble.issuerRoot();
  const ordersBefore = pebble.orders();
  const issuedBefore = pebble.issued();
  const accountsBefore = (pebble.output().match(/There are now \d+ accounts in memory/g) ?? []).length;
  // Started together: both see the router at once and race for the lock.
  const replicas = [replica('race-a', portsA, wanted), replica('race-b', portsB, wanted)];
  try {
    const [a, b] = [await servedBy(portsA.websecure, 'shared.test', root), await servedBy(portsB.websecure, 'shared.test', root)];
    assert.equal(a.subjectaltname, 'DNS:shared.test');
    assert.equal(a.serial, b.serial, 'the same certificate on both replicas');
    assert.equal(pebble.orders() - ordersBefore, 1, 'exactly one order at the CA for two replicas');
    assert.equal(pebble.issued() - issuedBefore, 1, 'exactly one certificate issued');
    assert.equal(replicas.reduce((n, r) => n + obtained(r, 'shared.test'), 0), 1, 'one replica logged the order');
    assert.equal((pebble.output().match(/There are now \d+ accounts in memory/g) ?? []).length - accountsBefore, 1, 'one ACME account for two replicas');
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
  }
});

test('the replica that did not order answers the CA: HTTP-01 and TLS-ALPN-01 published by B in Redis, validated through A', async () => {
  const portsB = { web: await freePort(), websecure: await freePort() };
  const root = await pebble.issuerRoot();
  const ordersBefore = pebble.orders();
  // A wants nothing (it cannot order), B wants both; pebble sends every validation to A's ports.
  const a = replica('answer-a', portsA, {});
  // B starts once A listens: pebble validates on A only, and a validation before A is up fails B's order.
  await Promise.all([a.port('web'), a.port('websecure')]);
  const b = replica('answer-b', portsB, {
    http: { rule: 'Host(`http01.shared.test`)', tls: { certResolver: 'le' } },
    alpn: { rule: 'Host(`alpn.shared.test`)', tls: { certResolver: 'alpn' } },
  });
  try {
    for (const domain of ['http01.shared.test', 'alpn.shared.test']) {
      const onB = await servedBy(portsB.websecure, domain, root);
      const onA = await servedBy(portsA.websecure, domain, root);
      assert.equal(onA.serial, onB.serial, `A picked up the certificate B obtained for ${domain}, without restart`);
      assert.equal(obtained(b, domain), 1, `B ordered ${domain}`);
      assert.equal(obtained(a, domain), 0, `A did not order ${domain}`);
    }
    assert.equal(pebble.orders() - ordersBefore, 2, 'one order per domain');
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('a certificate B renews is picked up by A without restart', async () => {
  // A CA of its own issuing 10-minute certificates: with certificatesDuration=1 every check renews (renew.test.ts).
  const portsA2 = { web: await freePort(), websecure: await freePort() };
  const portsB2 = { web: await freePort(), websecure: await freePort() };
  const shortLived = await startPebble({ httpPort: portsA2.web, tlsPort: portsA2.websecure, validitySeconds: 600 });
  const setup = { ca: shortLived, storage: `${redis.url}/1`, acme: { certificatesDuration: 1 } };
  const root = await shortLived.issuerRoot();
  const a = replica('renew-a', portsA2, {}, setup);
  const b = replica('renew-b', portsB2, { app: { rule: 'Host(`renew.shared.test`)', tls: { certResolver: 'le' } } }, setup);
  try {
    const first = await servedBy(portsA2.websecure, 'renew.shared.test', root);
    // B renews at its next check (a configuration change runs one at once); A serves what B stored.
    dir.write('renew-b-dynamic.json', JSON.stringify(routers(backend.url, { app: { rule: 'Host(`renew.shared.test`)', tls: { certResolver: 'le' } }, other: { rule: 'Host(`other.shared.test`)', tls: {} } })));
    await eventually(async () => {
      const [onA, onB] = await Promise.all([served(portsA2.websecure, 'renew.shared.test', root), served(portsB2.websecure, 'renew.shared.test', root)]);
      return onA.authorized && onA.serial !== first.serial && onA.serial === onB.serial;
    }, 'the renewed certificate on A', ISSUANCE_MS);
    assert.ok(obtained(b, 'renew.shared.test') >= 2, 'B ordered and renewed');
    assert.equal(obtained(a, 'renew.shared.test'), 0, 'A never ordered');
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await shortLived.stop();
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
