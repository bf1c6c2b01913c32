// grpcWeb through a real gateway: HTTP/1.1 (fetch) and HTTP/2 clients speaking gRPC-Web, binary and base64 text, to a grpc-js
// server behind an h2c:// upstream; answers decoded frame by frame, the trailer frame included; CORS for allowOrigins.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import tlsPlugin from '@wharf/plugin-tls';
import grpcWeb from './index.js';
import { Echo, startEchoServer, type EchoServer, type Msg } from './grpc.test.helper.js';

let gateway: EmbeddedGateway;
let server: EchoServer;
let base: string;

before(async () => {
  server = await startEchoServer('web');
  gateway = await startGateway({
    // The TLS plugin brings HTTP/2 to plain entrypoints too (h2c with prior knowledge), for the HTTP/2 client below.
    plugins: [grpcWeb, tlsPlugin],
    args: ['--entrypoints.web.address=127.0.0.1:0'],
    dynamic: {
      http: {
        routers: { grpc: { rule: 'PathPrefix(`/`)', middlewares: ['web'], service: 'grpc' } },
        middlewares: { web: { grpcWeb: { allowOrigins: ['https://app.example'] } } },
        services: { grpc: { loadBalancer: { servers: [{ url: `h2c://127.0.0.1:${server.port}` }] } } },
      },
    },
  });
  base = `http://127.0.0.1:${gateway.address('web').port}`;
});

after(async () => {
  await gateway?.stop();
  await server?.close();
});

type Method = 'Unary' | 'ServerStream' | 'Fail';

/** One gRPC message as a gRPC-Web data frame: flag 0, 4-byte big-endian length, the protobuf bytes. */
function dataFrame(method: Method, message: Msg): Buffer {
  const bytes = Echo.service[method]!.requestSerialize(message);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, bytes]);
}

interface Decoded {
  messages: Msg[];
  /** The trailer frame's `name: value` lines, as a map. */
  trailers: Record<string, string>;
  /** Frame flags in order (0 data, 0x80 trailers). */
  flags: number[];
}

function decodeFrames(method: Method, body: Buffer): Decoded {
  const decoded: Decoded = { messages: [], trailers: {}, flags: [] };
  for (let at = 0; at < body.length; ) {
    const flag = body[at]!;
    const length = body.readUInt32BE(at + 1);
    const payload = body.subarray(at + 5, at + 5 + length);
    at += 5 + length;
    decoded.flags.push(flag);
    if (flag & 0x80) {
      for (const line of payload.toString('utf8').split('\r\n').filter(Boolean)) {
        const colon = line.indexOf(':');
        decoded.trailers[line.slice(0, colon)] = line.slice(colon + 1).trim();
      }
    } else {
      decoded.messages.push(Echo.service[method]!.responseDeserialize(payload) as Msg);
    }
  }
  return decoded;
}

/** base64 as gRPC-Web text answers stream it: padded segments one after the other, decoded quantum by quantum. */
function fromBase64Segments(text: string): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < text.length; i += 4) parts.push(Buffer.from(text.slice(i, i + 4), 'base64'));
  return Buffer.concat(parts);
}

async function call(method: Method, message: Msg, mode: 'binary' | 'text', headers: Record<string, string> = {}): Promise<{ response: Response; decoded: Decoded }> {
  const frame = dataFrame(method, message);
  const response = await fetch(`${base}/echo.Echo/${method}`, {
    method: 'POST',
    headers: {
      'content-type': mode === 'text' ? 'application/grpc-web-text' : 'application/grpc-web+proto',
      accept: mode === 'text' ? 'application/grpc-web-text' : 'application/grpc-web+proto',
      'x-grpc-web': '1',
      ...headers,
    },
    body: mode === 'text' ? frame.toString('base64') : frame,
  });
  const raw = Buffer.from(await response.arrayBuffer());
  return { response, decoded: decodeFrames(method, mode === 'text' ? fromBase64Segments(raw.toString('latin1')) : raw) };
}

describe('grpcWeb to a gRPC server over h2c', () => {
  test('binary unary: the message, then the trailer frame with grpc-status 0', async () => {
    const { response, decoded } = await call('Unary', { text: 'hi' }, 'binary');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/grpc-web+proto');
    assert.deepEqual(decoded.flags, [0, 0x80]);
    assert.deepEqual(decoded.messages, [{ text: 'hi', server: 'web' }]);
    assert.equal(decoded.trailers['grpc-status'], '0');
    assert.equal(response.headers.get('x-server'), 'web', 'response metadata stays in the headers');
  });

  test('text: a base64 request, a server stream answered in base64, trailers last', async () => {
    const { response, decoded } = await call('ServerStream', { text: 'tick' }, 'text');
    // The server's application/grpc+proto, with grpc-web-text in place of grpc (as improbable-eng's wrapper does).
    assert.equal(response.headers.get('content-type'), 'application/grpc-web-text+proto');
    assert.deepEqual(
      decoded.messages.map((m) => m.text),
      ['tick 1', 'tick 2', 'tick 3'],
    );
    assert.deepEqual(decoded.flags, [0, 0, 0, 0x80]);
    assert.equal(decoded.trailers['grpc-status'], '0');
  });

  for (const mode of ['binary', 'text'] as const) {
    test(`${mode}: an error's status, message and trailing metadata arrive in the trailer frame`, async () => {
      const { response, decoded } = await call('Fail', { text: 'x' }, mode);
      assert.equal(response.status, 200);
      assert.deepEqual(decoded.messages, []);
      assert.deepEqual(decoded.trailers, { 'grpc-status': '5', 'grpc-message': 'no%20such%20thing:%20x', 'x-detail': 'missing x' });
    });
  }
});

describe('grpcWeb from an HTTP/2 client', () => {
  test('binary unary over h2c to the gateway: the message and the trailer frame', async () => {
    const session = http2.connect(base);
    try {
      const raw = await new Promise<Buffer>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/echo.Echo/Unary', 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1' });
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => resolve(Buffer.concat(chunks)));
        stream.on('error', reject);
        stream.end(dataFrame('Unary', { text: 'over h2' }));
      });
      const decoded = decodeFrames('Unary', raw);
      assert.deepEqual(decoded.messages, [{ text: 'over h2', server: 'web' }]);
      assert.equal(decoded.trailers['grpc-status'], '0');
    } finally {
      session.close();
    }
  });
});

describe('grpcWeb CORS (allowOrigins)', () => {
  const preflight = (origin: string): Promise<Response> =>
    fetch(`${base}/echo.Echo/Unary`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-grpc-web,content-type,x-user-agent' },
    });

  test('a preflight from an allowed origin is answered by the gateway with the CORS headers', async () => {
    const response = await preflight('https://app.example');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(response.headers.get('access-control-allow-methods'), 'POST');
    assert.equal(response.headers.get('access-control-allow-headers'), 'X-Grpc-Web, Content-Type, X-User-Agent');
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(response.headers.get('access-control-max-age'), '600');
  });

  test('a preflight from another origin gets no CORS permission', async () => {
    const response = await preflight('https://evil.example');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('access-control-allow-origin'), null);
    assert.equal(response.headers.get('vary'), 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
  });

  test('a call from an allowed origin may read the answer, grpc-status and grpc-message included', async () => {
    const { response } = await call('Unary', { text: 'cors' }, 'binary', { origin: 'https://app.example' });
    assert.equal(response.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
    const exposed = response.headers.get('access-control-expose-headers')?.split(', ') ?? [];
    for (const name of ['Content-Type', 'X-Server', 'grpc-status', 'grpc-message']) assert.ok(exposed.includes(name), `${name} exposed: ${exposed.join(', ')}`);
  });

  test('a call from another origin is answered without CORS permission', async () => {
    const { response, decoded } = await call('Unary', { text: 'no' }, 'binary', { origin: 'https://evil.example' });
    assert.equal(response.headers.get('access-control-allow-origin'), null);
    assert.equal(decoded.trailers['grpc-status'], '0');
  });
});
