// TCP routers with tls.certResolver, as Traefik orders for them: HostSNI() names (or tls.domains) ordered from a real
// ACME CA (pebble), the certificate served by the TLS termination of the TCP router in front of a real echo server;
// an unknown resolver or a refused order is an error on the TCP router.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import { startGateway, type StaticConfig, type TCPRouterInfo } from '@wharf/core';
import { decodeStatic, PluginRegistry, readStaticSources, tcpRuleHostNames } from '@wharf/core/config';
import tlsPlugin from '@wharf/plugin-tls';
import { eventually } from '@wharf/test-helpers';
import acmePlugin, { tcpRouterRequest } from './index.js';
import { BLOCKED_DOMAIN, ISSUANCE_MS, pebbleSuite, served, verifiedCertificate, staticConfig } from './pebble.test.helper.js';

const suite = pebbleSuite('wharf-acme-tcp-');

function decodeFlags(args: string[]): StaticConfig {
  const registry = new PluginRegistry();
  registry.register(tlsPlugin);
  registry.register(acmePlugin);
  return decodeStatic(readStaticSources(args, {}), registry);
}

function tcpRouter(name: string, config: Record<string, unknown>): TCPRouterInfo {
  return { name, provider: 'inline', status: 'enabled', entryPoints: ['websecure'], middlewares: [], config: { service: 's', ...config } as never };
}

test("tcpRuleHostNames: every HostSNI name but `*`, as Traefik's ParseHostSNI", () => {
  assert.deepEqual(tcpRuleHostNames('HostSNI(`db.test`)'), ['db.test']);
  assert.deepEqual(tcpRuleHostNames('HostSNI(`A.test`) || HostSNI(`b.test.`)'), ['a.test', 'b.test']);
  assert.deepEqual(tcpRuleHostNames('HostSNI(`a.test`) && ClientIP(`10.0.0.0/8`) && !ALPN(`h2`)'), ['a.test']);
  assert.deepEqual(tcpRuleHostNames('HostSNI(`*`)'), []);
  assert.deepEqual(tcpRuleHostNames('HostSNIRegexp(`^.+\\.test$`)'), [], 'HostSNIRegexp gives none');
  assert.deepEqual(tcpRuleHostNames('HostSNI(`a.test`, `b.test`)', 'v2'), ['a.test', 'b.test'], "v2's multi-value form");
  assert.throws(() => tcpRuleHostNames('Host(`a.test`)'), /Host/);
});

test('tcpRouterRequest: the router\'s own resolver, tls.domains else the HostSNI names; never the entrypoint\'s http.tls', () => {
  const config = decodeFlags(['--entrypoints.websecure.address=:443', '--entrypoints.websecure.http.tls.certresolver=le']);
  const cases = [
    { desc: 'HostSNI names in one certificate', r: tcpRouter('a', { rule: 'HostSNI(`a.test`) || HostSNI(`b.test`)', tls: { certResolver: 'x' } }), expected: { router: 'a', resolver: 'x', sets: [{ main: 'a.test', sans: ['b.test'] }] } },
    { desc: 'tls.domains win over the rule', r: tcpRouter('b', { rule: 'HostSNI(`a.test`)', tls: { certResolver: 'x', domains: [{ main: 'D.test', sans: ['e.test'] }] } }), expected: { router: 'b', resolver: 'x', sets: [{ main: 'd.test', sans: ['e.test'] }] } },
    { desc: "the entrypoint's http.tls resolver is for HTTP routers", r: tcpRouter('c', { rule: 'HostSNI(`a.test`)', tls: {} }), expected: undefined },
    { desc: 'passthrough still orders, as in Traefik', r: tcpRouter('d', { rule: 'HostSNI(`a.test`)', tls: { passthrough: true, certResolver: 'x' } }), expected: { router: 'd', resolver: 'x', sets: [{ main: 'a.test', sans: [] }] } },
  ];
  for (const { desc, r, expected } of cases) assert.deepEqual(tcpRouterRequest(r, config), expected, desc);
  const none = tcpRouterRequest(tcpRouter('e', { rule: 'HostSNI(`*`)', tls: { certResolver: 'x' } }), config) as { error: string };
  assert.match(none.error, /tls\.certResolver 'x': the rule names no HostSNI\(\) and tls\.domains is empty/);
});

/** A TCP server that answers `echo:` and then echoes what it reads. */
async function startEcho(): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.write('echo:');
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TLS client verifying the server against `ca` for `servername`: sends `text`, resolves once `expected` came back. */
function tlsExchange(port: number, servername: string, ca: string, text: string, expected: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca }, () => socket.write(text));
    let received = '';
    socket.on('data', (c: Buffer) => {
      received += c.toString();
      if (received.length >= expected.length) {
        socket.end();
        resolve(received);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}

test('a TCP router with tls.certResolver gets a certificate for its HostSNI names, served by its TLS termination; errors land on the TCP routers', async () => {
  const echo = await startEcho();
  const acme = { email: 'ops@example.test', caServer: suite.pebble.directory, caCertificates: [suite.pebble.apiCAFile], keyType: 'EC256', storage: suite.dir.file('tcp.json'), httpChallenge: { entryPoint: 'web' } };
  const route = (rule: string, certResolver: string) => ({ entryPoints: ['websecure'], rule, service: 'echo', tls: { certResolver } });
  const dynamic = {
    tcp: {
      routers: {
        db: route('HostSNI(`db.test`)', 'le'),
        mq: route('HostSNI(`mq.test`) || HostSNI(`queue.test`)', 'le'),
        stray: route('HostSNI(`stray.test`)', 'nope'),
        refused: route(`HostSNI(\`${BLOCKED_DOMAIN}\`)`, 'le'),
      },
      services: { echo: { loadBalancer: { servers: [{ address: echo.address }] } } },
    },
  };
  const gw = await startGateway({ plugins: [tlsPlugin, acmePlugin], config: staticConfig(suite.ports, acme), dynamic });
  try {
    const port = suite.ports.websecure;
    const cert = await verifiedCertificate(port, 'db.test', suite.root, 'a certificate from pebble for db.test');
    assert.equal(cert.subjectaltname, 'DNS:db.test');
    assert.match(cert.issuer, /Pebble/);
    assert.equal(await tlsExchange(port, 'db.test', suite.root, 'ping', 'echo:ping'), 'echo:ping', 'the verified connection reaches the echo server');
    const both = await verifiedCertificate(port, 'queue.test', suite.root, 'one certificate for both HostSNI names of mq');
    assert.equal(both.subjectaltname, 'DNS:mq.test, DNS:queue.test');
    const routers = gw.info.tcp!.routers;
    assert.equal(routers['db@inline']!.status, 'enabled');
    assert.equal(routers['stray@inline']!.status, 'warning');
    assert.match(routers['stray@inline']!.errors!.join('\n'), /tls\.certResolver: no certificate resolver 'nope' \(defined: le\)/);
    assert.equal((await served(port, 'stray.test', suite.root)).authorized, false, 'the default certificate for a router without a usable resolver');
    const refused = await eventually(() => gw.info.tcp!.routers['refused@inline']!.errors?.join('\n'), 'the refused order on the TCP router', ISSUANCE_MS);
    assert.match(refused, new RegExp(`cannot obtain a certificate for ${BLOCKED_DOMAIN.replace('.', '\\.')}`));
    assert.equal(gw.info.routers['refused@inline'], undefined, 'no HTTP router of that name is made up');
  } finally {
    await gw.stop();
    await echo.close();
  }
});
