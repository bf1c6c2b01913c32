// End-to-end streaming: 256 MiB up and down through a wharf process with bounded memory, trailers, HEAD.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { request, rssBytes, spawnWharf, startBackend, tempDir, type Backend, type TempDir, type WharfProcess } from '@wharf/test-helpers';

const SIZE = 256 * 1024 * 1024;
// Far below SIZE: a gateway that buffered even a quarter of the body would exceed it.
const MAX_RSS_GROWTH = 64 * 1024 * 1024;
const WARM_UP = 32 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** Writes `total` bytes of CHUNK into `out`, honouring backpressure, then ends it. */
function pump(out: Writable, total: number): void {
  let sent = 0;
  const more = () => {
    while (sent < total) {
      const n = Math.min(CHUNK.length, total - sent);
      sent += n;
      if (!out.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
        out.once('drain', more);
        return;
      }
    }
    out.end();
  };
  more();
}

/** Samples a process's RSS until stopped; returns the highest value seen. */
function watchRss(pid: number): { stop(): number } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssBytes(pid));
    },
  };
}

/** Backend: /download/<n> streams n bytes (Content-Length), /upload counts what it receives, /trailers and /head as named. */
function bigHandler(req: IncomingMessage, res: ServerResponse): void {
  const download = /^\/download\/(\d+)$/.exec(req.url ?? '');
  if (download) {
    const size = Number(download[1]);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    pump(res, size);
  } else if (req.url === '/upload') {
    let received = 0;
    req.on('data', (c: Buffer) => (received += c.length));
    req.on('end', () => res.end(String(received)));
  } else if (req.url === '/trailers') {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
    res.write('part one, ');
    res.write('part two');
    res.addTrailers({ 'x-checksum': 'abc123' });
    res.end();
  } else {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1234', 'x-method': req.method ?? '' });
    res.end(req.method === 'HEAD' ? undefined : 'x'.repeat(1234));
  }
}

/** Sends `size` bytes chunked and returns the backend's count from the response. */
function upload(port: number, size: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    pump(req, size);
  });
}

/** Downloads `size` bytes and counts them without keeping them. */
function download(port: number, size: number): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: `/download/${size}`, agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('streaming through a wharf process', () => {
  let backend: Backend;
  let dir: TempDir;
  let wharf: WharfProcess;
  let port: number;

  before(async () => {
    backend = await startBackend('big', bigHandler);
    dir = tempDir();
    const file = dir.write(
      'dynamic.yml',
      `http:\n  routers:\n    all:\n      rule: PathPrefix(\`/\`)\n      service: big\n  services:\n    big:\n      loadBalancer:\n        servers:\n          - url: ${backend.url}\n`,
    );
    wharf = spawnWharf(['--entrypoints.web.address=127.0.0.1:0', `--providers.file.filename=${file}`, '--providers.providersThrottleDuration=50ms']);
    port = await wharf.port();
    await wharf.waitFor(/applied: 1 routers/);
    // Warm up (heap and allocator growth of a fresh process) so the baseline is a working gateway's.
    await download(port, WARM_UP);
    await upload(port, WARM_UP);
  });

  after(async () => {
    await wharf.stop();
    await backend.close();
    dir.remove();
  });

  test('a 256 MiB download streams through with bounded gateway memory', async () => {
    const baseline = rssBytes(wharf.pid);
    const rss = watchRss(wharf.pid);
    const result = await download(port, SIZE);
    const peak = rss.stop();
    assert.equal(result.status, 200);
    assert.equal(result.bytes, SIZE);
    assert.ok(peak - baseline < MAX_RSS_GROWTH, `gateway RSS grew by ${((peak - baseline) / 2 ** 20).toFixed(1)} MiB`);
  });

  test('a 256 MiB chunked upload streams through with bounded gateway memory', async () => {
    const baseline = rssBytes(wharf.pid);
    const rss = watchRss(wharf.pid);
    const result = await upload(port, SIZE);
    const peak = rss.stop();
    assert.equal(result.status, 200);
    assert.equal(result.body, String(SIZE));
    assert.ok(peak - baseline < MAX_RSS_GROWTH, `gateway RSS grew by ${((peak - baseline) / 2 ** 20).toFixed(1)} MiB`);
  });

  test('a chunked response keeps its trailers for a client that accepts them', async () => {
    const reply = await request(port, { path: '/trailers', headers: { te: 'trailers' } });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['transfer-encoding'], 'chunked');
    assert.equal(reply.body, 'part one, part two');
    assert.equal(reply.trailers['x-checksum'], 'abc123');
  });

  test('HEAD gets the headers of the GET and no body', async () => {
    const reply = await request(port, { method: 'HEAD', path: '/head' });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-length'], '1234');
    assert.equal(reply.headers['x-method'], 'HEAD');
    assert.equal(reply.body, '');
    // The connection is still usable afterwards: a following GET gets the whole body.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await request(port, { method: 'HEAD', path: '/head', agent });
      const full = await request(port, { path: '/head', agent });
      assert.equal(full.body.length, 1234);
    } finally {
      agent.destroy();
    }
  });
});
