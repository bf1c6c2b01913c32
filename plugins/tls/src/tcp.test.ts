// TCP routers with TLS terminated by the TLS plugin: a real redis-server behind HostSNI (ioredis over TLS), TLS
// options applied, and an entrypoint shared by HTTPS routers and a non-TLS HostSNI(`*`) TCP router.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { Redis } from 'ioredis';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { makeCA, makeCert, startRedisServer, startServer, type Pem, type RedisServerProcess } from '@wharf/test-helpers';
import tlsPlugin from './index.js';

describe('TCP routers with TLS terminated by Wharf', { timeout: 60_000 }, () => {
  let ca: Pem;
  let redis: RedisServerProcess;
  let echo: net.Server;
  let web: { url: string; close(): Promise<void> };
  let gateway: EmbeddedGateway;

  before(async () => {
    ca = await makeCA();
    const cert = await makeCert(['redis.test', 'www.test', 'locked.test', 'pg.test'], { ca });
    redis = await startRedisServer();
    echo = net.createServer((socket) => {
      socket.write('echo:');
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    web = await startServer((_req, res) => res.end('web'));
    gateway = await startGateway({ plugins: [tlsPlugin], args: ['--entrypoints.edge.address=127.0.0.1:0'] });
    gateway.configure({
      tls: { certificates: [{ certFile: cert.cert, keyFile: cert.key }], options: { old: { maxVersion: 'VersionTLS12' } } },
      http: {
        routers: { www: { rule: 'Host(`www.test`)', service: 'web', tls: {} } },
        services: { web: { loadBalancer: { servers: [{ url: web.url }] } } },
      },
      tcp: {
        routers: {
          redis: { rule: 'HostSNI(`redis.test`)', service: 'redis', tls: {} },
          locked: { rule: 'HostSNI(`locked.test`)', service: 'echo', tls: { options: 'old' } },
          pg: { rule: 'HostSNI(`pg.test`)', service: 'echo', tls: {} },
          plain: { rule: 'HostSNI(`*`)', service: 'echo' },
        },
        services: {
          redis: { loadBalancer: { servers: [{ address: `127.0.0.1:${redis.port}` }] } },
          echo: { loadBalancer: { servers: [{ address: `127.0.0.1:${(echo.address() as AddressInfo).port}` }] } },
        },
      },
    });
  });
  after(async () => {
    await gateway.stop();
    await Promise.all([redis.stop(), web.close(), new Promise((r) => echo.close(r))]);
  });

  test('a real redis-server answers ioredis over TLS, routed by SNI', async () => {
    const client = new Redis({ host: '127.0.0.1', port: gateway.address('edge').port, tls: { servername: 'redis.test', ca: ca.cert }, maxRetriesPerRequest: 0, lazyConnect: true });
    try {
      await client.connect();
      assert.equal(await client.set('greeting', 'hello over tls'), 'OK');
      assert.equal(await client.get('greeting'), 'hello over tls');
    } finally {
      client.disconnect();
    }
  });

  test('the router\'s TLS options apply to its handshakes', async () => {
    const version = await new Promise<string | null>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: gateway.address('edge').port, servername: 'locked.test', ca: ca.cert }, () => {
        resolve(socket.getProtocol());
        socket.destroy();
      });
      socket.on('error', reject);
    });
    assert.equal(version, 'TLSv1.2');
  });

  test('HTTPS routers and a non-TLS HostSNI(`*`) TCP router share the entrypoint', async () => {
    const port = gateway.address('edge').port;
    const body = await new Promise<string>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port, servername: 'www.test', headers: { host: 'www.test' }, ca: ca.cert, agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    assert.equal(body, 'web');
    const echoed = await new Promise<string>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write('plain bytes'));
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString();
        if (text === 'echo:plain bytes') {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
    });
    assert.equal(echoed, 'echo:plain bytes');
  });

  test('Postgres STARTTLS: the SSLRequest is answered, TLS terminated, the server gets the plain protocol', async () => {
    const port = gateway.address('edge').port;
    const answer = await new Promise<string>((resolve, reject) => {
      const raw = net.connect({ host: '127.0.0.1', port }, () => raw.write(Buffer.from([0, 0, 0, 8, 4, 210, 22, 47])));
      raw.once('data', (reply: Buffer) => {
        assert.equal(reply.toString(), 'S');
        const secured = tls.connect({ socket: raw, servername: 'pg.test', ca: ca.cert }, () => secured.write('startup'));
        let text = '';
        secured.on('data', (c: Buffer) => {
          text += c.toString();
          if (text === 'echo:startup') {
            secured.destroy();
            resolve(text);
          }
        });
        secured.on('error', reject);
      });
      raw.on('error', reject);
    });
    assert.equal(answer, 'echo:startup');
  });

  test('a TCP TLS router shows up enabled in the runtime information', () => {
    assert.equal(gateway.info.tcp?.routers['redis@inline']?.status, 'enabled');
    assert.deepEqual(gateway.info.tcp?.routers['redis@inline']?.entryPoints, ['edge']);
  });
});
