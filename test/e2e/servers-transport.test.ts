// End-to-end serversTransport TLS material: rootCAs (private CAs, as files or inline PEM) and client certificates
// (mTLS) for https upstreams, read when the configuration is applied; the health checks connect the same way.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { pino } from 'pino';
import { eventually, get, makeCA, makeCert, spawnWharf, startBackend, tempDir, type Backend, type Pem, type TempDir } from '@wharf/test-helpers';
import type { HealthEvent, Logger } from '@wharf/core';
import { startTestGateway, type TestGateway } from './gateway.js';

/** A leaf certificate signed by `ca`: for 127.0.0.1 as a server, or named `name` as a client. */
function makeLeaf(name: string, ca: Pem, use: 'server' | 'client'): Promise<Pem> {
  return use === 'server' ? makeCert(['127.0.0.1'], { ca, cn: name }) : makeCert([], { ca, cn: name, usage: 'client' });
}

interface TLSBackend {
  url: string;
  /** Subject CN of the client certificate of each request that reached the handler ('' = none). */
  clients: string[];
  close(): Promise<void>;
}

/** An https server on 127.0.0.1; with `clientCA` it refuses the handshake without a client certificate it signed. */
async function startTLSBackend(pem: Pem, clientCA?: Pem): Promise<TLSBackend> {
  const clients: string[] = [];
  const mtls = clientCA ? { ca: clientCA.cert, requestCert: true, rejectUnauthorized: true } : {};
  const server = https.createServer({ ...pem, ...mtls }, (req, res) => {
    req.resume();
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    clients.push(typeof peer.subject?.CN === 'string' ? peer.subject.CN : '');
    res.writeHead(200);
    res.end('private');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    clients,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A pino logger writing into memory, to assert on what the gateway logs. */
function memoryLog(): { log: Logger; text: () => string } {
  let logged = '';
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => ((logged += chunk.toString()), done()) });
  // The test workspace's pino is the same library as the core's, typed from another copy.
  return { log: pino({ level: 'info' }, sink) as unknown as Logger, text: () => logged };
}

/** Service `app` (router on every path) on `url`, through serversTransport `t` when given. */
function appConfig(url: string, transport?: Record<string, unknown>, healthCheck?: Record<string, unknown>) {
  return {
    http: {
      routers: { app: { rule: 'PathPrefix(`/`)', service: 'app' } },
      services: { app: { loadBalancer: { servers: [{ url }], ...(transport ? { serversTransport: 't' } : {}), ...(healthCheck ? { healthCheck } : {}) } } },
      ...(transport ? { serversTransports: { t: transport } } : {}),
    },
  };
}

let serverCA: Pem;
let clientCA: Pem;
let client: Pem;
let otherCA: Pem;
let dir: TempDir;
/** Signed by serverCA; no client certificate needed. */
let privateBackend: TLSBackend;
/** Signed by serverCA; requires a client certificate signed by clientCA. */
let mtlsBackend: TLSBackend;

before(async () => {
  [serverCA, clientCA, otherCA] = await Promise.all([makeCA('wharf e2e server CA'), makeCA('wharf e2e client CA'), makeCA('unrelated CA')]);
  const [serverPem, clientPem] = await Promise.all([makeLeaf('upstream', serverCA, 'server'), makeLeaf('wharf-client', clientCA, 'client')]);
  client = clientPem;
  privateBackend = await startTLSBackend(serverPem);
  mtlsBackend = await startTLSBackend(serverPem, clientCA);
  dir = tempDir();
  dir.write('server-ca.pem', serverCA.cert);
  dir.write('other-ca.pem', otherCA.cert);
  dir.write('client.pem', client.cert);
  dir.write('client.key', client.key);
});

after(async () => {
  await privateBackend.close();
  await mtlsBackend.close();
  dir.remove();
});

describe('rootCAs: an upstream with a certificate from a private CA', () => {
  for (const [desc, rootCA] of [
    ['a file path', () => dir.file('server-ca.pem')],
    ['inline PEM', () => serverCA.cert],
  ] as const) {
    test(`is proxied to when rootCAs names the CA as ${desc}`, async () => {
      const gw = await startTestGateway(appConfig(privateBackend.url, { rootCAs: [dir.file('other-ca.pem'), rootCA()] }));
      try {
        const reply = await get(gw.port, '/');
        assert.equal(reply.status, 200, reply.body);
        assert.equal(reply.body, 'private');
      } finally {
        await gw.stop();
      }
    });
  }

  test('without rootCAs it is a 502, logged with the certificate error', async () => {
    const memory = memoryLog();
    const gw = await startTestGateway(appConfig(privateBackend.url), { log: memory.log });
    try {
      const reply = await get(gw.port, '/');
      assert.equal(reply.status, 502);
      assert.equal(reply.body, 'Bad Gateway');
    } finally {
      await gw.stop();
    }
    const line = memory.text().split('\n').find((l) => l.includes('upstream request failed'));
    assert.ok(line, `no upstream failure logged:\n${memory.text()}`);
    const entry = JSON.parse(line) as { service: string; server: string; err: { code: string; message: string } };
    assert.equal(entry.service, 'app@inline');
    assert.equal(entry.server, privateBackend.url);
    assert.equal(entry.err.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.match(entry.err.message, /unable to verify the first certificate/);
  });

  test('rootCAs replace the system CAs (as in Traefik): a CA trusted process-wide is not trusted through them', async () => {
    const file = dir.write(
      'dynamic.json',
      JSON.stringify({
        http: {
          routers: {
            system: { rule: 'Path(`/system`)', service: 'system' },
            replaced: { rule: 'Path(`/replaced`)', service: 'replaced' },
          },
          services: {
            system: { loadBalancer: { servers: [{ url: privateBackend.url }] } },
            replaced: { loadBalancer: { servers: [{ url: privateBackend.url }], serversTransport: 'other' } },
          },
          serversTransports: { other: { rootCAs: [dir.file('other-ca.pem')] } },
        },
      }),
    );
    const wharf = spawnWharf(['--entrypoints.web.address=127.0.0.1:0', `--providers.file.filename=${file}`], {
      env: { NODE_EXTRA_CA_CERTS: dir.file('server-ca.pem') },
    });
    try {
      const port = await wharf.port();
      // The entrypoint listens before the file provider's configuration is applied.
      await eventually(async () => (await get(port, '/system')).status !== 404, 'the file configuration applied');
      assert.equal((await get(port, '/system')).status, 200, 'the process-wide CA verifies the default transport');
      assert.equal((await get(port, '/replaced')).status, 502, 'a transport with rootCAs trusts only those');
    } finally {
      await wharf.stop();
    }
  });
});

describe('certificates: an upstream that requires a client certificate', () => {
  test('is proxied to when the transport presents one (files), and sees it', async () => {
    const gw = await startTestGateway(
      appConfig(mtlsBackend.url, { rootCAs: [dir.file('server-ca.pem')], certificates: [{ certFile: dir.file('client.pem'), keyFile: dir.file('client.key') }] }),
    );
    try {
      mtlsBackend.clients.length = 0;
      const reply = await get(gw.port, '/');
      assert.equal(reply.status, 200, reply.body);
      assert.deepEqual(mtlsBackend.clients, ['wharf-client']);
    } finally {
      await gw.stop();
    }
  });

  test('is proxied to with the pair given as inline PEM', async () => {
    const gw = await startTestGateway(appConfig(mtlsBackend.url, { rootCAs: [serverCA.cert], certificates: [{ certFile: client.cert, keyFile: client.key }] }));
    try {
      assert.equal((await get(gw.port, '/')).status, 200);
    } finally {
      await gw.stop();
    }
  });

  test('refuses the gateway without one: 502', async () => {
    const gw = await startTestGateway(appConfig(mtlsBackend.url, { rootCAs: [dir.file('server-ca.pem')] }));
    try {
      mtlsBackend.clients.length = 0;
      assert.equal((await get(gw.port, '/')).status, 502);
      assert.deepEqual(mtlsBackend.clients, [], 'no request got past the handshake');
    } finally {
      await gw.stop();
    }
  });
});

describe('unusable TLS files are configuration errors of the services using the transport', () => {
  const cases: Array<{ desc: string; transport: () => Record<string, unknown>; expectedError: RegExp }> = [
    {
      desc: 'a rootCAs path that does not exist',
      transport: () => ({ rootCAs: [dir.file('server-ca.pem'), dir.file('missing-ca.pem')] }),
      expectedError: /^serversTransport 't@inline' rootCAs\[1\]: cannot read \S+missing-ca\.pem \(ENOENT\); give a readable PEM file path or the PEM text itself$/,
    },
    {
      desc: 'a rootCAs file without a certificate',
      transport: () => ({ rootCAs: [dir.file('client.key')] }),
      expectedError: /^serversTransport 't@inline' rootCAs\[0\]: no PEM certificate \(-----BEGIN CERTIFICATE-----\) in \S+client\.key$/,
    },
    {
      desc: 'a key that is not the certificate\'s, given inline (the message never quotes it)',
      transport: () => ({ certificates: [{ certFile: dir.file('client.pem'), keyFile: serverCA.key }] }),
      expectedError: /^serversTransport 't@inline' certificates\[0\]\.keyFile: \(inline PEM\) is not the private key of the certificate \S+client\.pem$/,
    },
    {
      desc: 'a transport its provider could not decode says why, not that it does not exist',
      transport: () => ({ rootCA: [dir.file('server-ca.pem')] }),
      expectedError: /^serversTransport 't@inline' is invalid: http\.serversTransports\.t\.rootCA: unknown field 'rootCA' \(did you mean 'rootCAs'\?\)$/,
    },
    {
      desc: 'two client certificates of the same key type',
      transport: () => ({ certificates: [{ certFile: client.cert, keyFile: client.key }, { certFile: dir.file('client.pem'), keyFile: dir.file('client.key') }] }),
      expectedError: /^serversTransport 't@inline' certificates\[1\]: a second ec certificate \(after \[0\]\); .*keep one$/,
    },
  ];

  for (const { desc, transport, expectedError } of cases) {
    test(desc, async () => {
      const healthy: Backend = await startBackend('healthy');
      const memory = memoryLog();
      const gw = await startTestGateway(
        {
          http: {
            routers: {
              good: { rule: 'Path(`/good`)', service: 'good' },
              broken: { rule: 'Path(`/broken`)', service: 'broken' },
            },
            services: {
              good: { loadBalancer: { servers: [{ url: healthy.url }] } },
              broken: { loadBalancer: { servers: [{ url: privateBackend.url }], serversTransport: 't' } },
            },
            serversTransports: { t: transport() },
          },
        },
        { log: memory.log },
      );
      try {
        const service = gw.gateway.info.services['broken@inline']!;
        assert.equal(service.status, 'disabled');
        assert.equal(service.errors?.length, 1);
        assert.match(service.errors![0]!, expectedError);
        assert.equal(gw.gateway.info.routers['broken@inline']!.status, 'disabled');
        assert.equal((await get(gw.port, '/good')).status, 200, 'other routers keep serving');
        assert.equal((await get(gw.port, '/broken')).status, 404);
        assert.match(memory.text(), /service broken@inline: serversTransport 't@inline' /);
        assert.ok(!memory.text().includes('PRIVATE KEY'), 'no key material in the log');
      } finally {
        await gw.stop();
        await healthy.close();
      }
    });
  }
});

describe('health checks through a transport with rootCAs and a client certificate', () => {
  const check = { path: '/health', interval: '100ms', timeout: '2s' };
  const mtls = () => ({ rootCAs: [dir.file('server-ca.pem')], certificates: [{ certFile: dir.file('client.pem'), keyFile: dir.file('client.key') }] });

  /** Starts a gateway and records its health events from the first check on. */
  async function start(transport: Record<string, unknown>): Promise<{ gw: TestGateway; events: HealthEvent[] }> {
    const gw = await startTestGateway(appConfig(mtlsBackend.url, transport, check));
    const events: HealthEvent[] = [];
    gw.gateway.on('health', (e: HealthEvent) => events.push(e));
    return { gw, events };
  }
  const status = (gw: TestGateway) => gw.gateway.info.services['app@inline']?.serverStatus?.[mtlsBackend.url];

  test('the server stays up with both, and the checks present the client certificate', async () => {
    mtlsBackend.clients.length = 0;
    const { gw, events } = await start(mtls());
    try {
      await eventually(() => mtlsBackend.clients.length >= 2, 'two checks');
      assert.equal(status(gw), 'UP');
      assert.deepEqual(events, []);
      assert.ok(mtlsBackend.clients.every((cn) => cn === 'wharf-client'), mtlsBackend.clients.join());
    } finally {
      await gw.stop();
    }
  });

  test('without rootCAs the server goes down, the reason naming the certificate error and rootCAs', async () => {
    const { gw, events } = await start({ certificates: mtls().certificates });
    try {
      await eventually(() => status(gw) === 'DOWN', 'app out of rotation');
      assert.match(events[0]!.reason!, /unable to verify the first certificate \[UNABLE_TO_VERIFY_LEAF_SIGNATURE\]: .*set rootCAs, serverName or insecureSkipVerify/);
      assert.equal((await get(gw.port, '/')).status, 503);
    } finally {
      await gw.stop();
    }
  });

  test('without the client certificate the server goes down', async () => {
    const { gw, events } = await start({ rootCAs: mtls().rootCAs });
    try {
      await eventually(() => status(gw) === 'DOWN', 'app out of rotation');
      assert.equal(events.length, 1);
      assert.match(events[0]!.reason!, /^GET https:\/\/127\.0\.0\.1:\d+\/health: /);
    } finally {
      await gw.stop();
    }
  });
});
