// TCP routers on real sockets: non-TLS catch-all, TLS passthrough beside HTTP routers, PROXY headers to servers,
// weighted balancing, half-close, a reload that keeps an established connection, and per-field errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import { eventually, makeCA, makeCert, request, startBackend, tempDir, type Backend } from '@wharf/test-helpers';
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
    gateway = await startGateway({ args: ['--entrypoints.tcp.address=127.0.0.1:0', '--entrypoints.web.address=127.0.0.1:0', '--entrypoints.dns.address=127.0.0.1:0/udp'] });
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

  test('a non-TLS HostSNI(`*`) router takes plain HTTP connections too when no HTTPS router shares the entrypoint (Traefik\'s fast path)', async () => {
    gateway.configure(tcpConfig(
      {
        routers: { echo: { entryPoints: ['tcp'], rule: 'HostSNI(`*`)', service: 'echo' } },
        services: { echo: { loadBalancer: { servers: [{ address: `127.0.0.1:${a.port}` }] } } },
      },
      {
        routers: { site: { entryPoints: ['tcp'], rule: 'PathPrefix(`/`)', service: 'site' } },
        services: { site: { loadBalancer: { servers: [{ url: web.url }] } } },
      },
    ));
    assert.equal(await exchange(gateway.address('tcp').port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'a:GET / HTTP/1.1\r\nHost: x\r\n\r\n');
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
        resolver: { entryPoints: ['tcp'], rule: 'HostSNI(`db.example`)', service: 'a', tls: { passthrough: true, certResolver: 'le' } },
        onUDP: { entryPoints: ['dns'], rule: 'HostSNI(`*`)', service: 'a' },
        everywhere: { rule: 'HostSNI(`*`)', service: 'a', priority: -5 },
      },
      services: {
        a: { loadBalancer: { servers: [{ address: `127.0.0.1:${a.port}` }] } },
        badAddress: { loadBalancer: { servers: [{ address: 'no-port' }] } },
      },
    }));
    assert.deepEqual(decoded.problems.map((p) => `${p.kind}/${p.name}`), ['tcp.routers/typo']);
    const info = gateway.info.tcp!;
    assert.equal(info.routers['good@inline']?.status, 'enabled');
    assert.equal(info.routers['typo@inline']?.status, 'disabled');
    assert.match(info.routers['typo@inline']!.errors!.join(), /priorty/);
    assert.match(info.routers['badRule@inline']!.errors!.join(), /invalid rule.*Host/);
    assert.match(info.routers['sniNoTLS@inline']!.errors!.join(), /HostSNI matcher, but no tls/);
    assert.match(info.routers['noService@inline']!.errors!.join(), /service 'missing@inline' does not exist/);
    assert.equal(info.routers['resolver@inline']?.status, 'enabled', 'tls.certResolver is the acme plugin\'s to check, not the core\'s');
    assert.equal(info.routers['onUDP@inline']?.status, 'disabled');
    assert.match(info.routers['onUDP@inline']!.errors!.join(), /entrypoint 'dns' is a UDP entrypoint \(127\.0\.0\.1:0\/udp\); TCP routers cannot use it/);
    assert.deepEqual(info.routers['everywhere@inline']?.entryPoints, ['tcp', 'web'], 'without entryPoints: every TCP entrypoint, not the UDP one');
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

describe('TCP routers behind a PROXY-protocol load balancer, and servers over TLS', { timeout: 60_000 }, () => {
  let gateway: EmbeddedGateway;
  let echo: TCPServer;
  before(async () => {
    echo = await startEcho('e');
    gateway = await startGateway({ args: ['--entrypoints.lb.address=127.0.0.1:0', '--entrypoints.lb.proxyProtocol.insecure=true'] });
  });
  after(async () => {
    await gateway.stop();
    await echo.close();
  });

  test('ClientIP matches the client the PROXY header announced, and the server is told that client', async () => {
    gateway.configure(tcpConfig({
      routers: { office: { rule: 'ClientIP(`203.0.113.0/24`)', service: 'echo' } },
      services: { echo: { loadBalancer: { servers: [{ address: `127.0.0.1:${echo.port}` }], proxyProtocol: { version: 1 } } } },
    }));
    // The echo server sends back what it got: the PROXY header Wharf wrote, then the client's bytes.
    const echoed = await exchange(gateway.address('lb').port, 'PROXY TCP4 203.0.113.7 127.0.0.1 4321 80\r\nhi');
    assert.match(echoed, /^e:PROXY TCP4 203\.0\.113\.7 127\.0\.0\.1 4321 \d+\r\nhi$/);
    // Another announced client matches no TCP router: the connection goes to HTTP, which has no router either.
    const answer = await exchange(gateway.address('lb').port, 'PROXY TCP4 198.51.100.1 127.0.0.1 4321 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 404/);
  });

  test('a server with tls: true is reached over TLS, verified against the transport\'s rootCAs', async () => {
    const ca = await makeCA();
    const cert = await makeCert(['backend.internal'], { ca });
    const tlsServer = tls.createServer({ cert: cert.cert, key: cert.key }, (socket) => socket.end(`tls:${socket.servername}`));
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    try {
      const port = (tlsServer.address() as AddressInfo).port;
      gateway.configure(tcpConfig({
        routers: { r: { rule: 'HostSNI(`*`)', service: 's' } },
        services: { s: { loadBalancer: { servers: [{ address: `127.0.0.1:${port}`, tls: true }], serversTransport: 'internal' } } },
        serversTransports: { internal: { tls: { serverName: 'backend.internal', rootCAs: [ca.cert] } } },
      }));
      assert.equal(await exchange(gateway.address('lb').port, ''), 'tls:backend.internal');
      // Without the CA the certificate does not verify: the client's connection is closed.
      gateway.configure(tcpConfig({
        routers: { r: { rule: 'HostSNI(`*`)', service: 's' } },
        services: { s: { loadBalancer: { servers: [{ address: `127.0.0.1:${port}`, tls: true }], serversTransport: 'internal' } } },
        serversTransports: { internal: { tls: { serverName: 'backend.internal' } } },
      }));
      assert.equal(await exchange(gateway.address('lb').port, ''), '');
    } finally {
      tlsServer.close();
    }
  });

  test('an unknown serversTransport, or one whose CA cannot be read, disables the service naming it', () => {
    gateway.configure(tcpConfig({
      routers: { a: { rule: 'HostSNI(`*`)', service: 'a' }, b: { rule: 'HostSNI(`*`)', service: 'b', priority: 5 } },
      services: {
        a: { loadBalancer: { servers: [{ address: '127.0.0.1:1' }], serversTransport: 'nope' } },
        b: { loadBalancer: { servers: [{ address: '127.0.0.1:1' }], serversTransport: 'badca' } },
      },
      serversTransports: { badca: { tls: { rootCAs: ['/nonexistent/ca.pem'] } } },
    }));
    const info = gateway.info.tcp!;
    assert.match(info.services['a@inline']!.errors!.join(), /serversTransport 'nope@inline' does not exist; define it under tcp\.serversTransports/);
    assert.match(info.services['b@inline']!.errors!.join(), /serversTransport 'badca@inline' tls\.rootCAs\[0\]/);
    assert.deepEqual([info.routers['a@inline']!.status, info.routers['b@inline']!.status], ['disabled', 'disabled']);
  });

  test('a server that cannot be reached: the client\'s connection is closed', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = net.createServer();
      server.listen(0, '127.0.0.1', () => {
        const port = (server.address() as AddressInfo).port;
        server.close(() => resolve(port));
      });
    });
    gateway.configure(tcpConfig({
      routers: { r: { rule: 'HostSNI(`*`)', service: 's' } },
      services: { s: { loadBalancer: { servers: [{ address: `127.0.0.1:${closed}` }] } } },
    }));
    assert.equal(await exchange(gateway.address('lb').port, 'lost'), '');
  });
});

describe('TCP connection ends', { timeout: 60_000 }, () => {
  test('after the client half-closes, a server that keeps its side open is closed terminationDelay later', async () => {
    const sockets = new Set<Socket>();
    const silent = net.createServer({ allowHalfOpen: true }, (socket) => {
      sockets.add(socket);
      socket.resume(); // reads and ignores; never ends its side
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const gateway = await startGateway({ args: ['--entrypoints.tcp.address=127.0.0.1:0'] });
    try {
      gateway.configure(tcpConfig({
        routers: { r: { rule: 'HostSNI(`*`)', service: 's' } },
        services: { s: { loadBalancer: { servers: [{ address: `127.0.0.1:${(silent.address() as AddressInfo).port}` }], serversTransport: 'quick' } } },
        serversTransports: { quick: { terminationDelay: '50ms' } },
      }));
      // The server never ends its side: only terminationDelay ends the relay, and so the client's connection.
      assert.equal(await exchange(gateway.address('tcp').port, 'bye'), '');
    } finally {
      await gateway.stop();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  test('a stop closes relayed connections once graceTimeOut is over', async () => {
    const echo = await startEcho('e');
    const gateway = await startGateway({ args: ['--entrypoints.tcp.address=127.0.0.1:0', '--entrypoints.tcp.transport.lifeCycle.graceTimeOut=200ms'] });
    gateway.configure(tcpConfig({
      routers: { r: { rule: 'HostSNI(`*`)', service: 's' } },
      services: { s: { loadBalancer: { servers: [{ address: `127.0.0.1:${echo.port}` }] } } },
    }));
    const socket = net.connect({ host: '127.0.0.1', port: gateway.address('tcp').port });
    let seen = '';
    socket.on('data', (c: Buffer) => (seen += c.toString()));
    socket.on('error', () => undefined);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write('open');
    await eventually(() => seen === 'e:open', 'the connection relayed');
    await gateway.stop();
    await closed;
    await echo.close();
  });

  test('a client that closes before sending anything is let go (peeking entrypoint)', async () => {
    const gateway = await startGateway({ args: ['--entrypoints.tcp.address=127.0.0.1:0'] });
    try {
      // A TLS router turns peeking on: the first bytes are awaited.
      gateway.configure(tcpConfig({
        routers: { r: { rule: 'HostSNI(`a.example`)', service: 's', tls: { passthrough: true } } },
        services: { s: { loadBalancer: { servers: [{ address: '127.0.0.1:1' }] } } },
      }));
      assert.equal(await exchange(gateway.address('tcp').port, ''), '');
    } finally {
      await gateway.stop();
    }
  });
});

describe('Postgres STARTTLS', { timeout: 60_000 }, () => {
  const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]);

  /** Sends the SSLRequest, expects `S`, then handshakes TLS on the same connection and reads until the end. */
  function postgresClient(port: number, servername: string, ca: string): Promise<{ cn: string; text: string }> {
    return new Promise((resolve, reject) => {
      const raw = net.connect({ host: '127.0.0.1', port }, () => raw.write(SSL_REQUEST));
      raw.once('data', (reply: Buffer) => {
        if (reply.toString() !== 'S') return reject(new Error(`expected S, got ${JSON.stringify(reply.toString())}`));
        const secured = tls.connect({ socket: raw, servername, ca }, () => secured.write('startup'));
        let text = '';
        secured.on('data', (c: Buffer) => (text += c.toString()));
        secured.on('end', () => resolve({ cn: String(secured.getPeerCertificate().subject.CN), text }));
        secured.on('error', reject);
      });
      raw.on('error', reject);
    });
  }

  test('passthrough: Wharf answers the SSLRequest, routes by SNI and asks the server for TLS the same way', async () => {
    const ca = await makeCA();
    const cert = await makeCert(['pg.example'], { ca });
    // A Postgres-like server: `S` to the SSLRequest, then TLS; answers what the client sent first.
    const server = net.createServer((socket) => {
      socket.once('data', (request: Buffer) => {
        assert.deepEqual(request, SSL_REQUEST);
        socket.write('S');
        const secured = new tls.TLSSocket(socket, { isServer: true, cert: cert.cert, key: cert.key });
        secured.once('data', (c: Buffer) => secured.end(`server got ${c.toString()}`));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const gateway = await startGateway({ args: ['--entrypoints.pg.address=127.0.0.1:0'] });
    try {
      gateway.configure(tcpConfig({
        routers: { pg: { rule: 'HostSNI(`pg.example`)', service: 'pg', tls: { passthrough: true } } },
        services: { pg: { loadBalancer: { servers: [{ address: `127.0.0.1:${(server.address() as AddressInfo).port}` }] } } },
      }));
      assert.deepEqual(await postgresClient(gateway.address('pg').port, 'pg.example', ca.cert), { cn: 'pg.example', text: 'server got startup' });
    } finally {
      await gateway.stop();
      server.close();
    }
  });
});

describe('TCP configuration from a file', { timeout: 60_000 }, () => {
  test('a YAML file\'s tcp section serves, and its bad element is disabled with the file and field named', async () => {
    const echo = await startEcho('f');
    const dir = tempDir('wharf-tcp-');
    const file = dir.write('dynamic.yml', [
      'tcp:',
      '  routers:',
      '    echo: { rule: "HostSNI(`*`)", service: echo }',
      '    broken: { rule: "HostSNI(`*`)", service: echo, tls: { passthrough: maybe } }',
      '  services:',
      `    echo: { loadBalancer: { servers: [{ address: "127.0.0.1:${echo.port}" }] } }`,
      '',
    ].join('\n'));
    const gateway = await startGateway({ args: ['--entrypoints.tcp.address=127.0.0.1:0', `--providers.file.filename=${file}`] });
    try {
      await eventually(() => gateway.info.tcp?.routers['echo@file']?.status === 'enabled', 'the file loaded');
      assert.equal(await exchange(gateway.address('tcp').port, 'from a file'), 'f:from a file');
      const broken = gateway.info.tcp!.routers['broken@file']!;
      assert.equal(broken.status, 'disabled');
      assert.match(broken.errors!.join(), /dynamic\.yml: tcp\.routers\.broken\.tls\.passthrough: .*"maybe"/);
    } finally {
      await gateway.stop();
      await echo.close();
      dir.remove();
    }
  });
});
