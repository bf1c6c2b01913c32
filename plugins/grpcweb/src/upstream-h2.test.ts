// gRPC end to end through Wharf (issue #18): grpc-js clients over TLS h2 (and h2c) to the gateway, grpc-js servers behind it
// over h2c:// and over TLS negotiating h2 by ALPN. Unary and the three streaming kinds, errors with their trailers,
// deadlines and cancellation reaching the server, per-request balancing over one client connection.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { eventually, makeCA, makeCert, type Pem } from '@wharf/test-helpers';
import tlsPlugin from '@wharf/plugin-tls';
import { collect, Echo, gatewayClient, grpc, startEchoServer, unary, type EchoClient, type EchoServer, type Msg } from './grpc.test.helper.js';

let ca: Pem;
let gateway: EmbeddedGateway;
let port: number;
/** The plain entrypoint: gRPC clients without TLS speak h2c (prior knowledge) to it. */
let plainPort: number;
let plain: EchoServer;
let secure: EchoServer;
let lbA: EchoServer;
let lbB: EchoServer;
const clients: EchoClient[] = [];

function client(authority: string): EchoClient {
  const c = gatewayClient(port, authority, ca);
  clients.push(c);
  return c;
}

before(async () => {
  ca = await makeCA();
  const front = await makeCert(['h2c.test', 'tls.test', 'lb.test'], { ca });
  const upstreamCert = await makeCert(['grpc.upstream'], { ca });
  [plain, secure, lbA, lbB] = await Promise.all([startEchoServer('plain'), startEchoServer('secure', upstreamCert), startEchoServer('a'), startEchoServer('b')]);
  const router = (host: string, service: string) => ({ rule: `Host(\`${host}\`)`, service, tls: {} });
  gateway = await startGateway({
    plugins: [tlsPlugin],
    args: ['--entrypoints.websecure.address=127.0.0.1:0', '--entrypoints.websecure.http.tls=true', '--entrypoints.web.address=127.0.0.1:0'],
    dynamic: {
      tls: { certificates: [{ certFile: front.cert, keyFile: front.key }] },
      http: {
        routers: { plain: router('h2c.test', 'plain'), secure: router('tls.test', 'secure'), lb: router('lb.test', 'lb'), cleartext: { rule: 'Host(`h2c.test`)', service: 'plain', entryPoints: ['web'] } },
        services: {
          plain: { loadBalancer: { servers: [{ url: `h2c://127.0.0.1:${plain.port}` }] } },
          secure: { loadBalancer: { servers: [{ url: `https://127.0.0.1:${secure.port}` }], serversTransport: 'upstream' } },
          lb: { loadBalancer: { servers: [{ url: `h2c://127.0.0.1:${lbA.port}` }, { url: `h2c://127.0.0.1:${lbB.port}` }] } },
        },
        serversTransports: { upstream: { rootCAs: [ca.cert], serverName: 'grpc.upstream' } },
      },
    },
  });
  port = gateway.address('websecure').port;
  plainPort = gateway.address('web').port;
});

after(async () => {
  for (const c of clients) c.close();
  await gateway?.stop();
  await Promise.all([plain, secure, lbA, lbB].map((s) => s?.close()));
});

for (const [kind, authority, server] of [
  ['h2c:// upstream', 'h2c.test', 'plain'],
  ['TLS upstream negotiating h2', 'tls.test', 'secure'],
] as const) {
  describe(`gRPC through Wharf, ${kind}`, () => {
    test('unary: reply and response metadata', async () => {
      const { reply, metadata } = await unary(client(authority), 'Unary', 'hello');
      assert.deepEqual(reply, { text: 'hello', server });
      assert.deepEqual(metadata.get('x-server'), [server]);
    });

    test('server streaming: every message, then the OK status', async () => {
      const call = client(authority)['ServerStream']!({ text: 'tick' }, {}) as grpc.ClientReadableStream<Msg>;
      const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
      assert.deepEqual((await collect(call)).map((m) => m.text), ['tick 1', 'tick 2', 'tick 3']);
      assert.equal((await status).code, grpc.status.OK);
    });

    test('client streaming: the server reads every message up to the half-close', async () => {
      const reply = await new Promise<Msg>((resolve, reject) => {
        const call = client(authority)['ClientStream']!((err: grpc.ServiceError | null, m: Msg) => (err ? reject(err) : resolve(m))) as grpc.ClientWritableStream<Msg>;
        for (const text of ['a', 'b', 'c']) call.write({ text });
        call.end();
      });
      assert.deepEqual(reply, { text: 'a+b+c', server });
    });

    test('bidi: each answer arrives before the next message is sent', async () => {
      const call = client(authority)['Bidi']!() as grpc.ClientDuplexStream<Msg, Msg>;
      const next = (): Promise<Msg> => new Promise((resolve) => call.once('data', resolve));
      for (const text of ['one', 'two', 'three']) {
        const answer = next();
        call.write({ text });
        assert.equal((await answer).text, `echo ${text}`);
      }
      const ended = new Promise((resolve) => call.on('end', resolve));
      call.end();
      await ended;
    });

    test('an error status arrives with its message and trailing metadata', async () => {
      const err = (await unary(client(authority), 'Fail', 'x').then(
        () => assert.fail('expected an error'),
        (e: unknown) => e,
      )) as grpc.ServiceError;
      assert.equal(err.code, grpc.status.NOT_FOUND, err.message);
      assert.equal(err.details, 'no such thing: x');
      assert.deepEqual(err.metadata.get('x-detail'), ['missing x']);
    });
  });
}

describe('gRPC clients without TLS (h2c to the gateway)', () => {
  test('unary and bidi through a plain entrypoint to an h2c:// upstream', async () => {
    const c = new Echo(`127.0.0.1:${plainPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'h2c.test' }) as unknown as EchoClient;
    clients.push(c);
    assert.deepEqual((await unary(c, 'Unary', 'clear')).reply, { text: 'clear', server: 'plain' });
    const call = c['Bidi']!() as grpc.ClientDuplexStream<Msg, Msg>;
    const answers = collect(call);
    for (const text of ['x', 'y']) call.write({ text });
    call.end();
    assert.deepEqual((await answers).map((m) => m.text), ['echo x', 'echo y']);
  });
});

describe('deadlines and cancellation', () => {
  test('the deadline travels to the server (grpc-timeout); once exceeded the client fails and the server call is cancelled', async () => {
    const call = client('h2c.test')['Hang']!({ text: 'deadline' }, { deadline: Date.now() + 1500 }) as grpc.ClientReadableStream<Msg>;
    const err = await new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    assert.ok(Number.isFinite(plain.deadlines.at(-1)), 'the server saw a deadline');
    await eventually(() => plain.cancelled.includes('deadline'), 'the server call cancelled');
  });

  test('a client cancel resets the upstream stream: the server sees its call cancelled', async () => {
    const call = client('tls.test')['Hang']!({ text: 'cancel' }, {}) as grpc.ClientReadableStream<Msg>;
    await new Promise((resolve) => call.once('data', resolve));
    call.on('error', () => undefined);
    call.cancel();
    await eventually(() => secure.cancelled.includes('cancel'), 'the server call cancelled');
  });
});

describe('load balancing over HTTP/2', () => {
  test('calls on one client connection are balanced per request across the servers', async () => {
    const c = client('lb.test');
    const servers: string[] = [];
    for (let i = 0; i < 4; i++) servers.push((await unary(c, 'Unary', `call ${i}`)).reply.server!);
    assert.deepEqual(servers.sort(), ['a', 'a', 'b', 'b']);
  });

  test('concurrent streams share the upstream connections and all complete', async () => {
    const c = client('lb.test');
    const calls = Array.from({ length: 20 }, (_, i) => collect(c['ServerStream']!({ text: `s${i}` }, {}) as grpc.ClientReadableStream<Msg>));
    const results = await Promise.all(calls);
    assert.deepEqual(results.map((r) => r.length), Array(20).fill(3));
  });
});
