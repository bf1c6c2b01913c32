// End-to-end retry: one of three server processes is killed (SIGKILL) under a bounded load of 50 concurrent
// clients; with the retry middleware not a single client request fails.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { UpstreamFailureEvent } from '@wharf/core';
import { startTestGateway, type TestGateway } from './gateway.js';

/** A server process: answers its name after a short delay, so requests are in flight when it is killed. */
const SERVER = `
const http = require('node:http');
const name = process.env.SERVER_NAME;
const server = http.createServer((req, res) => {
  req.resume();
  setTimeout(() => {
    res.writeHead(200, { 'content-length': Buffer.byteLength(name), 'x-backend': name });
    res.end(name);
  }, 3);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

interface ServerProcess {
  name: string;
  url: string;
  child: ChildProcess;
}

async function spawnServer(name: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['-e', SERVER], { env: { ...process.env, SERVER_NAME: name }, stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { name, url: `http://127.0.0.1:${Number(chunk.toString().trim())}`, child };
}

async function kill(server: ServerProcess): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = once(server.child, 'exit');
  server.child.kill('SIGKILL');
  await exited;
}

const CLIENTS = 50;
const REQUESTS = 3000;
const KILL_AFTER = 600;

let servers: ServerProcess[];
let gw: TestGateway;

before(async () => {
  servers = await Promise.all(['s1', 's2', 's3'].map(spawnServer));
  gw = await startTestGateway({
    http: {
      routers: { app: { rule: 'PathPrefix(`/`)', service: 'app', middlewares: ['retry'] } },
      middlewares: { retry: { retry: { attempts: 3, initialInterval: '10ms' } } },
      services: { app: { loadBalancer: { servers: servers.map((s) => ({ url: s.url })) } } },
    },
  });
});

after(async () => {
  await gw.stop();
  await Promise.all(servers.map(kill));
});

test(`killing one of 3 servers under ${CLIENTS} concurrent clients: zero failed requests with retry`, async () => {
  const failures: UpstreamFailureEvent[] = [];
  gw.gateway.on('upstreamFailure', (e: UpstreamFailureEvent) => failures.push(e));
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const victim = servers[0]!;
  const answeredBy: Record<string, number> = {};
  const failed: string[] = [];
  let started = 0;
  let done = 0;
  let killed: Promise<void> | undefined;
  let answeredAfterKill = 0;
  try {
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (started < REQUESTS) {
          started++;
          try {
            const { status, backend } = await getOnce(gw.port, agent);
            if (status === 200) answeredBy[backend] = (answeredBy[backend] ?? 0) + 1;
            else failed.push(`HTTP ${status}`);
          } catch (err) {
            failed.push((err as Error).message);
          }
          done++;
          if (killed !== undefined) answeredAfterKill++;
          if (done === KILL_AFTER) killed = kill(victim);
        }
      }),
    );
    await killed;
  } finally {
    agent.destroy();
  }
  assert.deepEqual(failed, [], `${failed.length} of ${REQUESTS} requests failed`);
  assert.equal(Object.values(answeredBy).reduce((x, y) => x + y, 0), REQUESTS);
  assert.ok((answeredBy[victim.name] ?? 0) > 0, 'the killed server was in rotation before');
  assert.ok(answeredAfterKill >= REQUESTS - KILL_AFTER - CLIENTS, 'the load went on after the kill');
  // The kill hit live traffic: those requests failed on the dead server and were answered by another one.
  const victimFailures = failures.filter((f) => f.url === victim.url);
  assert.ok(victimFailures.length > 0, 'requests met the killed server');
  assert.deepEqual(failures.filter((f) => f.url !== victim.url), [], 'only the killed server failed');
});

function getOnce(port: number, agent: http.Agent): Promise<{ status: number; backend: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, backend: String(res.headers['x-backend']) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}
