// TLS decided per router, as in Traefik: on an entrypoint without http.tls, routers with `tls` answer TLS
// connections (certificates by SNI, HTTP/2 by ALPN) and routers without it answer plain HTTP, on the same port.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import http2 from 'node:http2';
import tls from 'node:tls';
import { startTestGateway, type TestGateway } from './gateway.js';
import { startBackend, get, json, makeCA, makeCert, type Backend, type EchoBody, type Pem } from '@wharf/test-helpers';

function httpsGet(port: number, host: string, ca: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, servername: host, headers: { host }, ca, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

describe('TLS per router on an entrypoint without http.tls', () => {
  let secureBackend: Backend;
  let plainBackend: Backend;
  let gw: TestGateway;
  let ca: Pem;

  before(async () => {
    ca = await makeCA();
    const cert = await makeCert(['app.test'], { ca });
    secureBackend = await startBackend('secure');
    plainBackend = await startBackend('plain');
    gw = await startTestGateway({
      http: {
        routers: {
          secure: { rule: 'Host(`app.test`)', tls: {}, service: 'secure' },
          plain: { rule: 'Host(`app.test`)', service: 'plain' },
          onlyPlain: { rule: 'Host(`plain.test`)', service: 'plain' },
        },
        services: { secure: { loadBalancer: { servers: [{ url: secureBackend.url }] } }, plain: { loadBalancer: { servers: [{ url: plainBackend.url }] } } },
      },
      tls: { certificates: [{ certFile: cert.cert, keyFile: cert.key }] },
    });
  });

  after(async () => {
    await gw?.stop();
    await secureBackend?.close();
    await plainBackend?.close();
  });

  test('a TLS connection reaches the router with tls, with its certificate chosen by SNI', async () => {
    const reply = await httpsGet(gw.port, 'app.test', ca.cert);
    assert.equal(reply.status, 200);
    assert.equal((JSON.parse(reply.body) as { name: string }).name, 'secure');
  });

  test('plain HTTP on the same port reaches the router without tls', async () => {
    const reply = await get(gw.port, '/', 'app.test');
    assert.equal(reply.status, 200);
    const echo = json<EchoBody>(reply);
    assert.equal(echo.name, 'plain');
    assert.equal(echo.headers['x-forwarded-proto'], 'http');
  });

  test('a host with only a plain router is not served over TLS', async () => {
    const reply = await httpsGet(gw.port, 'plain.test', ca.cert).catch((err: Error) => ({ status: -1, body: err.message }));
    // The default certificate does not name plain.test: the client refuses it, or, trusting it, would get a 404.
    assert.notEqual(reply.status, 200);
  });

  test('HTTP/2 through ALPN on the mixed entrypoint', async () => {
    const session = http2.connect(`https://127.0.0.1:${gw.port}`, { ca: ca.cert, servername: 'app.test' });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':path': '/', ':authority': 'app.test' });
        let text = '';
        stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      });
      assert.equal((JSON.parse(body) as { name: string; headers: Record<string, string> }).headers['x-forwarded-proto'], 'https');
    } finally {
      session.close();
    }
  });

  test('the handshake offers the router certificate, not the default one', async () => {
    const subject = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: gw.port, servername: 'app.test', ca: ca.cert }, () => {
        resolve(String(socket.getPeerCertificate().subjectaltname));
        socket.end();
      });
      socket.on('error', reject);
    });
    assert.match(subject, /DNS:app\.test/);
  });

  test('the API lists the router with tls on the entrypoint, enabled', () => {
    const router = gw.gateway.info.routers['secure@inline'];
    assert.equal(router?.status, 'enabled');
    assert.deepEqual(router?.entryPoints, ['web']);
  });
});
