// Certificates from a real ACME CA (pebble): HTTP-01 and TLS-ALPN-01 through real gateways, served by SNI, kept in
// acme.json (Traefik's format) and reused after a restart; unknown resolvers are router errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import tls from 'node:tls';
import { startGateway, type CertificateInfo, type EmbeddedGateway } from '@wharf/core';
import redirectScheme from '@wharf/plugin-redirectscheme';
import tlsPlugin from '@wharf/plugin-tls';
import { eventually, get, makeCA, makeCert } from '@wharf/test-helpers';
import acmePlugin from './index.js';
import { BLOCKED_DOMAIN, routers, served, verifiedCertificate, staticConfig, ISSUANCE_MS, pebbleSuite } from './pebble.test.helper.js';


const suite = pebbleSuite('wharf-acme-');
const { ports, dir } = suite;

function acmeOptions(extra: Record<string, unknown>): Record<string, unknown> {
  return { email: 'ops@example.test', caServer: suite.pebble.directory, caCertificates: [suite.pebble.apiCAFile], keyType: 'EC256', ...extra };
}

async function gateway(acme: Record<string, unknown>, dynamic: Record<string, unknown>): Promise<EmbeddedGateway> {
  return startGateway({ plugins: [tlsPlugin, acmePlugin], config: staticConfig(ports, acme), dynamic });
}

/** The same, with `web` redirecting everything to `websecure` (Traefik's http.redirections.entryPoint). */
async function redirectingGateway(acme: Record<string, unknown>, dynamic: Record<string, unknown>): Promise<EmbeddedGateway> {
  const config = staticConfig(ports, acme) as { entryPoints: { web: Record<string, unknown> } };
  config.entryPoints.web.http = { redirections: { entryPoint: { to: 'websecure', scheme: 'https' } } };
  return startGateway({ plugins: [tlsPlugin, redirectScheme, acmePlugin], config, dynamic });
}

test('HTTP-01 (answered ahead of the entrypoint redirection): a certificate for the Host() names, kept in acme.json and reused after a restart', async () => {
  const storage = dir.file('http01.json');
  const dynamic = routers(suite.backend.url, {
    app: { rule: 'Host(`app.test`) || Host(`www.app.test`)', tls: { certResolver: 'le' } },
    stray: { rule: 'Host(`stray.test`)', tls: { certResolver: 'nope' } },
  });
  const first = await redirectingGateway(acmeOptions({ storage, httpChallenge: { entryPoint: 'web' } }), dynamic);
  try {
    const redirected = (await get(ports.web, '/', 'app.test')).status;
    assert.ok(redirected === 301 || redirected === 308, `other requests on web are redirected (got ${redirected})`);
    assert.equal((await get(ports.web, '/.well-known/acme-challenge/unknown-token', 'app.test')).status, redirected, 'an unknown token is not answered');
    const cert = await verifiedCertificate(ports.websecure, 'app.test', suite.root, 'a certificate from pebble for app.test');
    assert.equal(cert.subjectaltname, 'DNS:app.test, DNS:www.app.test');
    assert.match(cert.issuer, /Pebble/);
    const stray = first.info.routers['stray@inline']!;
    assert.equal(stray.status, 'warning');
    assert.match(stray.errors!.join('\n'), /tls\.certResolver: no certificate resolver 'nope' \(defined: le\)/);
    assert.equal((await served(ports.websecure, 'stray.test', suite.root)).authorized, false, 'the default certificate for a router without a usable resolver');
    await eventually(() => statSync(storage, { throwIfNoEntry: false })?.size, 'acme.json written', ISSUANCE_MS);
    assert.equal(statSync(storage).mode & 0o777, 0o600);
    const stored = JSON.parse(readFileSync(storage, 'utf8')) as Record<string, { Account: { Email: string; PrivateKey: string; Registration: { uri: string } }; Certificates: Array<{ domain: { main: string; sans: string[] }; certificate: string; key: string; Store: string }> }>;
    assert.equal(stored.le!.Account.Email, 'ops@example.test');
    assert.match(stored.le!.Account.Registration.uri, /^https:\/\/127\.0\.0\.1:\d+\//);
    assert.deepEqual(stored.le!.Certificates.map((c) => ({ domain: c.domain, Store: c.Store })), [{ domain: { main: 'app.test', sans: ['www.app.test'] }, Store: 'default' }]);
    assert.match(Buffer.from(stored.le!.Certificates[0]!.certificate, 'base64').toString(), /^-----BEGIN CERTIFICATE-----/);
  } finally {
    await first.stop();
  }
  const ordersBefore = suite.pebble.orders();
  const servedBefore = JSON.parse(readFileSync(storage, 'utf8')) as unknown;
  const second = await gateway(acmeOptions({ storage, httpChallenge: { entryPoint: 'web' } }), dynamic);
  try {
    const cert = await verifiedCertificate(ports.websecure, 'www.app.test', suite.root, 'the stored certificate served after a restart');
    assert.equal(cert.subjectaltname, 'DNS:app.test, DNS:www.app.test');
    assert.equal(suite.pebble.orders(), ordersBefore, 'no new order after a restart');
    assert.deepEqual(JSON.parse(readFileSync(storage, 'utf8')), servedBefore);
  } finally {
    await second.stop();
  }
});

test('TLS-ALPN-01: the challenge is answered in the handshake of the TLS entrypoint; tls.domains chooses the names', async () => {
  const storage = dir.file('alpn.json');
  const dynamic = routers(suite.backend.url, {
    shop: { rule: 'Host(`shop.test`) && PathPrefix(`/cart`)', tls: { certResolver: 'le', domains: [{ main: 'shop.test', sans: ['pay.shop.test'] }] } },
  });
  const gw = await gateway(acmeOptions({ storage, tlsChallenge: {} }), dynamic);
  try {
    const cert = await verifiedCertificate(ports.websecure, 'pay.shop.test', suite.root, 'a certificate from pebble through TLS-ALPN-01');
    assert.equal(cert.subjectaltname, 'DNS:shop.test, DNS:pay.shop.test');
  } finally {
    await gw.stop();
  }
});

test('a router added later gets its certificate live, while earlier ones keep theirs', async () => {
  const storage = dir.file('live.json');
  const gw = await gateway(acmeOptions({ storage, httpChallenge: { entryPoint: 'web' } }), routers(suite.backend.url, { one: { rule: 'Host(`one.test`)', tls: { certResolver: 'le' } } }));
  let announced: readonly CertificateInfo[] = [];
  gw.on('certificates', (list: readonly CertificateInfo[]) => (announced = list));
  try {
    await eventually(async () => (await served(ports.websecure, 'one.test', suite.root)).authorized, 'one.test certified', ISSUANCE_MS);
    // What metrics (tls_certs_not_after) and the API are told: the ACME certificate with its expiry.
    const info = await eventually(() => announced.find((c) => c.names.includes('one.test')), 'one.test in the certificates event', ISSUANCE_MS);
    assert.equal(typeof info.notAfter, 'number');
    const kept = await served(ports.websecure, 'one.test', suite.root);
    assert.equal((await served(ports.websecure, 'two.test', suite.root)).authorized, false, 'the default certificate before any order');
    gw.configure(routers(suite.backend.url, { one: { rule: 'Host(`one.test`)', tls: { certResolver: 'le' } }, two: { rule: 'Host(`two.test`)', tls: { certResolver: 'le' } } }));
    await eventually(async () => (await served(ports.websecure, 'two.test', suite.root)).authorized, 'two.test certified live', ISSUANCE_MS);
    assert.equal((await served(ports.websecure, 'one.test', suite.root)).serial, kept.serial);
  } finally {
    await gw.stop();
  }
});

test("a Traefik-written acme.json loads: its certificate is served without an order, its account key is reused", async () => {
  const ca = await makeCA('Old CA');
  const legacy = await makeCert(['legacy.test', 'www.legacy.test'], { ca });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const accountKey = privateKey.export({ format: 'der', type: 'pkcs1' }).toString('base64');
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  // The shape Traefik v3 writes (pkg/provider/acme: StoredData, Account, CertAndStore), indented as it does.
  const fixture = {
    le: {
      Account: {
        Email: 'ops@example.test',
        Registration: { body: { status: 'valid', contact: ['mailto:ops@example.test'] }, uri: 'https://acme.example.invalid/acme/acct/42' },
        PrivateKey: accountKey,
        KeyType: '4096',
      },
      Certificates: [{ domain: { main: 'legacy.test', sans: ['www.legacy.test'] }, certificate: b64(legacy.cert), key: b64(legacy.key), Store: 'default' }],
    },
  };
  const storage = dir.write('traefik.json', JSON.stringify(fixture, null, 2));
  const ordersBefore = suite.pebble.orders();
  const gw = await gateway(
    acmeOptions({ storage, httpChallenge: { entryPoint: 'web' } }),
    routers(suite.backend.url, { legacy: { rule: 'Host(`legacy.test`) || Host(`www.legacy.test`)', tls: { certResolver: 'le' } }, fresh: { rule: 'Host(`fresh.test`)', tls: { certResolver: 'le' } } }),
  );
  try {
    const old = await verifiedCertificate(ports.websecure, 'www.legacy.test', ca.cert, "the certificate from Traefik's acme.json");
    assert.equal(old.subjectaltname, 'DNS:legacy.test, DNS:www.legacy.test');
    await eventually(async () => (await served(ports.websecure, 'fresh.test', suite.root)).authorized, 'fresh.test ordered with the stored account', ISSUANCE_MS);
    assert.equal(suite.pebble.orders(), ordersBefore + 1, 'only fresh.test was ordered');
    const stored = JSON.parse(readFileSync(storage, 'utf8')) as typeof fixture;
    assert.equal(stored.le.Account.PrivateKey, accountKey, "Traefik's account key is kept");
    assert.match(stored.le.Account.Registration.uri, /^https:\/\/127\.0\.0\.1:\d+\//, 'registered at this CA with that key');
    assert.deepEqual(stored.le.Certificates.map((c) => c.domain.main), ['legacy.test', 'fresh.test']);
    assert.deepEqual(stored.le.Certificates[0], fixture.le.Certificates[0]);
  } finally {
    await gw.stop();
  }
});

test('the CA refusing an order: the default certificate is served, the error names resolver and domain on the router', async () => {
  const gw = await gateway(acmeOptions({ storage: dir.file('refused.json'), httpChallenge: { entryPoint: 'web' } }), routers(suite.backend.url, { blocked: { rule: `Host(\`${BLOCKED_DOMAIN}\`)`, tls: { certResolver: 'le' } } }));
  try {
    const errors = await eventually(() => gw.info.routers['blocked@inline']!.errors?.join('\n'), 'the order error on the router', ISSUANCE_MS);
    assert.match(errors, new RegExp(`acme resolver le: cannot obtain a certificate for ${BLOCKED_DOMAIN}: .+; retrying in 60s \\(the default certificate is served meanwhile\\)`));
    assert.equal(gw.info.routers['blocked@inline']!.status, 'warning', 'the router keeps serving');
    const cert = await served(ports.websecure, BLOCKED_DOMAIN, suite.root);
    assert.equal(cert.authorized, false);
    assert.equal(cert.issuer, 'WHARF DEFAULT CERT');
  } finally {
    await gw.stop();
  }
});

test('a wildcard domain on a resolver without dnsChallenge is a router error; the router keeps serving', async () => {
  const gw = await gateway(
    acmeOptions({ storage: dir.file('wild.json'), httpChallenge: { entryPoint: 'web' } }),
    routers(suite.backend.url, { wild: { rule: 'Host(`w.test`)', tls: { certResolver: 'le', domains: [{ main: '*.w.test' }] } } }),
  );
  try {
    const router = gw.info.routers['wild@inline']!;
    assert.equal(router.status, 'warning');
    assert.match(router.errors!.join('\n'), /tls\.domains: wildcard \*\.w\.test needs the DNS-01 challenge; certificate resolver 'le' has no dnsChallenge/);
  } finally {
    await gw.stop();
  }
});

test('an entrypoint without http.tls: the router with tls.certResolver is served over TLS there with its ACME certificate', async () => {
  const config = staticConfig(ports, acmeOptions({ storage: dir.file('mixed.json'), httpChallenge: { entryPoint: 'web' } })) as { entryPoints: { websecure: Record<string, unknown> } };
  delete config.entryPoints.websecure.http;
  const gw = await startGateway({ plugins: [tlsPlugin, acmePlugin], config, dynamic: routers(suite.backend.url, { app: { rule: 'Host(`mixed.test`)', tls: { certResolver: 'le' } } }) });
  try {
    const cert = await verifiedCertificate(ports.websecure, 'mixed.test', suite.root, 'the ACME certificate on a mixed entrypoint');
    assert.equal(cert.subjectaltname, 'DNS:mixed.test');
  } finally {
    await gw.stop();
  }
});

test("an entrypoint's http.tls.certResolver and http.tls.domains: its routers without a resolver of their own get that certificate", async () => {
  const config = staticConfig(ports, acmeOptions({ storage: dir.file('entrypoint.json'), httpChallenge: { entryPoint: 'web' } })) as { entryPoints: { websecure: Record<string, unknown> } };
  config.entryPoints.websecure.http = { tls: { certResolver: 'le', domains: [{ main: 'ep.test', sans: ['www.ep.test'] }] } };
  const gw = await startGateway({ plugins: [tlsPlugin, acmePlugin], config, dynamic: routers(suite.backend.url, { site: { rule: 'Host(`www.ep.test`)', tls: {} } }) });
  try {
    const cert = await verifiedCertificate(ports.websecure, 'www.ep.test', suite.root, "the certificate for the entrypoint's domains");
    assert.equal(cert.subjectaltname, 'DNS:ep.test, DNS:www.ep.test');
    assert.equal(gw.info.routers['site@inline']!.status, 'enabled');
  } finally {
    await gw.stop();
  }
});

/** The key of the certificate served for `servername`, once it verifies against pebble's root. */
function servedKey(servername: string): Promise<{ authorized: boolean; key: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: ports.websecure, servername, ca: suite.root, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      resolve({ authorized: socket.authorized, key: cert.nistCurve ?? `RSA ${cert.bits}` });
      socket.end();
    });
    socket.on('error', reject);
  });
}

test("keyType chooses the key of the certificates: RSA4096 by default (Traefik's), EC256, EC384, RSA2048 — each served by SNI behind the EC default certificate", async () => {
  const cases = [
    { keyType: undefined, expected: 'RSA 4096' },
    { keyType: 'EC256', expected: 'P-256' },
    { keyType: 'EC384', expected: 'P-384' },
    { keyType: 'RSA2048', expected: 'RSA 2048' },
  ];
  for (const { keyType, expected } of cases) {
    const domain = `${(keyType ?? 'default').toLowerCase()}.test`;
    const options = acmeOptions({ storage: dir.file(`${domain}.json`), httpChallenge: { entryPoint: 'web' } });
    if (keyType) options.keyType = keyType;
    else delete options.keyType;
    const gw = await gateway(options, routers(suite.backend.url, { app: { rule: `Host(\`${domain}\`)`, tls: { certResolver: 'le' } } }));
    try {
      const served = await eventually(async () => {
        const s = await servedKey(domain);
        return s.authorized && s;
      }, `a ${keyType ?? 'default'} certificate`, ISSUANCE_MS);
      assert.equal(served.key, expected, keyType ?? 'default');
    } finally {
      await gw.stop();
    }
  }
});

test('a challenge the CA cannot validate: the error names the resolver, the domain and what the CA saw; the default certificate is served', async () => {
  // HTTP-01 answered on `side`, while pebble validates on `web`: its request gets a 404 there.
  const config = staticConfig(ports, acmeOptions({ storage: dir.file('failing.json'), httpChallenge: { entryPoint: 'side' } })) as { entryPoints: Record<string, unknown> };
  config.entryPoints.side = { address: '127.0.0.1:0' };
  const gw = await startGateway({ plugins: [tlsPlugin, acmePlugin], config, dynamic: routers(suite.backend.url, { failing: { rule: 'Host(`failing.test`)', tls: { certResolver: 'le' } } }) });
  try {
    const errors = await eventually(() => gw.info.routers['failing@inline']!.errors?.join('\n'), 'the failed challenge on the router', ISSUANCE_MS);
    assert.match(errors, /^acme resolver le: cannot obtain a certificate for failing\.test: .*404.*; retrying in 60s \(the default certificate is served meanwhile\)$/);
    assert.equal((await served(ports.websecure, 'failing.test', suite.root)).issuer, 'WHARF DEFAULT CERT');
  } finally {
    await gw.stop();
  }
});
