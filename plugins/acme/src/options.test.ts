// The static section from flags and files (Traefik's names, defaults), what is refused at start, and the domains a
// router asks for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeStatic, PluginRegistry, readStaticSources, ruleHostNames } from '@wharf/core/config';
import { startGateway, type RouterInfo, type StaticConfig } from '@wharf/core';
import tlsPlugin from '@wharf/plugin-tls';
import acmePlugin, { routerRequest } from './index.js';

function decodeFlags(args: string[]): StaticConfig {
  const registry = new PluginRegistry();
  registry.register(tlsPlugin);
  registry.register(acmePlugin);
  return decodeStatic(readStaticSources(args, {}), registry);
}

test("flags in Traefik's spelling decode into certificatesResolvers with Traefik's defaults", () => {
  const config = decodeFlags([
    '--entrypoints.web.address=:80',
    '--certificatesresolvers.le.acme.email=ops@example.com',
    '--certificatesResolvers.le.acme.httpChallenge.entryPoint=web',
    '--certificatesresolvers.le.acme.cacertificates=/ca/a.pem,/ca/b.pem',
    '--certificatesresolvers.staging.acme.email=ops@example.com',
    '--certificatesresolvers.staging.acme.tlschallenge=true',
    '--certificatesresolvers.staging.acme.keytype=EC256',
    '--certificatesresolvers.staging.acme.certificatesduration=24',
    '--certificatesresolvers.staging.acme.storage=redis://10.0.0.9:6379/2',
  ]);
  const resolvers = config.certificatesResolvers as Record<string, { acme: Record<string, unknown> }>;
  assert.deepEqual(resolvers.le!.acme, {
    email: 'ops@example.com',
    caServer: 'https://acme-v02.api.letsencrypt.org/directory',
    storage: 'acme.json',
    keyType: 'RSA4096',
    certificatesDuration: 2160,
    caCertificates: ['/ca/a.pem', '/ca/b.pem'],
    caSystemCertPool: false,
    clientTimeout: 120_000,
    clientResponseHeaderTimeout: 30_000,
    certificateTimeout: 30_000,
    httpChallenge: { entryPoint: 'web', delay: 0 },
  });
  assert.deepEqual(resolvers.staging!.acme.tlsChallenge, { delay: 0 });
  assert.equal(resolvers.staging!.acme.keyType, 'EC256');
  assert.equal(resolvers.staging!.acme.certificatesDuration, 24);
});

test('storage=redis with the redis section from flags: the connection fields with their defaults', () => {
  const config = decodeFlags([
    '--entrypoints.web.address=:80',
    '--certificatesresolvers.le.acme.email=ops@example.com',
    '--certificatesresolvers.le.acme.tlschallenge=true',
    '--certificatesresolvers.le.acme.storage=redis',
    '--certificatesresolvers.le.acme.redis.endpoints=redis.internal:6380',
    '--certificatesresolvers.le.acme.redis.username=wharf',
    '--certificatesresolvers.le.acme.redis.password=secret',
    '--certificatesresolvers.le.acme.redis.tls.ca=/run/secrets/ca.pem',
  ]);
  const resolvers = config.certificatesResolvers as Record<string, { acme: Record<string, unknown> }>;
  assert.equal(resolvers.le!.acme.storage, 'redis');
  assert.deepEqual(resolvers.le!.acme.redis, {
    endpoints: ['redis.internal:6380'],
    username: 'wharf',
    password: 'secret',
    db: 0,
    tls: { ca: '/run/secrets/ca.pem', insecureSkipVerify: false },
    dialTimeout: 5000,
    readTimeout: 3000,
    writeTimeout: 3000,
  });
});

test('a bad value is refused naming the flag', () => {
  assert.throws(() => decodeFlags(['--certificatesresolvers.le.acme.email=a@b', '--certificatesresolvers.le.acme.keytype=EC521']), /certificatesresolvers\.le\.acme\.keytype/i);
  assert.throws(() => decodeFlags(['--certificatesresolvers.le.acme.emial=a@b']), /unknown field 'emial' \(did you mean 'email'\?\)/);
});

const refused = [
  { desc: 'a DNS provider Wharf does not have', acme: { dnsChallenge: { provider: 'route53' } }, expected: /certificatesResolvers\.le\.acme\.dnsChallenge\.provider: Wharf has no DNS provider 'route53' yet \(built in: exec, httpreq/ },
  { desc: 'the exec provider without EXEC_PATH', acme: { dnsChallenge: { provider: 'exec' } }, expected: /certificatesResolvers\.le\.acme\.dnsChallenge\.provider: 'exec' needs the environment variable EXEC_PATH/ },
  { desc: 'a certificate profile', acme: { profile: 'shortlived', httpChallenge: { entryPoint: 'web' } }, expected: /certificatesResolvers\.le\.acme\.profile: not supported yet/ },
  { desc: 'CSR email addresses', acme: { emailAddresses: ['a@b'], tlsChallenge: {} }, expected: /acme\.emailAddresses: not supported yet/ },
  { desc: 'disableCommonName', acme: { disableCommonName: true, tlsChallenge: {} }, expected: /acme\.disableCommonName: not supported yet/ },
  { desc: 'certificateTimeout other than the default', acme: { certificateTimeout: '2m', tlsChallenge: {} }, expected: /acme\.certificateTimeout: not supported yet/ },
  { desc: 'no challenge', acme: {}, expected: /certificatesResolvers\.le\.acme: no challenge configured; set httpChallenge\.entryPoint=<entrypoint>, tlsChallenge or dnsChallenge\.provider/ },
  { desc: 'an unknown challenge entrypoint', acme: { httpChallenge: { entryPoint: 'http' } }, expected: /acme\.httpChallenge\.entryPoint: no entrypoint 'http' \(known: web\)/ },
  { desc: 'caSystemCertPool alone', acme: { caSystemCertPool: true, tlsChallenge: {} }, expected: /acme\.caSystemCertPool: only meaningful with caCertificates/ },
  { desc: 'an unreadable caCertificates file', acme: { caCertificates: ['/nonexistent/ca.pem'], tlsChallenge: {} }, expected: /acme\.caCertificates\[0\]: cannot read \/nonexistent\/ca\.pem/ },
  { desc: 'a storage file that is not JSON', acme: { storage: '/proc/version', tlsChallenge: {} }, expected: /acme storage \/proc\/version: not JSON/ },
  { desc: 'a Redis URL and a redis section together', acme: { storage: 'redis://127.0.0.1:6379', redis: { endpoints: ['127.0.0.1:6379'] }, tlsChallenge: {} }, expected: /certificatesResolvers\.le\.acme\.storage and certificatesResolvers\.le\.acme\.redis: a Redis URL in storage and a redis section together; keep one/ },
  { desc: 'a redis section with a file storage', acme: { redis: { db: 1 }, tlsChallenge: {} }, expected: /certificatesResolvers\.le\.acme\.redis: only used with storage=redis, got storage "\/nonexistent\/acme\.json"/ },
  { desc: 'a bad Redis endpoint', acme: { storage: 'redis', redis: { endpoints: ['127.0.0.1:99999'] }, tlsChallenge: {} }, expected: /certificatesResolvers\.le\.acme\.redis\.endpoints: '127\.0\.0\.1:99999' is not host:port/ },
  { desc: 'several Redis endpoints (a Cluster)', acme: { storage: 'redis', redis: { endpoints: ['10.0.0.1:6379', '10.0.0.2:6379'] }, tlsChallenge: {} }, expected: /certificatesResolvers\.le\.acme\.redis\.endpoints: the ACME store needs one Redis \(a Redis Cluster is not supported\), got 2 endpoints/ },
  { desc: 'an unreadable Redis CA file', acme: { storage: 'redis', redis: { tls: { ca: '/nonexistent/redis-ca.pem' } }, tlsChallenge: {} }, expected: /certificatesResolvers\.le\.acme\.redis\.tls\.ca: .*\/nonexistent\/redis-ca\.pem/ },
  { desc: 'a Redis client certificate without its key', acme: { storage: 'redis', redis: { tls: { cert: '/nonexistent/c.pem' } }, tlsChallenge: {} }, expected: /certificatesResolvers\.le\.acme\.redis\.tls: cert and key go together/ },
  { desc: 'a storage that looks like Redis but is not', acme: { storage: 'redis:6379', tlsChallenge: {} }, expected: /certificatesResolvers\.le\.acme\.storage: a Redis store is written redis \(with certificatesResolvers\.le\.acme\.redis\) or redis:\/\/host:port\[\/db\], got "redis:6379"/ },
];
for (const { desc, acme, expected } of refused) {
  test(`refused at start: ${desc}`, async () => {
    await assert.rejects(
      startGateway({
        plugins: [tlsPlugin, acmePlugin],
        config: { entryPoints: { web: { address: '127.0.0.1:0' } }, certificatesResolvers: { le: { acme: { email: 'ops@example.test', storage: '/nonexistent/acme.json', ...acme } } } },
      }),
      expected,
    );
  });
}

test('a tailscale resolver is refused with what to use instead', async () => {
  await assert.rejects(
    startGateway({ plugins: [tlsPlugin, acmePlugin], config: { entryPoints: { web: { address: '127.0.0.1:0' } }, certificatesResolvers: { ts: { tailscale: {} } } } }),
    /certificatesResolvers\.ts\.tailscale: Tailscale resolvers are not supported by Wharf; use acme/,
  );
});

test("ruleHostNames: every Host() of the rule, as Traefik's ParseDomains", () => {
  const cases = [
    { desc: 'one host', rule: 'Host(`a.test`)', expected: ['a.test'] },
    { desc: 'lower-cased', rule: 'Host(`App.Test`)', expected: ['app.test'] },
    { desc: '|| of hosts', rule: 'Host(`a.test`) || Host(`b.test`)', expected: ['a.test', 'b.test'] },
    { desc: 'with a path', rule: 'Host(`a.test`) && PathPrefix(`/api`)', expected: ['a.test'] },
    { desc: 'HostRegexp gives none', rule: 'HostRegexp(`^.+\\.test$`)', expected: [] },
    { desc: 'mixed with HostRegexp', rule: 'Host(`a.test`) || HostRegexp(`^b\\..+$`)', expected: ['a.test'] },
    { desc: 'under a negation too (Traefik walks every Host matcher)', rule: 'PathPrefix(`/`) && !Host(`x.test`)', expected: ['x.test'] },
  ];
  for (const { desc, rule, expected } of cases) assert.deepEqual(ruleHostNames(rule), expected, desc);
  assert.deepEqual(ruleHostNames('Host(`a.test`, `b.test`)', 'v2'), ['a.test', 'b.test'], "v2's multi-value form");
});

function router(name: string, config: Record<string, unknown>, entryPoints = ['websecure']): RouterInfo {
  return { name, provider: 'inline', status: 'enabled', entryPoints, middlewares: [], config: { service: 's', ...config } as never };
}

test('routerRequest: resolver and domain sets from the router, else from its entrypoint', () => {
  const staticConfig = decodeFlags([
    '--entrypoints.web.address=:80',
    '--entrypoints.websecure.address=:443',
    '--entrypoints.websecure.http.tls.certresolver=le',
    '--entrypoints.websecure.http.tls.domains[0].main=example.test',
    '--entrypoints.websecure.http.tls.domains[0].sans=www.example.test',
    '--entrypoints.other.address=:8443',
    '--entrypoints.other.http.tls=true',
  ]);
  const cases = [
    { desc: 'rule hosts in one certificate', r: router('a', { rule: 'Host(`a.test`) || Host(`b.test`)', tls: { certResolver: 'x' } }, ['other']), expected: { router: 'a', resolver: 'x', sets: [{ main: 'a.test', sans: ['b.test'] }] } },
    { desc: 'tls.domains win over the rule', r: router('b', { rule: 'Host(`a.test`)', tls: { certResolver: 'x', domains: [{ main: 'A.test', sans: ['c.test', 'a.test'] }, { main: 'd.test' }] } }, ['other']), expected: { router: 'b', resolver: 'x', sets: [{ main: 'a.test', sans: ['c.test'] }, { main: 'd.test', sans: [] }] } },
    { desc: "the entrypoint's resolver and domains", r: router('c', { rule: 'Host(`a.test`)' }), expected: { router: 'c', resolver: 'le', sets: [{ main: 'example.test', sans: ['www.example.test'] }] } },
    { desc: "the entrypoint's resolver with the router's own domains", r: router('d', { rule: 'Host(`a.test`)', tls: { domains: [{ main: 'own.test' }] } }), expected: { router: 'd', resolver: 'le', sets: [{ main: 'own.test', sans: [] }] } },
    { desc: 'no resolver anywhere', r: router('e', { rule: 'Host(`a.test`)', tls: {} }, ['other']), expected: undefined },
  ];
  for (const { desc, r, expected } of cases) assert.deepEqual(routerRequest(r, staticConfig), expected, desc);
  assert.match(String((routerRequest(router('f', { rule: 'HostRegexp(`.+`)', tls: { certResolver: 'x' } }, ['other']), staticConfig) as { error: string }).error), /the rule names no Host\(\) and tls\.domains is empty/);
  assert.deepEqual(routerRequest(router('g', { rule: 'Host(`a.test`)', tls: { certResolver: 'x', domains: [{ main: '*.a.test', sans: ['a.test'] }] } }, ['other']), staticConfig), { router: 'g', resolver: 'x', sets: [{ main: '*.a.test', sans: ['a.test'] }] });
});

test('without any certificatesResolvers, a router naming one gets an error and keeps serving with the default certificate', async () => {
  const gw = await startGateway({
    plugins: [tlsPlugin, acmePlugin],
    config: { entryPoints: { websecure: { address: '127.0.0.1:0', http: { tls: {} } } } },
    dynamic: { http: { routers: { app: { rule: 'Host(`a.test`)', service: 's', tls: { certResolver: 'le' } } }, services: { s: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9' }] } } } } },
  });
  try {
    const router = gw.info.routers['app@inline']!;
    assert.equal(router.status, 'warning');
    assert.deepEqual(router.errors, ["tls.certResolver: no certificate resolver 'le' (defined: none); the default certificate is served"]);
  } finally {
    await gw.stop();
  }
});
