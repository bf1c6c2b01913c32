// End-to-end TLS through the real `wharf` command and the file provider: http → https by one flag, HTTP/1.1 and h2
// (with a streamed upload) proxied to an HTTP/1.1 backend, and certificates added by editing the dynamic file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { makeCA, makeCert, spawnWharf, startBackend, type Backend, type EchoBody, type Pem, type WharfProcess } from '@wharf/test-helpers';

/** The dynamic file: one router to the backend, and the certificates listed (as file paths). */
function dynamicYaml(backend: string, certs: Array<{ cert: string; key: string }>): string {
  return [
    'http:',
    '  routers:',
    '    app:',
    '      rule: Host(`app.test`) || Host(`new.test`)',
    '      service: app',
    '  services:',
    '    app:',
    '      loadBalancer:',
    '        servers:',
    `          - url: ${backend}`,
    'tls:',
    '  certificates:',
    ...certs.flatMap((c) => [`    - certFile: ${c.cert}`, `      keyFile: ${c.key}`]),
    '',
  ].join('\n');
}

describe('TLS with the wharf command and the file provider', () => {
  let dir: string;
  let ca: Pem;
  let backend: Backend;
  let wharf: WharfProcess;
  let dynamicFile: string;
  let appFiles: { cert: string; key: string };
  let web: number;
  let secure: number;

  const write = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-e2e-tls-'));
    ca = await makeCA('e2e CA');
    const app = await makeCert(['app.test'], { ca });
    appFiles = { cert: write('app.crt', app.cert), key: write('app.key', app.key) };
    backend = await startBackend('app');
    dynamicFile = write('dynamic.yml', dynamicYaml(backend.url, [appFiles]));
    wharf = spawnWharf([
      '--entrypoints.web.address=127.0.0.1:0',
      '--entrypoints.web.http.redirections.entryPoint.to=websecure',
      '--entrypoints.websecure.address=127.0.0.1:0',
      '--entrypoints.websecure.http.tls=true',
      `--providers.file.filename=${dynamicFile}`,
      '--providers.providersThrottleDuration=0s',
    ]);
    web = await wharf.port('web');
    secure = await wharf.port('websecure');
    await wharf.waitFor(/configuration \d+ applied: 1 routers/);
  });

  after(async () => {
    await wharf.stop();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** HTTPS/1.1 GET that verifies the certificate against the test CA for `host`. */
  function httpsGet(host: string, path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port: secure, path, servername: host, headers: { host }, ca: [ca.cert], agent: false, ALPNProtocols: ['http/1.1'] } as https.RequestOptions, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });
  }

  test('http → https with one flag, then the request is served over a verified TLS connection', async () => {
    const redirect = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: web, path: '/a/b?c=1', headers: { host: 'app.test' }, agent: false }, resolve).on('error', reject);
    });
    redirect.resume();
    assert.equal(redirect.statusCode, 301);
    assert.equal(redirect.headers.location, `https://app.test:${secure}/a/b?c=1`);
    const reply = await httpsGet('app.test', '/a/b?c=1');
    assert.equal(reply.status, 200);
    const seen = JSON.parse(reply.body) as EchoBody;
    assert.equal(seen.url, '/a/b?c=1');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
  });

  test('an h2 upload of unknown length streams to the HTTP/1.1 backend in full', async () => {
    const session = http2.connect(`https://127.0.0.1:${secure}`, { servername: 'app.test', ca: [ca.cert] });
    try {
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const chunks = 20;
      const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': '/upload', ':authority': 'app.test' });
        let status = 0;
        let body = '';
        req.on('response', (h) => (status = Number(h[':status'])));
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => resolve({ status, body }));
        req.on('error', reject);
        let sent = 0;
        const pump = () => {
          while (sent < chunks) {
            sent++;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
      assert.equal(reply.status, 200);
      const seen = JSON.parse(reply.body) as EchoBody;
      assert.equal(seen.method, 'POST');
      assert.equal(seen.bodyBytes, chunk.length * chunks);
      assert.equal(seen.headers['x-forwarded-proto'], 'https');
      assert.equal(seen.headers.host, 'app.test');
    } finally {
      session.close();
    }
  });

  test('a certificate added to the dynamic file is served to new handshakes for its name', async () => {
    const fresh = await makeCert(['new.test'], { ca });
    const files = { cert: write('new.crt', fresh.cert), key: write('new.key', fresh.key) };
    const mark = wharf.mark();
    writeFileSync(dynamicFile, dynamicYaml(backend.url, [appFiles, files]));
    await wharf.waitFor(/configuration \d+ applied/, mark);
    const peer = await new Promise<tls.PeerCertificate>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: secure, servername: 'new.test', ca: [ca.cert] }, () => {
        resolve(socket.getPeerCertificate());
        socket.destroy();
      });
      socket.on('error', reject);
    });
    assert.equal(peer.subject.CN, 'new.test');
    assert.equal((await httpsGet('new.test', '/')).status, 200);
  });
});
