// respondingTimeouts.writeTimeout end to end: a response not written in time is cut (HTTP/1.1: the connection,
// h2: the stream), per response and not per connection; WebSocket tunnels and writeTimeout=0 are not bounded.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeServer, eventually, makeCert, sleep } from '@wharf/test-helpers';
import { WebSocket, WebSocketServer } from 'ws';
import { startTestGateway, type TestGateway } from './gateway.js';

const WRITE_TIMEOUT_MS = 500;
// Several times writeTimeout, so a cut and a complete body cannot be confused however slow the machine.
const SLOW_BODY_MS = 3 * 1000;
const CHUNK_EVERY_MS = 100;

let backend: http.Server;
let wsBackend: WebSocketServer;
let gw: TestGateway;
let open: number;
let secure: number;
let certDir: string;
/** Backend responses to /slow that the gateway stopped reading before they were complete. */
let slowAbandoned = 0;

/** /slow and /slow-start stream for SLOW_BODY_MS (the latter only after it), anything else answers at once. */
function backendHandler(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  if (req.url === '/slow') return streamSlowly(res);
  if (req.url === '/slow-start') return void setTimeout(() => streamSlowly(res), SLOW_BODY_MS).unref();
  res.end('fast');
}

function streamSlowly(res: ServerResponse): void {
  if (res.destroyed) return;
  res.writeHead(200, { 'content-type': 'text/plain' });
  const started = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - started < SLOW_BODY_MS) res.write('tick\n');
    else res.end('done\n');
  }, CHUNK_EVERY_MS);
  res.on('close', () => {
    clearInterval(timer);
    if (!res.writableFinished) slowAbandoned++;
  });
}

async function selfSignedFiles(dir: string): Promise<{ certFile: string; keyFile: string }> {
  const pem = await makeCert(['app.test']);
  const certFile = join(dir, 'app.crt');
  const keyFile = join(dir, 'app.key');
  writeFileSync(certFile, pem.cert);
  writeFileSync(keyFile, pem.key);
  return { certFile, keyFile };
}

before(async () => {
  backend = http.createServer(backendHandler);
  wsBackend = new WebSocketServer({ server: backend });
  wsBackend.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo:${data.toString()}`)));
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  certDir = mkdtempSync(join(tmpdir(), 'wharf-write-timeout-'));
  gw = await startTestGateway(
    {
      http: { routers: { app: { rule: 'PathPrefix(`/`)', service: 'app' } }, services: { app: { loadBalancer: { servers: [{ url }] } } } },
      tls: { certificates: [await selfSignedFiles(certDir)] },
    },
    {
      args: [
        `--entrypoints.web.transport.respondingTimeouts.writeTimeout=${WRITE_TIMEOUT_MS}ms`,
        // No writeTimeout, and a readTimeout far below the body's duration: neither may cut a response.
        '--entrypoints.open.address=127.0.0.1:0',
        '--entrypoints.open.transport.respondingTimeouts.readTimeout=1s',
        '--entrypoints.secure.address=127.0.0.1:0',
        '--entrypoints.secure.http.tls=true',
        `--entrypoints.secure.transport.respondingTimeouts.writeTimeout=${WRITE_TIMEOUT_MS}ms`,
      ],
    },
  );
  open = gw.gateway.address('open').port;
  secure = gw.gateway.address('secure').port;
});

after(async () => {
  await gw.stop();
  for (const client of wsBackend.clients) client.terminate();
  await closeServer(backend);
  rmSync(certDir, { recursive: true, force: true });
});

interface Outcome {
  status: number;
  body: string;
  /** The body's end arrived; false when the connection closed first. */
  complete: boolean;
  error?: string;
}

/** One GET that reports how it ended instead of rejecting, so a cut connection is an outcome to assert on. */
function fetchOutcome(port: number, path: string, agent: http.Agent | false = false): Promise<Outcome & { reusedSocket: boolean }> {
  return new Promise((resolve) => {
    const outcome: Outcome = { status: 0, body: '', complete: false };
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      outcome.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (c: string) => (outcome.body += c));
      res.on('end', () => (outcome.complete = true));
      res.on('close', () => resolve({ ...outcome, reusedSocket: req.reusedSocket }));
    });
    req.on('error', (err) => resolve({ ...outcome, error: err.message, reusedSocket: req.reusedSocket }));
  });
}

test('a body streamed slower than writeTimeout is cut, the backend is released, and other requests are still served', async () => {
  const abandonedBefore = slowAbandoned;
  const slow = await fetchOutcome(gw.port, '/slow');
  assert.equal(slow.status, 200);
  assert.equal(slow.complete, false, `the body must not complete: got ${JSON.stringify(slow)}`);
  assert.match(slow.body, /^tick\n/);
  assert.doesNotMatch(slow.body, /done/);

  const fast = await fetchOutcome(gw.port, '/fast');
  assert.deepEqual([fast.status, fast.body, fast.complete], [200, 'fast', true]);
  // The proxy stops reading the upstream once the client connection is gone (before the backend would have ended).
  await eventually(() => slowAbandoned === abandonedBefore + 1, 'the gateway to drop the slow upstream response', SLOW_BODY_MS / 2);
});

test('a response not started within writeTimeout: the connection is closed without a status line (Go does the same)', async () => {
  const outcome = await fetchOutcome(gw.port, '/slow-start');
  assert.equal(outcome.status, 0);
  assert.match(outcome.error ?? '', /socket hang up|ECONNRESET/);
});

test('writeTimeout is per response: a keep-alive connection idle for longer than it serves the next request', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const first = await fetchOutcome(gw.port, '/fast', agent);
    assert.deepEqual([first.status, first.body], [200, 'fast']);
    await sleep(WRITE_TIMEOUT_MS * 2);
    const second = await fetchOutcome(gw.port, '/fast', agent);
    assert.deepEqual([second.status, second.body, second.complete], [200, 'fast', true]);
    assert.equal(second.reusedSocket, true, 'the second request must travel on the first one’s connection');
  } finally {
    agent.destroy();
  }
});

test('writeTimeout=0 (the default): a response streams for as long as it takes', async () => {
  const outcome = await fetchOutcome(open, '/slow');
  assert.equal(outcome.status, 200);
  assert.equal(outcome.complete, true, `the body must complete: got ${JSON.stringify(outcome)}`);
  assert.match(outcome.body, /done\n$/);
});

test('a WebSocket tunnel outlives writeTimeout, as in Traefik (Go clears the deadline when it hijacks the connection)', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws`);
  try {
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await sleep(WRITE_TIMEOUT_MS * 2);
    assert.equal(ws.readyState, WebSocket.OPEN);
    const reply = new Promise<string>((resolve) => ws.once('message', (data) => resolve(data.toString())));
    ws.send('still here');
    assert.equal(await reply, 'echo:still here');
  } finally {
    ws.terminate();
  }
});

interface H2Outcome {
  status: number;
  body: string;
  rstCode: number;
}

function h2Get(session: http2.ClientHttp2Session, path: string): Promise<H2Outcome> {
  return new Promise((resolve) => {
    const outcome: H2Outcome = { status: 0, body: '', rstCode: -1 };
    const stream = session.request({ ':path': path, ':authority': 'app.test' });
    stream.on('response', (headers) => (outcome.status = Number(headers[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (outcome.body += c));
    stream.on('error', () => {});
    stream.on('close', () => resolve({ ...outcome, rstCode: stream.rstCode ?? -1 }));
    stream.end();
  });
}

test('over h2 the late stream is reset with INTERNAL_ERROR, and the connection keeps serving other streams', async () => {
  const session = http2.connect(`https://127.0.0.1:${secure}`, { servername: 'app.test', rejectUnauthorized: false });
  session.on('error', () => {});
  try {
    const slow = await h2Get(session, '/slow');
    assert.equal(slow.status, 200);
    assert.equal(slow.rstCode, http2.constants.NGHTTP2_INTERNAL_ERROR);
    assert.doesNotMatch(slow.body, /done/);
    assert.equal(session.closed || session.destroyed, false, 'only the stream is reset, not the connection');
    const fast = await h2Get(session, '/fast');
    assert.deepEqual([fast.status, fast.body, fast.rstCode], [200, 'fast', http2.constants.NGHTTP2_NO_ERROR]);
  } finally {
    session.destroy();
  }
});
