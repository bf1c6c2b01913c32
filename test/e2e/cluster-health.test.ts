// With --workers, health checks live once, in the primary: each server is probed once per interval whatever
// the number of workers, a verdict is logged once, and every worker routes by it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startBackend, type Backend, spawnWharf, type WharfProcess, tempDir, type TempDir, get, eventually } from '@wharf/test-helpers';

const WORKERS = 2;

/** Answers health paths with 200 or 503 as `healthy` says, other paths with its name (or 500 while `failNext` > 0). */
function healthBackend(name: string, state: { healthy: boolean; failNext: number }) {
  return (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (req.url?.startsWith('/health')) res.writeHead(state.healthy ? 200 : 503).end();
    else if (state.failNext > 0 && state.failNext--) res.writeHead(500).end();
    else res.end(name);
  };
}

function config(a: Backend, b: Backend, healthCheck: string, check = 'healthCheck', mainPath = '/'): string {
  return `http:
  routers:
    r: { rule: "PathPrefix(\`${mainPath}\`)", service: s }
  services:
    s:
      loadBalancer:
        servers: [{ url: "${a.url}" }, { url: "${b.url}" }]
        ${check}: ${healthCheck}
`;
}

/** Answering backends of `n` requests, each on a new connection so the primary spreads them over the workers. */
async function answers(port: number, path: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const reply = await get(port, path);
    out.push(reply.status === 200 ? reply.body : `status ${reply.status}`);
  }
  return out;
}

/** Every answer came from a server, and both servers answered. */
const bothServers = (xs: string[]) => xs.every((x) => x === 'a' || x === 'b') && new Set(xs).size === 2;
const probes = (backend: Backend, path: string) => backend.requests.filter((r) => r.url === path).length;
const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern, 'g'))?.length ?? 0;

describe(`health checks with --workers=${WORKERS}`, () => {
  const aState = { healthy: true, failNext: 0 };
  const bState = { healthy: true, failNext: 0 };
  let a: Backend;
  let b: Backend;
  let dir: TempDir;
  let wharf: WharfProcess;
  let port: number;

  before(async () => {
    a = await startBackend('a', healthBackend('a', aState));
    b = await startBackend('b', healthBackend('b', bState));
    dir = tempDir();
    // interval 1h: every prober checks once when it starts, so the count of probes is the count of probers.
    dir.write('dynamic.yml', config(a, b, '{ path: /health, interval: 1h, timeout: 5s }'));
    wharf = spawnWharf([
      `--workers=${WORKERS}`,
      '--entrypoints.web.address=127.0.0.1:0',
      `--providers.file.filename=${dir.file('dynamic.yml')}`,
      '--providers.providersThrottleDuration=0',
    ]);
    port = await wharf.port('web');
    await eventually(async () => bothServers(await answers(port, '/', 10)), 'both servers to answer through both workers', 30_000);
  });

  after(async () => {
    await wharf?.stop();
    await a?.close();
    await b?.close();
    dir?.remove();
  });

  test('each server is probed once, not once per worker', async () => {
    // A later reload changes the check (and serves /v2 only): once both workers have it and the new path was probed,
    // every worker would long have made its own first probe if workers probed.
    dir.write('dynamic.yml', config(a, b, '{ path: /health-2, interval: 1h, timeout: 5s }', 'healthCheck', '/v2'));
    await eventually(async () => (await answers(port, '/elsewhere', 10)).every((x) => x === 'status 404'), 'the reload in both workers', 30_000);
    await eventually(() => probes(a, '/health-2') >= 1 && probes(b, '/health-2') >= 1, 'the new check to run', 30_000);
    assert.deepEqual([probes(a, '/health'), probes(b, '/health')], [1, 1]);
    assert.deepEqual([probes(a, '/health-2'), probes(b, '/health-2')], [1, 1]);
  });

  test("the primary's verdict takes a server out of rotation in every worker, logged once", async () => {
    const mark = wharf.stdout().length;
    bState.healthy = false;
    dir.write('dynamic.yml', config(a, b, '{ path: /health-3, interval: 100ms, timeout: 5s }'));
    await eventually(async () => (await answers(port, '/', 20)).every((x) => x === 'a'), 'b out of rotation in both workers', 30_000);
    assert.equal(count(wharf.stdout().slice(mark), /is down/), 1, wharf.stdout().slice(mark));

    bState.healthy = true;
    await eventually(async () => bothServers(await answers(port, '/', 20)), 'b back in rotation in both workers', 30_000);
    assert.equal(count(wharf.stdout().slice(mark), /is up again/), 1, wharf.stdout().slice(mark));
  });

  test('passive checks count the failures of every worker together', async () => {
    // The new configuration serves /v4 only: once /elsewhere is a 404 everywhere, both workers have it.
    dir.write('dynamic.yml', config(a, b, '{ maxFailedAttempts: 2, failureWindow: 1h }', 'passiveHealthCheck', '/v4'));
    await eventually(async () => (await answers(port, '/elsewhere', 20)).every((x) => x === 'status 404'), 'the new configuration in both workers', 30_000);
    assert.ok(bothServers(await answers(port, '/v4', 20)));
    // Two failures, wherever they land: with per-worker counting, one in each worker would take nothing out.
    bState.failNext = 2;
    await eventually(async () => (await answers(port, '/v4', 20)).every((x) => x === 'a'), 'b out of rotation after two failures', 30_000);
    assert.equal(bState.failNext, 0);
  });
});
