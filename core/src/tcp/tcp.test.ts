// TCP routers on real sockets: non-TLS catch-all, TLS passthrough beside HTTP routers, PROXY headers to servers,
// weighted balancing, half-close, a reload that keeps an established connection, and per-field errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import { eventually, makeCA, makeCert, request, startBackend, type Backend } from '@wharf/test-helpers';
import { startGateway, type EmbeddedGateway } from '../embed.js';

interface TCPServer {
  port: number;
  /** Every connection's first bytes, as received. */
  received: Buffer[];
  close(): Promise<void>;
}

/** A TCP server that answers `<name>:` and echoes what it reads; it half-closes when the client does. */
async function startEcho(name: string, wrap?: (socket: Socket) => void): Promise<TCPServer> {
  const received: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', (chunk: Buffer) => received.push(chunk));
    wrap?.(socket);
    socket.write(`${name}:`);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Connects, sends `text`, half-closes and returns everything received until the server closed. */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => socket.end(text));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}

function tcpConfig(extra: Record<string, unknown> = {}, http?: Record<string, unknown>) {
  return { ...(http && { http }), tcp: extra };
}

describe('TCP routers', { timeout: 60_000 }, () => {
  let gateway: EmbeddedGateway;
  let a: TCPServer;
  let b: TCPServer;
  let web: Backend;
  before(async () => {
    [a, b, web] = await Promise.all([startEcho('a'), startEcho('b'), startBackend('web')]);
    gateway = await startGateway({ args: ['--entrypoints.tcp.address=127.0.0.1:0', '--entrypoints.web.address=127.0.0.1:0'] });
  });
  after(async () => {
    await gateway.stop();
    await Promise.all([a.close(), b.close(), web.close()]);
  });

  test('HostSNI(`*`) relays a non-TLS connection both ways, half-close included', async () => {
    gateway.configure(tcpConfig({
      routers: { echo: { entryPoints: ['tcp'], rule: 'HostSNI(`*`)', service: 'echo' } },
      services: { echo: { loadBalancer: { servers: [{ address: `127.0.0.1:${a.port}` }] } } },
    }));
    assert.equal(await exchange(gateway.address('tcp').port, 'hello'), 'a:hello');
    assert.equal(gateway.info.tcp?.routers['echo@inline']?.priority, -1);
  });

  test('weighted services share connections by weight', async () => {
    gateway.configure(tcpConfig({
      routers: { echo: { entryPoints: ['tcp'], rule: 'HostSNI(`*`)', service: 'split' } },
      services: {
        split: { weighted: { services: [{ name: 'a', weight: 3 }, { name: 'b', weight: 1 }] } },
        a: { loadBalancer: { servers: [{ address: `127.0.0.1:${a.port}` }] } },
        b: { loadBalancer: { servers: [{ address: `127.0.0.1:${b.port}` }] } },
      },
    }));
    const answers: string[] = [];
    for (let i = 0; i < 8; i++) answers.push((await exchange(gateway.address('tcp').port, 'x')).slice(0, 1));
    assert.deepEqual({ a: answers.filter((x) => x === 'a').length, b: answers.filter((x) => x === 'b').length }, { a: 6, b: 2 });
  });

  test('a load balancer takes its servers in turn', async () => {
    gateway.configure(tcpConfig({
      routers: { echo: { entryPoints: ['tcp'], rule: 'HostSNI(`*`)', service: 'both' } },
      services: { both: { loadBalancer: { servers: [{ address: `127.0.0.1:${a.port}` }, { address: `127.0.0.1:${b.port}` }] } } },
    }));
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) answers.push((await exchange(gateway.address('tcp').port, '')).slice(0, 1));
    assert.deepEqual(answers, ['a', 'b', 'a', 'b']);
  });

  test('a reload keeps an established connection open; new connections use the new table', async () => {
    gateway.configure(tcpConfig({
      routers: { echo: { entryPoints: ['tcp'], rule: 'HostSNI(`*`)', service: 'a' } },
      services: { a: { loadBalancer: { servers: [{ address: `127.0.0.1:${a.port}` }] } } },
    }));
    const socket = net.connect({ host: '127.0.0.1', port: gateway.address('tcp').port });
    let seen = '';
    socket.on('data', (c: Buffer) => (seen += c.toString()));
    socket.write('one');
    await eventually(() => seen === 'a:one', 'first echo');
    gateway.configure(tcpConfig({
      routers: { echo: { entryPoints: ['tcp'], rule: 'HostSNI(`*`)', service: 'b' } },
      services: { b: { loadBalancer: { servers: [{ address: `127.0.0.1:${b.port}` }] } } },
    }));
    socket.write('two');
    await eventually(() => seen === 'a:onetwo', 'echo on the old connection after the reload');
    assert.equal(await exchange(gateway.address('tcp').port, 'new'), 'b:new');
    socket.destroy();
  });

  test('errors name the field and disable only the element', async () => {
    const decoded = gateway.configure(tcpConfig({
      routers: {
        good: { entryPoints: ['tcp'], rule: 'HostSNI(`*`)', service: 'a' },
        typo: { entryPoints: ['tcp'], rule: 'HostSNI(`*`)', service: 'a', priorty: 3 },
        badRule: { entryPoints: ['tcp'], rule: 'Host(`x`)', service: 'a' },
        sniNoTLS: { entryPoints: ['tcp'], rule: 'HostSNI(`db.example`)', service: 'a' },
        noService: { entryPoints: ['tcp'], rule: 'HostSNI(`*`)', service: 'missing' },
      },
      services: {
        a: { loadBalancer: { servers: [{ address: `127.0.0.1:${a.port}` }] } },
        badAddress: { loadBalancer: { servers: [{ address: 'no-port' }] } },
      },
    }));
    assert.deepEqual(decoded.problems.map((p) => `${p.kind}/${p.name}`), ['tcpRouters/typo']);
    const info = gateway.info.tcp!;
    assert.equal(info.routers['good@inline']?.status, 'enabled');
    assert.equal(info.routers['typo@inline']?.status, 'disabled');
    assert.match(info.routers['typo@inline']!.errors!.join(), /priorty/);
    assert.match(info.routers['badRule@inline']!.errors!.join(), /invalid rule.*Host/);
    assert.match(info.routers['sniNoTLS@inline']!.errors!.join(), /HostSNI matcher, but no tls/);
    assert.match(info.routers['noService@inline']!.errors!.join(), /service 'missing@inline' does not exist/);
    assert.equal(info.services['badAddress@inline']?.status, 'enabled'); // not used by a router: not built
    assert.equal(await exchange(gateway.address('tcp').port, 'still'), 'a:still');
  });

  test('a server address that is not host:port disables the service and its router, naming the field', async () => {
    gateway.configure(tcpConfig({
      routers: { r: { entryPoints: ['tcp'], rule: 'HostSNI(`*`)', service: 'bad' } },
      services: { bad: { loadBalancer: { servers: [{ address: 'no-port' }] } } },
    }));
    const info = gateway.info.tcp!;
    assert.match(info.services['bad@inline']!.errors!.join(), /servers\[0\]\.address: "no-port" is not a host:port address/);
    assert.equal(info.routers['r@inline']?.status, 'disabled');
  });

  test('PROXY protocol v1 and v2 headers announce the client to the server', async () => {
    for (const version of [1, 2]) {
      gateway.configure(tcpConfig({
        routers: { r: { entryPoints: ['tcp'], rule: 'HostSNI(`*`)', service: 'pp' } },
        services: { pp: { loadBalancer: { servers: [{ address: `127.0.0.1:${a.port}` }], serversTransport: 'pp' } } },
        serversTransports: { pp: { proxyProtocol: { version } } },
      }));
      a.received.length = 0;
      await exchange(gateway.address('tcp').port, 'payload');
      const first = a.received[0]!;
      if (version === 1) assert.match(first.toString('latin1'), /^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 \d+ \d+\r\n/);
      else {
        assert.deepEqual([...first.subarray(0, 12)], [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
        assert.equal(first[12], 0x21); // version 2, PROXY command
        assert.equal(first[13], 0x11); // TCP over IPv4
        assert.deepEqual([...first.subarray(16, 20)], [127, 0, 0, 1]);
      }
    }
  });

  test('TLS passthrough beside HTTP routers: the client sees the server\'s certificate, HTTP still answers', async () => {
    const ca = await makeCA();
    const cert = await makeCert(['db.example'], { ca });
    const tlsServer = tls.createServer({ cert: cert.cert, key: cert.key }, (socket) => socket.end('from the TLS server'));
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    try {
      gateway.configure(tcpConfig(
        {
          routers: { db: { entryPoints: ['web'], rule: 'HostSNI(`db.example`)', service: 'db', tls: { passthrough: true } } },
          services: { db: { loadBalancer: { servers: [{ address: `127.0.0.1:${(tlsServer.address() as AddressInfo).port}` }] } } },
        },
        {
          routers: { site: { entryPoints: ['web'], rule: 'PathPrefix(`/`)', service: 'site' } },
          services: { site: { loadBalancer: { servers: [{ url: web.url }] } } },
        },
      ));
      const port = gateway.address('web').port;
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, servername: 'db.example', ca: ca.cert }, () => {
          assert.equal(socket.getPeerCertificate().subject.CN, 'db.example');
          assert.ok(socket.authorized, 'the server certificate verifies against the test CA');
        });
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      assert.equal(answer, 'from the TLS server');
      const res = await request(port, { path: '/page' });
      assert.equal(res.status, 200);
    } finally {
      tlsServer.close();
    }
  });
});
