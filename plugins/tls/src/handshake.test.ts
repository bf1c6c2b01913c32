// Real TLS handshakes on loopback: certificates by SNI, the default and self-signed fallbacks, sniStrict, versions,
// cipher suites, mutual TLS, ALPN (h2 and HTTP/1.1 on one port), 421 on domain fronting, TLS details over HTTP/2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { definePlugin, startGateway, Type, type EmbeddedGateway, type Logger, type WharfContext } from '@wharf/core';
import { makeCA, makeCert, tempDir, type Pem } from '@wharf/test-helpers';
import { generate } from 'selfsigned';
import tlsPlugin from './index.js';
import { captureLog, handshake, httpsRequest, servedCN, startEchoBackend } from './harness.test.helper.js';

/** Answers what the TLS connection under the request looks like, as an access log would read it. */
const tlsInfo = definePlugin({
  name: 'tlsinfo',
  schema: Type.Object({}),
  setup(_config, host) {
    host.services.provide('tlsinfo', async function tlsInfoService(ctx: WharfContext) {
      const socket = ctx.req.socket as TLSSocket;
      const secure = socket.encrypted === true;
      ctx.body = { protocol: secure ? socket.getProtocol() : null, cipher: secure ? socket.getCipher().name : null, servername: secure ? socket.servername : null, httpVersion: ctx.req.httpVersion, host: ctx.host };
    });
  },
});

/** What an access log reads from ctx.req.socket once the response is over, per request. */
const afterResponse: Array<Record<string, unknown>> = [];
let onRecorded: (() => void) | undefined;
const socketRecorder = definePlugin({
  name: 'socketrecorder',
  schema: Type.Object({}),
  setup(_config, host) {
    host.entrypoints.use(async function recordSocket(ctx: WharfContext, next) {
      const socket = ctx.req.socket as TLSSocket;
      await next();
      if (socket.encrypted !== true) return;
      ctx.res.once('close', () => {
        afterResponse.push({ encrypted: socket.encrypted, protocol: socket.getProtocol(), cipher: socket.getCipher()?.name, remotePort: socket.remotePort, httpVersion: ctx.req.httpVersion });
        onRecorded?.();
      });
    });
  },
});

interface Started {
  gateway: EmbeddedGateway;
  port: number;
}

async function startTLS(dynamic: unknown, options: { args?: string[]; log?: Logger } = {}): Promise<Started> {
  const gateway = await startGateway({
    plugins: [tlsPlugin, tlsInfo, socketRecorder],
    args: ['--entrypoints.websecure.address=127.0.0.1:0', '--entrypoints.websecure.http.tls=true', ...(options.args ?? [])],
    dynamic,
    ...(options.log ? { log: options.log } : {}),
  });
  return { gateway, port: gateway.address('websecure').port };
}

/** Routers `<name>` for each host → the tlsinfo service, with optional router-level TLS options. */
function routes(hosts: Record<string, string | undefined>): Record<string, unknown> {
  const routers: Record<string, unknown> = {};
  for (const [host, options] of Object.entries(hosts)) {
    routers[host.replace(/\W/g, '-')] = { rule: `Host(\`${host}\`)`, service: 'tlsinfo@internal', ...(options ? { tls: { options } } : {}) };
  }
  return { http: { routers } };
}

async function refused(promise: Promise<unknown>): Promise<Error> {
  try {
    const result = await promise;
    const socket = (result as { socket?: TLSSocket }).socket;
    socket?.destroy();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the connection to be refused');
}

describe('certificates chosen by SNI', () => {
  let ca: Pem;
  let files: ReturnType<typeof tempDir>;
  let gw: Started;

  before(async () => {
    ca = await makeCA();
    files = tempDir();
    const exact = await makeCert(['a.test'], { ca });
    const wildcard = await makeCert(['*.w.test'], { ca });
    const specific = await makeCert(['x.w.test'], { ca });
    const fallback = await makeCert(['default.test'], { ca });
    gw = await startTLS({
      tls: {
        certificates: [
          { certFile: files.write('a.crt', exact.cert), keyFile: files.write('a.key', exact.key) },
          // Inline PEM works as well as a path (Traefik's FileOrContent).
          { certFile: wildcard.cert, keyFile: wildcard.key },
          { certFile: files.write('x.crt', specific.cert), keyFile: files.write('x.key', specific.key) },
        ],
        stores: { default: { defaultCertificate: { certFile: files.write('d.crt', fallback.cert), keyFile: files.write('d.key', fallback.key) } } },
      },
    });
  });

  after(async () => {
    await gw.gateway.stop();
    files.remove();
  });

  const cases = [
    { desc: 'exact name', servername: 'a.test', expected: 'a.test' },
    { desc: 'SNI is case-insensitive', servername: 'A.Test', expected: 'a.test' },
    { desc: 'wildcard one label deep', servername: 'b.w.test', expected: '*.w.test' },
    { desc: 'an exact certificate beats the wildcard', servername: 'x.w.test', expected: 'x.w.test' },
    { desc: 'a wildcard does not cover two labels', servername: 'deep.b.w.test', expected: 'default.test' },
    { desc: 'unknown name gets the default certificate', servername: 'nobody.test', expected: 'default.test' },
    { desc: 'no SNI gets the default certificate', servername: undefined, expected: 'default.test' },
  ];
  for (const { desc, servername, expected } of cases) {
    test(desc, async () => {
      assert.equal(await servedCN(gw.port, servername), expected);
    });
  }

  test('the served certificate verifies against its CA for the name asked', async () => {
    const result = await handshake(gw.port, { servername: 'b.w.test', ca: [ca.cert], rejectUnauthorized: true });
    assert.equal(result.socket.authorized, true);
    result.socket.destroy();
  });
});

describe('certificates whose key type differs from the default certificate', () => {
  const gateways: Started[] = [];

  /** A self-signed certificate for `name` with an RSA 2048 or EC P-256 key. */
  async function certificate(name: string, key: 'rsa' | 'ec'): Promise<{ certFile: string; keyFile: string }> {
    const pems = await generate([{ name: 'commonName', value: name }], {
      algorithm: 'sha256',
      ...(key === 'rsa' ? { keySize: 2048 } : { keyType: 'ec', curve: 'P-256' }),
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: name }] }],
    });
    return { certFile: pems.cert, keyFile: pems.private };
  }

  after(async () => {
    await Promise.all(gateways.map((g) => g.gateway.stop()));
  });

  // Node's SNICallback ignores a context whose key type differs from the server's own (nodejs/node#54235): TLS 1.3
  // got the default certificate instead of an RSA one (every ACME certificate of keyType RSA*), TLS 1.2 instead of an EC one.
  for (const [defaultKey, otherKey] of [['ec', 'rsa'], ['rsa', 'ec']] as const) {
    test(`an ${otherKey.toUpperCase()} certificate behind an ${defaultKey.toUpperCase()} default is served by SNI over TLS 1.3 and 1.2`, async () => {
      const gw = await startTLS({
        tls: {
          certificates: [await certificate('other.test', otherKey), await certificate('same.test', defaultKey)],
          stores: { default: { defaultCertificate: await certificate('default.test', defaultKey) } },
        },
      });
      gateways.push(gw);
      for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
        assert.equal(await servedCN(gw.port, 'other.test', { maxVersion }), 'other.test', `${maxVersion}: the ${otherKey} certificate`);
        assert.equal(await servedCN(gw.port, 'same.test', { maxVersion }), 'same.test', `${maxVersion}: the ${defaultKey} certificate`);
        assert.equal(await servedCN(gw.port, 'nobody.test', { maxVersion }), 'default.test', `${maxVersion}: the default for an unknown name`);
      }
    });
  }
});

describe('self-signed default', () => {
  test('without any certificate, a generated self-signed one is served and a warning says how to configure one', async () => {
    const capture = captureLog();
    const gw = await startTLS({ http: {} }, { log: capture.log });
    try {
      assert.equal(await servedCN(gw.port, 'any.test'), 'WHARF DEFAULT CERT');
      assert.equal(await servedCN(gw.port), 'WHARF DEFAULT CERT');
      const warning = await capture.waitFor((l) => l.level === 'warn' && l.msg.includes('self-signed'));
      assert.match(warning.msg, /tls\.stores\.default\.defaultCertificate/);
    } finally {
      await gw.gateway.stop();
    }
  });

  test('a configured certificate that cannot be loaded leaves the self-signed default and names the file', async () => {
    const capture = captureLog();
    const files = tempDir();
    const gw = await startTLS({ tls: { stores: { default: { defaultCertificate: { certFile: files.write('bad.crt', 'not a certificate'), keyFile: files.write('bad.key', 'nope') } } } } }, { log: capture.log });
    try {
      const error = await capture.waitFor((l) => l.level === 'error' && l.msg.includes('bad.crt'));
      assert.match(error.msg, /not a PEM certificate/);
      assert.equal(await servedCN(gw.port), 'WHARF DEFAULT CERT');
    } finally {
      await gw.gateway.stop();
      files.remove();
    }
  });
});

describe('sniStrict', () => {
  let gw: Started;

  before(async () => {
    const known = await makeCert(['known.test']);
    gw = await startTLS({ tls: { certificates: [{ certFile: known.cert, keyFile: known.key }], options: { default: { sniStrict: true } } } });
  });

  after(() => gw.gateway.stop());

  test('a name with a certificate is served', async () => {
    assert.equal(await servedCN(gw.port, 'known.test'), 'known.test');
  });

  test('an unknown name is refused instead of getting the default certificate', async () => {
    const err = await refused(handshake(gw.port, { servername: 'unknown.test' }));
    assert.match(err.message, /unrecognized name/i);
  });

  test('a client without SNI is refused', async () => {
    const err = await refused(handshake(gw.port));
    assert.match(err.message, /unrecognized name/i);
  });
});

describe('TLS versions and cipher suites', () => {
  let gw: Started;
  // A TLS 1.1 client: OpenSSL 3 only offers TLS 1.1 at security level 0.
  const tls11Client = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const;

  before(async () => {
    const cert = await makeCert(['modern.test', 'legacy.test', 'tls12.test', 'suites.test']);
    gw = await startTLS({
      ...routes({ 'modern.test': undefined, 'legacy.test': 'legacy', 'tls12.test': 'tls12', 'suites.test': 'suites' }),
      tls: {
        certificates: [{ certFile: cert.cert, keyFile: cert.key }],
        options: {
          legacy: { minVersion: 'VersionTLS11' },
          tls12: { maxVersion: 'VersionTLS12' },
          suites: { maxVersion: 'VersionTLS12', cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'] },
        },
      },
    });
  });

  after(() => gw.gateway.stop());

  test('a TLS 1.1 client is refused under the default minVersion VersionTLS12', async () => {
    const err = await refused(handshake(gw.port, { servername: 'modern.test', ...tls11Client }));
    assert.match(err.message, /protocol version|unsupported protocol/i);
  });

  test('the same client is accepted for a host whose router uses minVersion VersionTLS11', async () => {
    const result = await handshake(gw.port, { servername: 'legacy.test', ...tls11Client });
    assert.equal(result.protocol, 'TLSv1.1');
    result.socket.destroy();
  });

  test('TLS 1.3 by default; maxVersion VersionTLS12 caps it per host', async () => {
    const modern = await handshake(gw.port, { servername: 'modern.test' });
    const capped = await handshake(gw.port, { servername: 'tls12.test' });
    assert.equal(modern.protocol, 'TLSv1.3');
    assert.equal(capped.protocol, 'TLSv1.2');
    modern.socket.destroy();
    capped.socket.destroy();
  });

  test("a client's TLS 1.2 renegotiation is refused, as Go's server refuses it; the gateway goes on serving", async () => {
    const { socket } = await handshake(gw.port, { servername: 'tls12.test' });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined); // the reset that may follow the refusal
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await Promise.race([new Promise<void>((resolve) => socket.renegotiate({ rejectUnauthorized: false }, () => resolve())), closed]);
    // Had the renegotiation gone through, this request on the renegotiated connection would be answered 200.
    if (!socket.destroyed) socket.write('GET / HTTP/1.1\r\nHost: tls12.test\r\nConnection: close\r\n\r\n');
    await closed;
    assert.doesNotMatch(Buffer.concat(received).toString('latin1'), /^HTTP\/1\.1 200/);
    const reply = await httpsRequest(gw.port, { servername: 'tls12.test', path: '/' });
    assert.equal(reply.status, 200);
  });

  test('cipherSuites by their Go names select the OpenSSL suite', async () => {
    const reply = await httpsRequest(gw.port, { servername: 'suites.test', path: '/' });
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(reply.body).cipher, 'ECDHE-ECDSA-AES128-GCM-SHA256');
  });
});

describe('mutual TLS', () => {
  let ca: Pem;
  let client: Pem;
  let stranger: Pem;
  let files: ReturnType<typeof tempDir>;
  let gw: Started;

  before(async () => {
    ca = await makeCA('Client CA');
    client = await makeCert([], { ca, cn: 'trusted client', usage: 'client' });
    stranger = await makeCert([], { cn: 'self-signed client', usage: 'client' });
    files = tempDir();
    const server = await makeCert(['required.test', 'optional.test', 'any.test', 'request.test']);
    const caFile = files.write('client-ca.pem', ca.cert);
    const auth = (clientAuthType: string, withCA = true) => ({ clientAuth: { clientAuthType, ...(withCA ? { caFiles: [caFile] } : {}) } });
    gw = await startTLS({
      ...routes({ 'required.test': 'required', 'optional.test': 'optional', 'any.test': 'any', 'request.test': 'request' }),
      tls: {
        certificates: [{ certFile: server.cert, keyFile: server.key }],
        options: {
          required: auth('RequireAndVerifyClientCert'),
          optional: auth('VerifyClientCertIfGiven'),
          any: auth('RequireAnyClientCert', false),
          request: auth('RequestClientCert', false),
        },
      },
    });
  });

  after(async () => {
    await gw.gateway.stop();
    files.remove();
  });

  const get = (servername: string, cert?: Pem) => httpsRequest(gw.port, { servername, path: '/', ...(cert ? { cert: cert.cert, key: cert.key } : {}) });

  test('RequireAndVerifyClientCert: a certificate from the CA is accepted', async () => {
    assert.equal((await get('required.test', client)).status, 200);
  });

  test('RequireAndVerifyClientCert: no certificate, or one from another CA, is rejected', async () => {
    await refused(get('required.test'));
    await refused(get('required.test', stranger));
  });

  test('VerifyClientCertIfGiven: none is fine, a good one is fine, a bad one is rejected', async () => {
    assert.equal((await get('optional.test')).status, 200);
    assert.equal((await get('optional.test', client)).status, 200);
    await refused(get('optional.test', stranger));
  });

  test('RequireAnyClientCert: any certificate, even unverifiable, but not none', async () => {
    assert.equal((await get('any.test', stranger)).status, 200);
    await refused(get('any.test'));
  });

  test('RequestClientCert: asked for, never required', async () => {
    assert.equal((await get('request.test')).status, 200);
    assert.equal((await get('request.test', stranger)).status, 200);
  });
});

describe('HTTP/2 and HTTP/1.1 on one port (ALPN)', () => {
  let gw: Started;
  let backend: Awaited<ReturnType<typeof startEchoBackend>>;

  before(async () => {
    backend = await startEchoBackend();
    const cert = await makeCert(['app.test', 'h1only.test']);
    gw = await startTLS({
      http: {
        routers: {
          app: { rule: 'Host(`app.test`)', service: 'app' },
          info: { rule: 'Host(`app.test`) && Path(`/tls`)', service: 'tlsinfo@internal' },
          h1only: { rule: 'Host(`h1only.test`)', service: 'app', tls: { options: 'h1' } },
        },
        services: { app: { loadBalancer: { servers: [{ url: backend.url }] } } },
      },
      tls: { certificates: [{ certFile: cert.cert, keyFile: cert.key }], options: { h1: { alpnProtocols: ['http/1.1'] } } },
    });
  });

  after(async () => {
    await gw.gateway.stop();
    await backend.close();
  });

  /** One HTTP/2 request to app.test (SNI and :authority); resolves to the status and body. */
  function h2Get(path: string): Promise<{ status: number; body: string }> {
    const session = http2.connect(`https://127.0.0.1:${gw.port}`, { servername: 'app.test', rejectUnauthorized: false });
    return new Promise((resolve, reject) => {
      session.on('error', reject);
      const req = session.request({ ':path': path, ':authority': 'app.test' });
      let status = 0;
      let body = '';
      req.on('response', (headers) => (status = Number(headers[':status'])));
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        session.close();
        resolve({ status, body });
      });
      req.on('error', reject);
      req.end();
    });
  }

  test('an h2 client negotiates h2 and is routed and proxied like HTTP/1.1 (upstream stays HTTP/1.1)', async () => {
    const reply = await h2Get('/hello?x=1');
    assert.equal(reply.status, 200);
    const seen = JSON.parse(reply.body) as { host: string; proto: string; url: string };
    assert.equal(seen.url, '/hello?x=1');
    assert.equal(seen.proto, 'https');
    assert.equal(seen.host, 'app.test');
  });

  test('an HTTP/1.1 client on the same port', async () => {
    const reply = await httpsRequest(gw.port, { servername: 'app.test', path: '/one', ALPNProtocols: ['http/1.1'] });
    assert.equal(reply.status, 200);
    assert.equal(reply.socket.alpnProtocol, 'http/1.1');
    assert.equal(JSON.parse(reply.body).proto, 'https');
  });

  test('TLS version and cipher are readable from ctx.req.socket over h2 and HTTP/1.1 (for the access log)', async () => {
    const overH2 = JSON.parse((await h2Get('/tls')).body);
    const overH1 = JSON.parse((await httpsRequest(gw.port, { servername: 'app.test', path: '/tls' })).body);
    for (const [info, version] of [[overH2, '2.0'], [overH1, '1.1']] as const) {
      assert.equal(info.protocol, 'TLSv1.3');
      assert.match(info.cipher, /^TLS_/);
      assert.equal(info.servername, 'app.test');
      assert.equal(info.httpVersion, version);
    }
  });

  test('the connection is still readable from ctx.req.socket after an h2 stream closed (when access logs read it)', async () => {
    afterResponse.length = 0;
    const recorded = new Promise<void>((resolve) => (onRecorded = resolve));
    await h2Get('/tls');
    await recorded;
    const [facts] = afterResponse;
    assert.equal(facts!.httpVersion, '2.0');
    assert.equal(facts!.encrypted, true);
    assert.equal(facts!.protocol, 'TLSv1.3');
    assert.match(String(facts!.cipher), /^TLS_/);
    assert.equal(typeof facts!.remotePort, 'number');
  });

  test('alpnProtocols of the options chosen by SNI decide what is offered', async () => {
    const h1 = await handshake(gw.port, { servername: 'h1only.test', ALPNProtocols: ['h2', 'http/1.1'] });
    const both = await handshake(gw.port, { servername: 'app.test', ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal(h1.alpn, 'http/1.1');
    assert.equal(both.alpn, 'h2');
    h1.socket.destroy();
    both.socket.destroy();
  });

  test('plain HTTP sent to the TLS port gets a 400 that says so', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(gw.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: app.test\r\n\r\n'));
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.0 400 Bad Request/);
    assert.match(raw, /HTTP request to an HTTPS server/);
  });
});

describe('421 Misdirected Request (domain fronting)', () => {
  let gw: Started;

  before(async () => {
    const cert = await makeCert(['open.test', 'locked.test', 'other.test']);
    gw = await startTLS({
      ...routes({ 'open.test': undefined, 'locked.test': 'locked', 'other.test': undefined }),
      tls: { certificates: [{ certFile: cert.cert, keyFile: cert.key }], options: { locked: { minVersion: 'VersionTLS13' } } },
    });
  });

  after(() => gw.gateway.stop());

  test('SNI with default options, Host of a router with other options → 421', async () => {
    const reply = await httpsRequest(gw.port, { servername: 'open.test', host: 'locked.test', path: '/' });
    assert.equal(reply.status, 421);
    assert.equal(reply.body, 'Misdirected Request\n');
  });

  test('SNI and Host agree → served', async () => {
    assert.equal((await httpsRequest(gw.port, { servername: 'locked.test', path: '/' })).status, 200);
  });

  test('different names with the same options are not misdirected', async () => {
    const reply = await httpsRequest(gw.port, { servername: 'open.test', host: 'other.test:443', path: '/' });
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(reply.body).host, 'other.test:443');
  });

  test('the same check applies over HTTP/2', async () => {
    const session = http2.connect(`https://127.0.0.1:${gw.port}`, { servername: 'open.test', rejectUnauthorized: false });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':path': '/', ':authority': 'locked.test' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.resume();
        req.end();
      });
      assert.equal(status, 421);
    } finally {
      session.close();
    }
  });
});

describe('routers on TLS and plain entrypoints (Traefik\'s model)', () => {
  let gw: Started;
  let web: number;

  before(async () => {
    gw = await startTLS({ http: { routers: { both: { rule: 'Host(`both.test`)', service: 'tlsinfo@internal' }, secure: { rule: 'Host(`secure.test`)', service: 'tlsinfo@internal', tls: {} } } } }, { args: ['--entrypoints.web.address=127.0.0.1:0'] });
    web = gw.gateway.address('web').port;
  });

  after(() => gw.gateway.stop());

  const plainStatus = (host: string) =>
    new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: web, path: '/', headers: { host }, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });

  test('a router without tls is served on both, taking the TLS entrypoint\'s http.tls there', async () => {
    assert.equal(await plainStatus('both.test'), 200);
    assert.equal((await httpsRequest(gw.port, { servername: 'both.test', path: '/' })).status, 200);
  });

  test('a router with tls is served only on the TLS entrypoint', async () => {
    assert.equal(await plainStatus('secure.test'), 404);
    assert.equal((await httpsRequest(gw.port, { servername: 'secure.test', path: '/' })).status, 200);
  });
});

