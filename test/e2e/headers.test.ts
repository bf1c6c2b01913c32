// End-to-end header handling: hop-by-hop removal both ways, X-Forwarded-* from untrusted and trusted peers, passHostHeader.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { echo, json, request, startBackend, type Backend, type EchoBody } from '@wharf/test-helpers';
import { startTestGateway, type TestGateway } from './gateway.js';

const SPOOFED = {
  'x-forwarded-for': '203.0.113.7',
  'x-forwarded-host': 'spoofed.test',
  'x-forwarded-proto': 'https',
  'x-forwarded-port': '8443',
  'x-real-ip': '203.0.113.7',
};

describe('headers', () => {
  let backend: Backend;
  let gw: TestGateway;
  let trustedPort: number;

  before(async () => {
    const answer = echo('headers');
    backend = await startBackend('headers', (req, res, recorded) => {
      if (req.url === '/hop-response') {
        req.resume();
        res.writeHead(200, { connection: 'x-resp-hop', 'x-resp-hop': '1', 'keep-alive': 'timeout=99', 'proxy-connection': 'keep-alive', 'x-kept': 'yes' });
        res.end('ok');
      } else answer(req, res, recorded);
    });
    gw = await startTestGateway(
      {
        http: {
          routers: {
            pass: { rule: 'Host(`app.test`)', service: 'pass' },
            own: { rule: 'Host(`own.test`)', service: 'own' },
          },
          services: {
            pass: { loadBalancer: { servers: [{ url: backend.url }] } },
            own: { loadBalancer: { servers: [{ url: backend.url }], passHostHeader: false } },
          },
        },
      },
      {
        args: [
          // The test client is 127.0.0.1: trusted on `trusted`, not on `web` (which trusts someone else).
          '--entrypoints.web.forwardedHeaders.trustedIPs=10.0.0.0/8',
          '--entrypoints.trusted.address=127.0.0.1:0',
          '--entrypoints.trusted.forwardedHeaders.trustedIPs=127.0.0.0/8,::1',
        ],
      },
    );
    trustedPort = gw.gateway.address('trusted').port;
  });

  after(async () => {
    await gw.stop();
    await backend.close();
  });

  async function seenBy(port: number, headers: Record<string, string>, path = '/'): Promise<EchoBody['headers']> {
    const reply = await request(port, { path, headers: { host: 'app.test', ...headers } });
    assert.equal(reply.status, 200, reply.body);
    return json<EchoBody>(reply).headers;
  }

  test('hop-by-hop request headers are removed, including those named by Connection', async () => {
    const seen = await seenBy(gw.port, {
      connection: 'keep-alive, x-custom-hop',
      'x-custom-hop': 'secret',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      'proxy-authorization': 'Basic Zm9vOmJhcg==',
      te: 'gzip',
      'x-end-to-end': 'kept',
    });
    for (const name of ['x-custom-hop', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te']) {
      assert.equal(seen[name], undefined, `${name} must not reach the backend`);
    }
    assert.equal(seen['x-end-to-end'], 'kept');
  });

  test('hop-by-hop response headers are removed, including those named by Connection', async () => {
    const reply = await request(gw.port, { path: '/hop-response', headers: { host: 'app.test' } });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-resp-hop'], undefined);
    assert.equal(reply.headers['proxy-connection'], undefined);
    assert.notEqual(reply.headers['keep-alive'], 'timeout=99');
    assert.equal(reply.headers['x-kept'], 'yes');
  });

  test('from an untrusted peer, X-Forwarded-* are replaced by what the gateway saw', async () => {
    const seen = await seenBy(gw.port, SPOOFED);
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-real-ip'], '127.0.0.1');
    assert.equal(seen['x-forwarded-host'], 'app.test');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-port'], '80');
    assert.equal(seen['x-forwarded-server'], hostname());
    assert.equal(seen.host, 'app.test');
  });

  test('from a trusted peer, X-Forwarded-* are kept and the peer is appended to X-Forwarded-For', async () => {
    const seen = await seenBy(trustedPort, SPOOFED);
    assert.equal(seen['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
    assert.equal(seen['x-real-ip'], '203.0.113.7');
    assert.equal(seen['x-forwarded-host'], 'spoofed.test');
    assert.equal(seen['x-forwarded-proto'], 'https');
    assert.equal(seen['x-forwarded-port'], '8443');
  });

  test('Connection cannot remove the forwarded headers (untrusted or trusted)', async () => {
    const trick = { connection: 'X-Forwarded-For, X-Real-Ip, X-Forwarded-Host', ...SPOOFED };
    const untrusted = await seenBy(gw.port, trick);
    assert.equal(untrusted['x-forwarded-for'], '127.0.0.1');
    assert.equal(untrusted['x-real-ip'], '127.0.0.1');
    assert.equal(untrusted['x-forwarded-host'], 'app.test');
    const trusted = await seenBy(trustedPort, trick);
    assert.equal(trusted['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
    assert.equal(trusted['x-forwarded-host'], 'spoofed.test');
  });

  test('the client port in Host becomes X-Forwarded-Port', async () => {
    const seen = await seenBy(gw.port, { host: 'app.test:8081' });
    assert.equal(seen['x-forwarded-port'], '8081');
    assert.equal(seen['x-forwarded-host'], 'app.test:8081');
  });

  test('passHostHeader false sends the server\'s own host, the client\'s in X-Forwarded-Host', async () => {
    const seen = await seenBy(gw.port, { host: 'own.test' });
    assert.equal(seen.host, `127.0.0.1:${backend.port}`);
    assert.equal(seen['x-forwarded-host'], 'own.test');
  });
});
