// Live reload with real handshakes: certificates replaced through the dynamic configuration and on disk while
// keep-alive connections stay up, and a broken certificate file that is reported while the previous one is kept.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import { writeFileSync } from 'node:fs';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { makeCert, tempDir, type Pem } from '@wharf/test-helpers';
import tlsPlugin from './index.js';
import { captureLog, handshake, httpsRequest, servedCN, startEchoBackend, type LogLine } from './harness.test.helper.js';

interface Setup {
  gateway: EmbeddedGateway;
  port: number;
  backend: Awaited<ReturnType<typeof startEchoBackend>>;
}

function dynamic(backendURL: string, tls: unknown): Record<string, unknown> {
  return {
    http: { routers: { app: { rule: 'Host(`app.test`)', service: 'app' } }, services: { app: { loadBalancer: { servers: [{ url: backendURL }] } } } },
    tls,
  };
}

async function start(tls: (backend: string) => unknown, log = captureLog().log): Promise<Setup> {
  const backend = await startEchoBackend();
  const gateway = await startGateway({
    plugins: [tlsPlugin],
    args: ['--entrypoints.websecure.address=127.0.0.1:0', '--entrypoints.websecure.http.tls=true'],
    dynamic: dynamic(backend.url, tls(backend.url)),
    log,
  });
  return { gateway, port: gateway.address('websecure').port, backend };
}

describe('certificates replaced through the dynamic configuration', () => {
  let setup: Setup;
  let v1: Pem;
  let v2: Pem;

  before(async () => {
    v1 = await makeCert(['app.test'], { cn: 'app v1' });
    v2 = await makeCert(['app.test'], { cn: 'app v2' });
    setup = await start(() => ({ certificates: [{ certFile: v1.cert, keyFile: v1.key }] }));
  });

  after(async () => {
    await setup.gateway.stop();
    await setup.backend.close();
  });

  test('new handshakes get the new certificate; HTTP/1.1 keep-alive and h2 sessions opened before keep working', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const session = http2.connect(`https://127.0.0.1:${setup.port}`, { servername: 'app.test', rejectUnauthorized: false });
    try {
      const first = await httpsRequest(setup.port, { servername: 'app.test', path: '/1', agent });
      assert.equal(first.socket.getPeerCertificate().subject.CN, 'app v1');
      assert.equal(await h2Status(session), 200);

      setup.gateway.configure(dynamic(setup.backend.url, { certificates: [{ certFile: v2.cert, keyFile: v2.key }] }));

      assert.equal(await servedCN(setup.port, 'app.test'), 'app v2');
      const second = await httpsRequest(setup.port, { servername: 'app.test', path: '/2', agent });
      assert.equal(second.status, 200);
      assert.equal(second.socket, first.socket, 'the keep-alive connection was reused, not re-established');
      assert.equal(second.socket.getPeerCertificate().subject.CN, 'app v1');
      assert.equal(await h2Status(session), 200);
    } finally {
      agent.destroy();
      session.close();
    }
  });
});

describe('a reload that leaves tls alone', () => {
  test('keeps the TLS state, so sessions resume across it', async () => {
    const cert = await makeCert(['app.test']);
    const setup = await start(() => ({ certificates: [{ certFile: cert.cert, keyFile: cert.key }] }));
    try {
      const session = await new Promise<Buffer>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: setup.port, servername: 'app.test', rejectUnauthorized: false });
        // TLS 1.3 tickets arrive after the handshake; the first one is enough.
        socket.once('session', (ticket: Buffer) => {
          resolve(ticket);
          socket.destroy();
        });
        socket.on('error', reject);
      });
      const config = dynamic(setup.backend.url, { certificates: [{ certFile: cert.cert, keyFile: cert.key }] });
      (config.http as { routers: Record<string, unknown> }).routers.other = { rule: 'Host(`other.test`)', service: 'app' };
      setup.gateway.configure(config);
      const resumed = await handshake(setup.port, { servername: 'app.test', session });
      assert.equal(resumed.socket.isSessionReused(), true);
      resumed.socket.destroy();
    } finally {
      await setup.gateway.stop();
      await setup.backend.close();
    }
  });
});

describe('certificate files watched on disk', () => {
  let setup: Setup;
  let files: ReturnType<typeof tempDir>;
  let capture: ReturnType<typeof captureLog>;
  let certFile: string;
  let keyFile: string;
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });

  before(async () => {
    files = tempDir();
    capture = captureLog();
    const v1 = await makeCert(['app.test'], { cn: 'app v1' });
    certFile = files.write('app.crt', v1.cert);
    keyFile = files.write('app.key', v1.key);
    setup = await start(() => ({ certificates: [{ certFile, keyFile }] }), capture.log);
  });

  after(async () => {
    agent.destroy();
    await setup.gateway.stop();
    await setup.backend.close();
    files.remove();
  });

  /** Waits for the next log line (after the ones already seen) that matches. */
  function nextLine(match: (line: LogLine) => boolean): Promise<LogLine> {
    const seen = capture.lines.length;
    return capture.waitFor((line) => capture.lines.indexOf(line) >= seen && match(line));
  }

  test('a replaced certificate is served to new handshakes while the open connection keeps working', async () => {
    const first = await httpsRequest(setup.port, { servername: 'app.test', path: '/1', agent });
    assert.equal(first.socket.getPeerCertificate().subject.CN, 'app v1');
    const v2 = await makeCert(['app.test'], { cn: 'app v2' });
    const reloaded = nextLine((l) => l.msg.includes('reloaded'));
    writeFileSync(keyFile, v2.key);
    writeFileSync(certFile, v2.cert);
    await reloaded;
    assert.equal(await servedCN(setup.port, 'app.test'), 'app v2');
    const second = await httpsRequest(setup.port, { servername: 'app.test', path: '/2', agent });
    assert.equal(second.status, 200);
    assert.equal(second.socket, first.socket);
  });

  test('a broken certificate file is reported by name and the previous certificate stays in service', async () => {
    const reported = nextLine((l) => l.level === 'error' && l.msg.includes(certFile));
    writeFileSync(certFile, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    const error = await reported;
    assert.match(error.msg, /not a PEM certificate; keeping the certificate loaded before/);
    assert.equal(await servedCN(setup.port, 'app.test'), 'app v2');
  });

  test('a key that does not match the certificate is reported and the previous pair kept; fixing both files recovers', async () => {
    const v3 = await makeCert(['app.test'], { cn: 'app v3' });
    const mismatch = nextLine((l) => l.level === 'error' && l.msg.includes('does not match'));
    writeFileSync(certFile, v3.cert);
    const error = await mismatch;
    assert.ok(error.msg.includes(keyFile), error.msg);
    assert.ok(!error.msg.includes('PRIVATE KEY'), 'no key material in messages');
    assert.equal(await servedCN(setup.port, 'app.test'), 'app v2');
    const reloaded = nextLine((l) => l.msg.includes('reloaded'));
    writeFileSync(keyFile, v3.key);
    await reloaded;
    assert.equal(await servedCN(setup.port, 'app.test'), 'app v3');
  });
});

function h2Status(session: http2.ClientHttp2Session): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': '/h2', ':authority': 'app.test' });
    req.on('response', (headers) => resolve(Number(headers[':status'])));
    req.on('error', reject);
    req.resume();
    req.end();
  });
}
