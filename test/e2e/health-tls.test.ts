// End-to-end health checks of https servers: the checks connect through the service's serversTransport exactly
// as the proxy does (certificate verification, serverName as SNI), so a server the proxy can reach stays up.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { HealthEvent } from '@wharf/core';
import { eventually, get, makeCA, makeCert, type Pem } from '@wharf/test-helpers';
import { startTestGateway, type TestGateway } from './gateway.js';

/** What an https backend saw of one request: the SNI of its connection and its Host header. */
interface Seen {
  sni: string | undefined;
  host: string | undefined;
}

interface TLSBackend {
  url: string;
  /** Requests to /health (the checks), in order. */
  probes: Seen[];
  /** Other requests (proxied traffic), in order. */
  served: Seen[];
  close(): Promise<void>;
}

/** An https backend on 127.0.0.1 answering 200 everywhere; its URL uses the IP, so no SNI unless serverName says. */
async function startTLSBackend(pem: Pem): Promise<TLSBackend> {
  const probes: Seen[] = [];
  const served: Seen[] = [];
  const server = https.createServer(pem, (req, res) => {
    req.resume();
    const seen = { sni: (req.socket as TLSSocket).servername || undefined, host: req.headers.host };
    (req.url?.startsWith('/health') ? probes : served).push(seen);
    res.writeHead(200, { 'x-backend': 'tls' });
    res.end('tls');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    probes,
    served,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Service `app` on one https server with a fast check, optionally through serversTransport `t`. */
function config(url: string, transport?: Record<string, unknown>, healthCheck: Record<string, unknown> = {}) {
  return {
    http: {
      routers: { app: { rule: 'PathPrefix(`/`)', service: 'app' } },
      services: {
        app: {
          loadBalancer: {
            servers: [{ url }],
            healthCheck: { path: '/health', interval: '100ms', timeout: '2s', ...healthCheck },
            ...(transport ? { serversTransport: 't' } : {}),
          },
        },
      },
      ...(transport ? { serversTransports: { t: transport } } : {}),
    },
  };
}

describe('health checks of an https server with a self-signed certificate', () => {
  let backend: TLSBackend;

  before(async () => {
    backend = await startTLSBackend(await makeCert(['upstream.test']));
  });
  after(async () => {
    await backend.close();
  });

  /** Starts a gateway and records its health events from the first check on. */
  async function start(dynamic: unknown): Promise<{ gw: TestGateway; events: HealthEvent[] }> {
    backend.probes.length = 0;
    backend.served.length = 0;
    const gw = await startTestGateway(dynamic);
    const events: HealthEvent[] = [];
    gw.gateway.on('health', (e: HealthEvent) => events.push(e));
    return { gw, events };
  }

  const status = (gw: TestGateway) => gw.gateway.info.services['app@inline']?.serverStatus?.[backend.url];

  test('with insecureSkipVerify the server stays up and is proxied to', async () => {
    const { gw, events } = await start(config(backend.url, { insecureSkipVerify: true }));
    try {
      // The second check starts only after the first one's verdict was published.
      await eventually(() => backend.probes.length >= 2, 'two checks');
      assert.equal(status(gw), 'UP');
      assert.deepEqual(events, []);
      const reply = await get(gw.port, '/');
      assert.equal(reply.status, 200, reply.body);
      assert.equal(reply.body, 'tls');
      assert.equal(backend.probes[0]!.sni, undefined, 'no SNI for an IP address, as the proxy does');
    } finally {
      await gw.stop();
    }
  });

  test('without it the server is marked down, the reason naming the certificate error and what to set', async () => {
    const { gw, events } = await start(config(backend.url));
    try {
      await eventually(() => status(gw) === 'DOWN', 'app out of rotation');
      assert.equal(events.length, 1);
      assert.match(
        events[0]!.reason!,
        /^GET https:\/\/127\.0\.0\.1:\d+\/health: self-signed certificate \[DEPTH_ZERO_SELF_SIGNED_CERT\]: .*serverName or insecureSkipVerify on the service's serversTransport$/,
      );
      assert.equal(backend.probes.length, 0, 'no check got past the handshake');
      assert.equal((await get(gw.port, '/')).status, 503);
    } finally {
      await gw.stop();
    }
  });

  test('serverName is the SNI of every check, whatever Host header healthCheck.hostname sets', async () => {
    const { gw } = await start(config(backend.url, { insecureSkipVerify: true, serverName: 'upstream.test' }, { hostname: 'probe.local', interval: '1h' }));
    try {
      await eventually(() => backend.probes.length >= 1, 'first check');
      assert.equal((await get(gw.port, '/', 'client.example')).status, 200);
      assert.deepEqual(backend.probes, [{ sni: 'upstream.test', host: 'probe.local' }]);
      assert.deepEqual(backend.served, [{ sni: 'upstream.test', host: 'client.example' }], 'the proxy sends the same SNI');
    } finally {
      await gw.stop();
    }
  });

  test('changing the serversTransport restarts the checks with it: a server down for its certificate comes back', async () => {
    const { gw, events } = await start(config(backend.url, undefined, { interval: '1h', unhealthyInterval: '1h' }));
    try {
      await eventually(() => status(gw) === 'DOWN', 'down without insecureSkipVerify');
      gw.gateway.configure(config(backend.url, { insecureSkipVerify: true }, { interval: '1h', unhealthyInterval: '1h' }));
      await eventually(() => status(gw) === 'UP', 'up once the transport skips verification');
      assert.deepEqual(events.map((e) => e.up), [false, true]);
    } finally {
      await gw.stop();
    }
  });
});

describe('health checks of an https server whose private CA is in the transport\'s rootCAs', () => {
  test('verification passes when serverName matches the certificate, and fails naming the mismatch when not', async () => {
    const ca = await makeCA('health e2e CA');
    const backend = await startTLSBackend(await makeCert(['upstream.test'], { ca }));
    const check = { path: '/health', interval: '100ms', timeout: '2s' };
    const gw = await startTestGateway({
      http: {
        routers: {
          named: { rule: 'Path(`/named`)', service: 'named' },
          unnamed: { rule: 'Path(`/unnamed`)', service: 'unnamed' },
        },
        services: {
          named: { loadBalancer: { servers: [{ url: backend.url }], serversTransport: 'named', healthCheck: check } },
          unnamed: { loadBalancer: { servers: [{ url: backend.url }], serversTransport: 'unnamed', healthCheck: check } },
        },
        serversTransports: {
          named: { rootCAs: [ca.cert], serverName: 'upstream.test' },
          unnamed: { rootCAs: [ca.cert] },
        },
      },
    });
    const events: HealthEvent[] = [];
    gw.gateway.on('health', (e: HealthEvent) => events.push(e));
    const status = (service: string) => gw.gateway.info.services[service]?.serverStatus?.[backend.url];
    try {
      // The CA is trusted through rootCAs only: what is left to fail for `unnamed` is the host name (an IP URL).
      await eventually(() => status('unnamed@inline') === 'DOWN', 'unnamed out of rotation');
      const down = events.find((e) => e.service === 'unnamed@inline');
      assert.match(down?.reason ?? '', /^GET https:\/\/127\.0\.0\.1:\d+\/health: [^\n]*127\.0\.0\.1 is not in the cert's list[^\n]*\[ERR_TLS_CERT_ALTNAME_INVALID\]/);
      await eventually(() => backend.probes.filter((p) => p.sni === 'upstream.test').length >= 2, 'two checks of named');
      assert.equal(status('named@inline'), 'UP');
      assert.ok(!events.some((e) => e.service === 'named@inline'), JSON.stringify(events));
      assert.equal((await get(gw.port, '/named')).status, 200);
      assert.equal((await get(gw.port, '/unnamed')).status, 503);
    } finally {
      await gw.stop();
      await backend.close();
    }
  });
});
