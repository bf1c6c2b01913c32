// ClientHello parsing on bytes a real Node TLS client sends, delivered whole and one byte at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { ClientHelloReader, parseClientHello } from './client-hello.js';

/** The first bytes a TLS client sends (its ClientHello), captured by a plain TCP server. */
async function capturedHello(options: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const received = new Promise<Buffer>((resolve) => {
    server.once('connection', (socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        const bytes = Buffer.concat(chunks);
        if (parseClientHello(bytes).kind !== 'more') {
          socket.destroy();
          resolve(bytes);
        }
      });
    });
  });
  const client = tls.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, rejectUnauthorized: false, ...options });
  client.on('error', () => undefined);
  const bytes = await received;
  client.destroy();
  server.close();
  return bytes;
}

test('the server name of a real ClientHello', async () => {
  const hello = await capturedHello({ servername: 'app.example.test' });
  assert.deepEqual(parseClientHello(hello), { kind: 'hello', servername: 'app.example.test', alpn: [] });
});

test('a ClientHello without SNI (a client connecting by IP)', async () => {
  const hello = await capturedHello({});
  assert.deepEqual(parseClientHello(hello), { kind: 'hello', servername: undefined, alpn: [] });
});

test('the ALPN protocols a client offers, in its order (TLS-ALPN-01 validators offer acme-tls/1)', async () => {
  const hello = await capturedHello({ servername: 'alpn.test', ALPNProtocols: ['acme-tls/1', 'h2'] });
  assert.deepEqual(parseClientHello(hello), { kind: 'hello', servername: 'alpn.test', alpn: ['acme-tls/1', 'h2'] });
});

test('bytes arriving one at a time: more until the ClientHello is complete', async () => {
  const hello = await capturedHello({ servername: 'slow.test' });
  const reader = new ClientHelloReader();
  for (let i = 0; i < hello.length - 1; i++) assert.equal(reader.push(hello.subarray(i, i + 1)).kind, 'more', `byte ${i}`);
  assert.deepEqual(reader.push(hello.subarray(hello.length - 1)), { kind: 'hello', servername: 'slow.test', alpn: [] });
  assert.deepEqual(reader.bytes(), hello);
});

test('a ClientHello split over two handshake records', async () => {
  const hello = await capturedHello({ servername: 'split.test' });
  const body = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const record = (fragment: Buffer) => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, fragment.length >> 8, fragment.length & 0xff]), fragment]);
  const split = Buffer.concat([record(body.subarray(0, 40)), record(body.subarray(40))]);
  assert.deepEqual(parseClientHello(split), { kind: 'hello', servername: 'split.test', alpn: [] });
  assert.equal(parseClientHello(split.subarray(0, 50)).kind, 'more');
});

const cases = [
  { desc: 'plain HTTP request line', input: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), expected: 'http' },
  { desc: 'the first letters of a method', input: Buffer.from('POS'), expected: 'more' },
  { desc: 'random bytes', input: Buffer.from([0x00, 0x01, 0x02, 0x03]), expected: 'invalid' },
  { desc: 'a handshake record that is not a ClientHello', input: Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00]), expected: 'invalid' },
  { desc: 'a ClientHello cut inside its extensions', input: Buffer.from([0x16, 0x03, 0x01, 0x00, 0x06, 0x01, 0x00, 0x00, 0x02, 0x03, 0x03]), expected: 'invalid' },
  { desc: 'an alert record first', input: Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]), expected: 'invalid' },
];
for (const { desc, input, expected } of cases) {
  test(`not a usable ClientHello: ${desc}`, () => {
    assert.equal(parseClientHello(input).kind, expected);
  });
}
