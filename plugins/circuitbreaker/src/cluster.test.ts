// --workers=2: one breaker for the whole gateway. Failures seen by one worker only (one keep-alive connection) open
// the circuit for connections the other worker takes, whose own traffic is healthy; the transition is logged once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { eventually, freePort, get, request, spawnWharf, startBackend, tempDir, type Backend, type TempDir, type WharfProcess } from '@wharf/test-helpers';

let backend: Backend;
let dir: TempDir;
let wharf: WharfProcess;
let port: number;

/** Every worker has the configuration once a run of fresh connections (spread over workers) all get 200. */
async function allWorkersReady(): Promise<void> {
  let streak = 0;
  await eventually(async () => {
    const status = await get(port, '/ready').then((r) => r.status, () => 0);
    streak = status === 200 ? streak + 1 : 0;
    return streak >= 8;
  }, 'two ready workers', 60_000, 25);
}

before(async () => {
  backend = await startBackend('b', (req, res) => {
    if (req.url?.startsWith('/cb/fail')) res.writeHead(500).end('broken');
    else res.end('ok');
  });
  dir = tempDir('wharf-circuitbreaker-cluster-');
  const config = dir.write('dynamic.yml', `
http:
  routers:
    cb: { rule: "PathPrefix(\`/cb\`)", middlewares: [cb], service: b }
    ready: { rule: "PathPrefix(\`/ready\`)", service: b }
  middlewares:
    cb:
      circuitBreaker:
        expression: "ResponseCodeRatio(500, 600, 0, 600) > 0.5 && RequestThreshold() >= 3"
        checkPeriod: 50ms
        fallbackDuration: 1m
  services:
    b: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`);
  port = await freePort();
  wharf = spawnWharf(['--workers=2', `--entrypoints.web.address=127.0.0.1:${port}`, `--providers.file.filename=${config}`, '--log.level=INFO']);
  await allWorkersReady();
});

after(async () => {
  await wharf.stop();
  await backend.close();
  dir.remove();
});

test('failures on one worker open the circuit for every worker, logged once', async () => {
  // One keep-alive connection: one worker sees every failure.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const failing = () => request(port, { path: '/cb/fail', headers: { host: 'localhost' }, agent }).then((r) => r.status);
  try {
    await eventually(async () => (await failing()) === 503, 'the circuit open for the worker that saw the failures');
  } finally {
    agent.destroy();
  }
  // Fresh connections reach both workers and ask for a healthy path: a worker counting alone would never open.
  let streak = 0;
  await eventually(async () => {
    streak = (await get(port, '/cb/ok')).status === 503 ? streak + 1 : 0;
    return streak >= 8;
  }, 'every worker refusing, whichever takes the connection');
  const opened = (wharf.stdout() + wharf.stderr()).split('\n').filter((line) => line.includes('circuit breaker open'));
  assert.equal(opened.length, 1, `one transition, logged once by the primary:\n${opened.join('\n')}`);
});
