// DNS-01 against pebble, whose DNS server is pebble-challtestsrv: the httpreq provider (POSTs to a DNS API written
// here, which sets the TXT record at challtestsrv) for a wildcard certificate, and the exec provider (a script).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync } from 'node:fs';
import { startGateway } from '@wharf/core';
import tlsPlugin from '@wharf/plugin-tls';
import { eventually, freePort, spawnWharf, startServer } from '@wharf/test-helpers';
import acmePlugin, { registerDnsProvider } from './index.js';
import { waitForTxt } from './dns.js';
import { routers, served, verifiedCertificate, staticConfig, ISSUANCE_MS, pebbleSuite } from './pebble.test.helper.js';


const suite = pebbleSuite('wharf-acme-dns-');
const { ports, dir } = suite;

function dnsAcme(storage: string, provider: string): Record<string, unknown> {
  return { email: 'ops@example.test', caServer: suite.pebble.directory, caCertificates: [suite.pebble.apiCAFile], keyType: 'EC256', storage, dnsChallenge: { provider, resolvers: [suite.pebble.dnsServer] } };
}

/** Sets or clears environment variables for the duration of `run` (providers read lego's variables at start). */
async function withEnv(vars: Record<string, string>, run: () => Promise<void>): Promise<void> {
  Object.assign(process.env, vars);
  try {
    await run();
  } finally {
    for (const name of Object.keys(vars)) delete process.env[name];
  }
}

test('httpreq: a wildcard certificate through DNS-01, the TXT record published by POSTing to a DNS API', async () => {
  const calls: string[] = [];
  const api = await startServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.headers.authorization !== `Basic ${Buffer.from('dns:s3cret').toString('base64')}`) return res.writeHead(401).end();
      const { fqdn, value } = JSON.parse(body) as { fqdn: string; value: string };
      calls.push(`${req.url} ${fqdn}`);
      suite.pebble.setTxt(fqdn, req.url === '/dns/present' ? value : null).then(
        () => res.end('{}'),
        (err: Error) => res.writeHead(502).end(err.message),
      );
    });
  });
  try {
    await withEnv({ HTTPREQ_ENDPOINT: `${api.url}/dns`, HTTPREQ_USERNAME: 'dns', HTTPREQ_PASSWORD: 's3cret' }, async () => {
      const gw = await startGateway({
        plugins: [tlsPlugin, acmePlugin],
        config: staticConfig(ports, dnsAcme(dir.file('httpreq.json'), 'httpreq')),
        dynamic: routers(suite.backend.url, { wild: { rule: 'HostRegexp(`^.+\\.wild\\.test$`)', tls: { certResolver: 'le', domains: [{ main: '*.wild.test', sans: ['wild.test'] }] } } }),
      });
      try {
        const root = await suite.pebble.issuerRoot();
        const cert = await verifiedCertificate(ports.websecure, 'any.wild.test', root, 'a wildcard certificate from pebble');
        assert.equal(cert.subjectaltname, 'DNS:*.wild.test, DNS:wild.test');
        // Two records under one name (the wildcard's and the base name's), published and removed once each: one order.
        // This DNS API removes every value of the name at once, as many do; cleanups wait until both are validated.
        const named = (op: string) => calls.filter((c) => c.startsWith(`/dns/${op}`)).map((c) => c.slice(c.indexOf(' ') + 1));
        await eventually(() => named('cleanup').length === 2, 'both records cleaned up', ISSUANCE_MS);
        assert.deepEqual(named('present'), ['_acme-challenge.wild.test.', '_acme-challenge.wild.test.']);
        assert.deepEqual(named('cleanup'), ['_acme-challenge.wild.test.', '_acme-challenge.wild.test.']);
      } finally {
        await gw.stop();
      }
    });
  } finally {
    await api.close();
  }
});

test('exec: the script named by EXEC_PATH is run with present/cleanup, fqdn and value', async () => {
  const log = dir.file('exec.log');
  const script = dir.write(
    'dns.sh',
    [
      '#!/bin/sh',
      `echo "$1 $2" >> ${log}`,
      `if [ "$1" = present ]; then body="{\\"host\\":\\"$2\\",\\"value\\":\\"$3\\"}"; path=set-txt; else body="{\\"host\\":\\"$2\\"}"; path=clear-txt; fi`,
      `exec curl -sf -X POST -d "$body" "http://${suite.pebble.dnsServer.replace(/:\d+$/, '')}:$CHALLTESTSRV_PORT/$path"`,
      '',
    ].join('\n'),
  );
  chmodSync(script, 0o755);
  await withEnv({ EXEC_PATH: script, CHALLTESTSRV_PORT: String(suite.pebble.dnsManagementPort) }, async () => {
    const gw = await startGateway({
      plugins: [tlsPlugin, acmePlugin],
      config: staticConfig(ports, dnsAcme(dir.file('exec.json'), 'exec')),
      dynamic: routers(suite.backend.url, { app: { rule: 'Host(`exec.test`)', tls: { certResolver: 'le' } } }),
    });
    try {
      const root = await suite.pebble.issuerRoot();
      await eventually(async () => (await served(ports.websecure, 'exec.test', root)).authorized, 'a certificate through the exec provider', ISSUANCE_MS);
      await eventually(() => readFileSync(log, 'utf8').includes('cleanup _acme-challenge.exec.test.'), 'the script called for cleanup', ISSUANCE_MS);
      assert.match(readFileSync(log, 'utf8'), /^present _acme-challenge\.exec\.test\.\n/);
    } finally {
      await gw.stop();
    }
  });
});


/** A gateway refused at start binds nothing that matters: one entrypoint on a port of the system's choice. */
function onePort(acme: Record<string, unknown>): Record<string, unknown> {
  return { entryPoints: { web: { address: '127.0.0.1:0' } }, certificatesResolvers: { le: { acme } } };
}

test('registerDnsProvider: refuses a taken or malformed name; a failing plugin provider stops the start naming the field', async () => {
  const provider = { present: async () => undefined, cleanup: async () => undefined };
  assert.throws(() => registerDnsProvider('exec', () => provider), /registerDnsProvider: a DNS provider 'exec' is already registered \(built in\)/);
  assert.throws(() => registerDnsProvider('My DNS', () => provider), /registerDnsProvider: a provider name is lower-case letters, digits, '\.', '_' or '-', got "My DNS"/);
  registerDnsProvider('needs-token', (env) => {
    if (!env.NEEDS_TOKEN_KEY) throw new Error('set NEEDS_TOKEN_KEY');
    return provider;
  });
  assert.throws(() => registerDnsProvider('needs-token', () => provider), /'needs-token' is already registered; choose another name/);
  await assert.rejects(
    startGateway({ plugins: [tlsPlugin, acmePlugin], config: onePort(dnsAcme(dir.file('needs.json'), 'needs-token')) }),
    /certificatesResolvers\.le\.acme\.dnsChallenge\.provider: 'needs-token' \(from a plugin\) cannot start: set NEEDS_TOKEN_KEY/,
  );
  await assert.rejects(
    startGateway({ plugins: [tlsPlugin, acmePlugin], config: onePort(dnsAcme(dir.file('none.json'), 'route53')) }),
    /Wharf has no DNS provider 'route53' yet \(built in: exec, httpreq; from plugins: challtestsrv, needs-token; /,
  );
});

test('a DNS provider added by a plugin module (plugins.<name>.module) issues a certificate through DNS-01 in the wharf command', async () => {
  // What a user writes: a plugin whose module registers a provider for its DNS host (here pebble-challtestsrv's API).
  const core = new URL('../../../core/dist/index.js', import.meta.url).href;
  const acme = new URL('./index.js', import.meta.url).href;
  const module = dir.write(
    'challtest-plugin.mjs',
    [
      `import { definePlugin, Type } from '${core}';`,
      `import { registerDnsProvider } from '${acme}';`,
      'registerDnsProvider(\'challtest\', (env) => {',
      "  if (!env.CHALLTEST_URL) throw new Error('set CHALLTEST_URL');",
      "  const post = async (path, body) => { const r = await fetch(`${env.CHALLTEST_URL}/${path}`, { method: 'POST', body: JSON.stringify(body) }); if (!r.ok) throw new Error(`${path}: ${r.status}`); };",
      "  return { present: (r) => post('set-txt', { host: r.fqdn, value: r.value }), cleanup: (r) => post('clear-txt', { host: r.fqdn }) };",
      '});',
      '// Nothing to hook at run time: the provider is registered when the module loads, before any resolver starts.',
      "export default definePlugin({ name: 'challtest', description: 'DNS-01 at pebble-challtestsrv', schema: Type.Object({}, { additionalProperties: false }), setup() {} });",
      '',
    ].join('\n'),
  );
  const config = {
    ...staticConfig(ports, dnsAcme(dir.file('plugin.json'), 'challtest')),
    plugins: { challtest: { module } },
    log: { level: 'INFO' },
    providers: { file: { filename: dir.write('plugin-dynamic.json', JSON.stringify(routers(suite.backend.url, { app: { rule: 'Host(`plugin-dns.test`)', tls: { certResolver: 'le', domains: [{ main: '*.plugin-dns.test', sans: ['plugin-dns.test'] }] } } }))) } },
  };
  const wharf = spawnWharf([`--configFile=${dir.write('plugin-wharf.json', JSON.stringify(config))}`], { env: { CHALLTEST_URL: `http://127.0.0.1:${suite.pebble.dnsManagementPort}` } });
  try {
    const root = await suite.pebble.issuerRoot();
    const cert = await verifiedCertificate(ports.websecure, 'www.plugin-dns.test', root, "a wildcard certificate through the plugin's DNS provider").catch((err: Error) => {
      throw new Error(`${err.message}\nwharf output:\n${wharf.stdout()}${wharf.stderr()}`, { cause: err });
    });
    assert.equal(cert.subjectaltname, 'DNS:*.plugin-dns.test, DNS:plugin-dns.test');
  } finally {
    await wharf.stop();
  }
});

// A provider writing straight to pebble-challtestsrv, registered as a plugin would; the check below asks a DNS server
// that never answers, so only a skipped check lets the order through.
registerDnsProvider('challtestsrv', () => ({
  present: (r) => suite.pebble.setTxt(r.fqdn, r.value),
  cleanup: (r) => suite.pebble.setTxt(r.fqdn, null),
}));

for (const [spelling, dnsChallenge] of [
  ['propagation.disableChecks', { propagation: { disableChecks: true } }],
  ['disablePropagationCheck (deprecated)', { disablePropagationCheck: true }],
] as const) {
  test(`${spelling}: the CA is asked at once, without looking the TXT record up`, async () => {
    const silent = `127.0.0.1:${await freePort()}`; // nothing answers DNS there
    const domain = `${spelling.split(' ')[0]!.replace('.', '-').toLowerCase()}.test`;
    const acme = { ...dnsAcme(dir.file(`${domain}.json`), 'challtestsrv'), dnsChallenge: { provider: 'challtestsrv', resolvers: [silent], ...dnsChallenge } };
    const gw = await startGateway({ plugins: [tlsPlugin, acmePlugin], config: staticConfig(ports, acme), dynamic: routers(suite.backend.url, { app: { rule: `Host(\`${domain}\`)`, tls: { certResolver: 'le' } } }) });
    try {
      const root = await suite.pebble.issuerRoot();
      await eventually(async () => (await served(ports.websecure, domain, root)).authorized, `a certificate for ${domain} without the propagation check`, ISSUANCE_MS);
      assert.equal(gw.info.routers['app@inline']!.errors, undefined);
    } finally {
      await gw.stop();
    }
  });
}

test('the propagation check: waits for the TXT value at the resolvers; a record never seen is an error naming it and the servers', async () => {
  await suite.pebble.setTxt('_acme-challenge.seen.test.', 'the-value');
  try {
    await waitForTxt('_acme-challenge.seen.test.', 'the-value', [suite.pebble.dnsServer], 10_000, 200);
  } finally {
    await suite.pebble.setTxt('_acme-challenge.seen.test.', null);
  }
  const silent = `127.0.0.1:${await freePort()}`;
  await assert.rejects(waitForTxt('_acme-challenge.unseen.test.', 'v', [silent], 1_000, 200), (err: Error) => {
    assert.equal(err.message, `DNS-01: the TXT record _acme-challenge.unseen.test. is not visible through ${silent} after 1s`);
    return true;
  });
});

test('TXT records are removed once the order is done, as lego does: a DNS API removing every value of a name cannot break a wildcard order', async () => {
  // *.late.test and late.test publish two values under one name; this provider's cleanup removes both at once.
  const issuedAtCleanup: number[] = [];
  registerDnsProvider('clears-all', () => ({
    present: (r) => suite.pebble.setTxt(r.fqdn, r.value),
    cleanup: async (r) => {
      issuedAtCleanup.push(suite.pebble.issued());
      await suite.pebble.setTxt(r.fqdn, null);
    },
  }));
  const issuedBefore = suite.pebble.issued();
  const gw = await startGateway({
    plugins: [tlsPlugin, acmePlugin],
    config: staticConfig(ports, dnsAcme(dir.file('clears-all.json'), 'clears-all')),
    dynamic: routers(suite.backend.url, { late: { rule: 'Host(`late.test`)', tls: { certResolver: 'le', domains: [{ main: '*.late.test', sans: ['late.test'] }] } } }),
  });
  try {
    const root = await suite.pebble.issuerRoot();
    await eventually(async () => (await served(ports.websecure, 'www.late.test', root)).authorized, 'the wildcard certificate', ISSUANCE_MS);
    await eventually(() => issuedAtCleanup.length === 2, 'both records removed', ISSUANCE_MS);
    assert.deepEqual(issuedAtCleanup, [issuedBefore + 1, issuedBefore + 1], 'removed after the certificate was issued, not as each name was validated');
  } finally {
    await gw.stop();
  }
});
