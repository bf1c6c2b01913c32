// PROXY protocol on entrypoints (Traefik's entryPoints.<ep>.proxyProtocol), over real sockets: v1 and v2 headers
// from a trusted load balancer give the client address to rules, X-Forwarded-For and the rest; an untrusted
// peer's header is read and dropped; a malformed one closes only its connection; TLS works behind it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { V1ProxyProtocol, V2ProxyProtocol, INETProtocol, Peer, Command, TransportProtocol, IPv6ProxyAddress, IPv6Address } from 'proxy-protocol-js';
import type { EmbeddedGateway } from '@wharf/core';
import { startGateway } from 'wharf';
import { startBackend, type Backend, type EchoBody } from '@wharf/test-helpers';

/** Sends `header` then one HTTP/1.1 request on a fresh connection; resolves with the raw answer. */
function exchange(port: number, header: Buffer | string, request = 'GET / HTTP/1.1\r\nHost: pp.test\r\nConnection: close\r\n\r\n'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(Buffer.concat([Buffer.from(header), Buffer.from(request)])));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

function echoOf(answer: string): EchoBody {
  assert.match(answer, /^HTTP\/1\.1 200 /, answer.slice(0, 200));
  return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as EchoBody;
}

const v1 = (address: string, port = 40000): string => new V1ProxyProtocol(INETProtocol.TCP4, new Peer(address, port), new Peer('10.0.0.1', 80)).build();

function v2IPv6(): Buffer {
  const source = IPv6Address.createFrom([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07]);
  const destination = IPv6Address.createFrom([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01]);
  return Buffer.from(new V2ProxyProtocol(Command.PROXY, TransportProtocol.STREAM, new IPv6ProxyAddress(source, 51000, destination, 443)).build());
}

describe('PROXY protocol', () => {
  let backend: Backend;
  let gateway: EmbeddedGateway;
  const port = (ep: string): number => gateway.address(ep).port;

  before(async () => {
    backend = await startBackend('pp');
    gateway = await startGateway({
      args: [
        '--entrypoints.trusting.address=127.0.0.1:0',
        '--entrypoints.trusting.proxyProtocol.trustedIPs=127.0.0.1/32',
        '--entrypoints.wary.address=127.0.0.1:0',
        '--entrypoints.wary.proxyProtocol.trustedIPs=10.0.0.0/8',
        '--entrypoints.secure.address=127.0.0.1:0',
        '--entrypoints.secure.proxyProtocol.insecure=true',
        '--entrypoints.secure.http.tls=true',
      ],
      dynamic: {
        http: {
          routers: {
            all: { rule: 'Host(`pp.test`)', service: 'b' },
            lan: { rule: 'Host(`pp.test`) && ClientIP(`203.0.113.0/24`)', service: 'lan', priority: 100 },
          },
          middlewares: {},
          services: { b: { loadBalancer: { servers: [{ url: backend.url }] } }, lan: { loadBalancer: { servers: [{ url: backend.url }], passHostHeader: false } } },
        },
      },
    });
  });

  after(async () => {
    await gateway?.stop();
    await backend?.close();
  });

  test('a v1 header from a trusted peer is the client address for X-Forwarded-For', async () => {
    const echo = echoOf(await exchange(port('trusting'), v1('198.51.100.9')));
    assert.equal(echo.headers['x-forwarded-for'], '198.51.100.9');
  });

  test('the announced address is what ClientIP rules see', async () => {
    const echo = echoOf(await exchange(port('trusting'), v1('203.0.113.5')));
    assert.equal(echo.headers.host, new URL(backend.url).host, 'routed to the ClientIP router, whose service does not pass the host');
  });

  test('a v2 header with an IPv6 source', async () => {
    const echo = echoOf(await exchange(port('trusting'), v2IPv6()));
    assert.equal(echo.headers['x-forwarded-for'], '2001:db8::7');
  });

  test('a trusted peer may still send no header', async () => {
    const echo = echoOf(await exchange(port('trusting'), ''));
    assert.equal(echo.headers['x-forwarded-for'], '127.0.0.1');
  });

  test("an untrusted peer's header is read and dropped", async () => {
    const echo = echoOf(await exchange(port('wary'), v1('198.51.100.9')));
    assert.equal(echo.headers['x-forwarded-for'], '127.0.0.1');
  });

  test('a malformed header closes that connection only', async () => {
    const answer = await exchange(port('trusting'), 'PROXY TCP4 not-an-ip 10.0.0.1 1 80\r\n');
    assert.equal(answer, '');
    echoOf(await exchange(port('trusting'), v1('198.51.100.9')));
  });

  test('the header comes before the TLS handshake on a TLS entrypoint', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const raw = net.connect(port('secure'), '127.0.0.1', () => {
        raw.write(v1('192.0.2.44'));
        const secure = tls.connect({ socket: raw, servername: 'pp.test', rejectUnauthorized: false }, () => {
          secure.write('GET / HTTP/1.1\r\nHost: pp.test\r\nConnection: close\r\n\r\n');
        });
        let answer = '';
        secure.on('data', (chunk: Buffer) => (answer += chunk.toString()));
        secure.on('close', () => resolve(answer));
        secure.on('error', reject);
      });
    });
    assert.equal(echoOf(body).headers['x-forwarded-for'], '192.0.2.44');
  });

  test('a bad trustedIPs entry stops start-up naming the field', async () => {
    await assert.rejects(
      startGateway({ args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.web.proxyProtocol.trustedIPs=10.0.0.0/99'] }),
      /entryPoints\.web\.proxyProtocol\.trustedIPs/,
    );
  });
});
