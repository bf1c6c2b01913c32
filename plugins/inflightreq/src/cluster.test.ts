// --workers=2: the counts live in the cluster primary, so one slot is one slot whichever worker a connection
// reaches; a worker that dies gives its slots back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { allWorkersReady, eventually, freePort, get, request, spawnWharf, startBackend, tempDir, type Backend, type TempDir, type WharfProcess } from '@wharf/test-helpers';

let backend: Backend;
let dir: TempDir;
let wharf: WharfProcess;
let port: number;
const held: ServerResponse[] = [];

/** Process ids whose parent is `pid` (Linux /proc): the workers. */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
  }
  return out;
}

before(async () => {
  backend = await startBackend('b', (req, res) => {
    if (req.url?.endsWith('/hold')) held.push(res);
    else res.end('ok');
  });
  dir = tempDir('wharf-inflightreq-cluster-');
  const config = dir.write('dynamic.yml', `
http:
  routers:
    one: { rule: "PathPrefix(\`/one\`)", middlewares: [one], service: b }
    ready: { rule: "PathPrefix(\`/ready\`)", service: b }
  middlewares:
    one: { inFlightReq: { amount: 1 } }
  services:
    b: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`);
  port = await freePort();
  wharf = spawnWharf(['--workers=2', `--entrypoints.web.address=127.0.0.1:${port}`, `--providers.file.filename=${config}`, '--log.level=WARN']);
  await allWorkersReady(port);
});

after(async () => {
  for (const res of held.splice(0)) res.end();
  await wharf.stop();
  await backend.close();
  dir.remove();
});

/**
 * Sends a request that the backend holds, once it has reached the backend. A slot is given back after its response,
 * by a message from that worker to the primary: a request sent at once through the other worker may still find it
 * taken (429), and is then sent again.
 */
async function holdTheSlot(): Promise<{ holding: Promise<{ status: number } | undefined> }> {
  return eventually(async () => {
    const count = backend.requests.length;
    const holding = get(port, '/one/hold').catch(() => undefined);
    let answered = false;
    void holding.then(() => (answered = true));
    await eventually(() => answered || backend.requests.length > count, 'the request held at the backend or answered');
    return !answered && { holding };
  }, 'a request holding the slot at the backend');
}

test('one slot for both workers: while it is taken, every connection gets 429', async () => {
  const { holding } = await holdTheSlot();
  // Fresh connections are spread over both workers: per-process counts would let the other worker's through.
  const statuses = await Promise.all(Array.from({ length: 8 }, () => get(port, '/one/fast').then((r) => r.status)));
  assert.deepEqual(statuses, new Array(8).fill(429));
  for (const res of held.splice(0)) res.end('released');
  assert.equal((await holding)?.status, 200);
  await eventually(async () => (await get(port, '/one/fast')).status === 200, 'the slot given back');
});

test('a worker that dies gives back the slots it held', async () => {
  const { holding } = await holdTheSlot();
  assert.equal((await get(port, '/one/fast')).status, 429);
  // Kill both workers: the one holding the slot is among them; the primary starts replacements.
  for (const pid of await childrenOf(wharf.pid)) process.kill(pid, 'SIGKILL');
  await holding;
  held.splice(0);
  // A connection the primary hands to a worker as it dies is never answered (node:cluster keeps it): each try
  // gets a short timeout, so the poll moves on to the replacement workers.
  const fast = () => request(port, { path: '/one/fast', headers: { host: 'localhost' }, timeoutMs: 3000 }).then((r) => r.status, () => 0);
  await eventually(async () => (await fast()) === 200, 'the dead worker\'s slot given back', 60_000);
});
