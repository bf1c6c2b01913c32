// examples/tls runs as its README says: certificates made on first start, http → https, h2, and mutual TLS on admin.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { join } from 'node:path';
import { ROOT } from '@wharf/test-helpers';

const CERTS = join(ROOT, 'examples', 'tls', 'certs');
// Upper bound so a broken example fails the test instead of hanging it.
const START_WAIT_MS = 30_000;

let child: ChildProcess;
let output = '';
let web: number;
let secure: number;

/** Starts the example on free ports and resolves once both entrypoints listen and the file is applied. */
function startExample(): Promise<void> {
  child = spawn(process.execPath, ['examples/tls/start.js', '--entrypoints.web.address=127.0.0.1:0', '--entrypoints.websecure.address=127.0.0.1:0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`example not ready:\n${output}`)), START_WAIT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const w = /entrypoint web listening on \S+:(\d+)/.exec(output);
      const s = /entrypoint websecure listening on \S+:(\d+)/.exec(output);
      if (w && s && /configuration \d+ applied: 2 routers/.test(output)) {
        web = Number(w[1]);
        secure = Number(s[1]);
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`example exited (${code}):\n${output}`)));
  });
}

before(startExample);

after(async () => {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
});

function get(host: string, options: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port: secure, servername: host, headers: { host }, ca: [readFileSync(join(CERTS, 'ca.crt'))], agent: false, ...options },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
  });
}

test('app.localhost over HTTPS, verified with the example CA', async () => {
  const reply = await get('app.localhost');
  assert.equal(reply.status, 200);
  assert.equal(JSON.parse(reply.body).proto, 'https');
});

test('plain HTTP is redirected to the websecure port', async () => {
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: web, path: '/some/path', headers: { host: 'app.localhost' }, agent: false }, resolve).on('error', reject);
  });
  res.resume();
  assert.equal(res.statusCode, 301);
  assert.equal(res.headers.location, `https://app.localhost:${secure}/some/path`);
});

test('HTTP/2 through ALPN', async () => {
  const session = http2.connect(`https://127.0.0.1:${secure}`, { servername: 'app.localhost', ca: [readFileSync(join(CERTS, 'ca.crt'))] });
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const req = session.request({ ':path': '/', ':authority': 'app.localhost' });
      req.on('response', (h) => resolve(Number(h[':status'])));
      req.on('error', reject);
      req.resume();
      req.end();
    });
    assert.equal(status, 200);
  } finally {
    session.close();
  }
});

test('admin.localhost needs the example client certificate', async () => {
  await assert.rejects(get('admin.localhost'));
  const reply = await get('admin.localhost', { cert: readFileSync(join(CERTS, 'client.crt')), key: readFileSync(join(CERTS, 'client.key')) });
  assert.equal(reply.status, 200);
});
