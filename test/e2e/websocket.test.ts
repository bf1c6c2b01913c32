// End-to-end WebSocket: echo through the gateway with the ws client, and a frame sent together with the upgrade.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocket, WebSocketServer } from 'ws';
import { closeServer, eventually } from '@wharf/test-helpers';
import { startTestGateway, type TestGateway } from './gateway.js';

interface EchoServer {
  url: string;
  upgrades: http.IncomingHttpHeaders[];
  /** Close codes and reasons the backend received. */
  closes: string[];
  close(): Promise<void>;
}

/** A WebSocket backend that echoes every message back with an `echo:` prefix. */
async function startEchoServer(): Promise<EchoServer> {
  const server = http.createServer((_req, res) => res.end('not a websocket'));
  const wss = new WebSocketServer({ server });
  const upgrades: http.IncomingHttpHeaders[] = [];
  const closes: string[] = [];
  wss.on('connection', (socket, req) => {
    upgrades.push(req.headers);
    socket.on('close', (code, reason) => closes.push(`${code} ${reason.toString()}`));
    socket.on('message', (data, isBinary) => socket.send(isBinary ? data : `echo:${data.toString()}`, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    upgrades,
    closes,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await closeServer(server);
    },
  };
}

/** A masked client text frame (RFC 6455 §5.2) for payloads under 126 bytes. */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** Upgrade request and a first frame in one write, before any answer; resolves with the first frame's text. */
function upgradeWithEarlyFrame(port: number, text: string): Promise<{ head: string; message: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const key = randomBytes(16).toString('base64');
    const head =
      `GET /ws HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    socket.on('connect', () => socket.write(Buffer.concat([Buffer.from(head), maskedTextFrame(text)])));
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      const frame = buffered.subarray(end + 4);
      // Server frames are unmasked: opcode byte, length byte (< 126 here), payload.
      if (frame.length < 2 || frame.length < 2 + (frame[1]! & 0x7f)) return;
      socket.destroy();
      resolve({ head: buffered.subarray(0, end).toString('latin1'), message: frame.subarray(2, 2 + (frame[1]! & 0x7f)).toString() });
    });
    // Bound only, so a gateway that drops the early frame fails the test instead of hanging it.
    const bound = setTimeout(() => socket.destroy(), 5000);
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(bound);
      reject(new Error(`no echo of the early frame; got ${JSON.stringify(buffered.toString('latin1'))}`));
    });
  });
}

/** Opens a ws client through the gateway and resolves once it is open. */
function openClient(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { host: 'ws.test' } });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Next message on a client, as text (binary messages as base64). */
function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data: Buffer, isBinary: boolean) => resolve(isBinary ? data.toString('base64') : data.toString())));
}

describe('websocket', () => {
  let backend: EchoServer;
  let gw: TestGateway;

  before(async () => {
    backend = await startEchoServer();
    gw = await startTestGateway({
      http: {
        routers: { ws: { rule: 'Host(`ws.test`)', service: 'ws' } },
        services: { ws: { loadBalancer: { servers: [{ url: backend.url }] } } },
      },
    });
  });

  after(async () => {
    await gw.stop();
    await backend.close();
  });

  test('messages echo both ways through the gateway', async () => {
    const ws = await openClient(gw.port);
    try {
      for (const text of ['hello', 'x'.repeat(100_000)]) {
        const reply = nextMessage(ws);
        ws.send(text);
        assert.equal(await reply, `echo:${text}`);
      }
      const bytes = randomBytes(70_000);
      const reply = nextMessage(ws);
      ws.send(bytes);
      assert.equal(await reply, bytes.toString('base64'));
    } finally {
      ws.close();
    }
    const seen = backend.upgrades.at(-1)!;
    assert.equal(seen['x-forwarded-proto'], 'ws');
    assert.equal(seen.host, 'ws.test');
  });

  test('a frame sent together with the upgrade request reaches the backend', async () => {
    const { head, message } = await upgradeWithEarlyFrame(gw.port, 'early bird');
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, /\r\nupgrade: websocket/i);
    assert.equal(message, 'echo:early bird');
  });

  test('a close handshake from the client reaches the backend', async () => {
    const ws = await openClient(gw.port);
    const code = await new Promise<number>((resolve) => {
      ws.once('close', (c: number) => resolve(c));
      ws.close(4001, 'bye');
    });
    assert.equal(code, 4001);
    await eventually(() => backend.closes.includes('4001 bye'), 'the backend to see the close frame');
  });
});
