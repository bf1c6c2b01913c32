// logrotate under load: the `wharf` CLI in a child process, the file renamed and SIGUSR1 sent mid-load, no line lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readLines, startBackend, tempDir } from './harness.test.helper.js';

const wharfBin = join(dirname(createRequire(import.meta.url).resolve('wharf/package.json')), 'bin', 'wharf.js'); // the distribution's command
const CONCURRENCY = 16;
const BEFORE_ROTATION = 600;
const AFTER_ROTATION = 600;

/** Resolves with the first stdout JSON record (the gateway log) that matches. */
function waitForLog(child: ReturnType<typeof spawn>, match: (msg: string) => RegExpExecArray | null): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let pending = '';
    const onData = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const found = line.startsWith('{') ? match((JSON.parse(line) as { msg: string }).msg) : null;
        if (found) {
          child.stdout!.off('data', onData);
          resolve(found);
          return;
        }
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`wharf exited (${code}) before logging what the test waits for`)));
  });
}

function get(agent: http.Agent, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

// Every request gets its own path, so the lines can be matched one to one.
let sequence = 0;

/** Sends requests from CONCURRENCY loops until `more(sent)` says stop; resolves to how many were sent. */
async function load(agent: http.Agent, port: number, more: (sent: number) => boolean, onDone: (done: number) => void): Promise<number> {
  let sent = 0;
  let done = 0;
  const worker = async () => {
    while (more(sent)) {
      sent++;
      assert.equal(await get(agent, port, `/r${++sequence}`), 200);
      onDone(++done);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return sent;
}

test('SIGUSR1 mid-load: every request has its line, split between the renamed file and the new one', async () => {
  const backend = await startBackend((req, res) => {
    req.resume();
    res.end('ok');
  });
  const tmp = tempDir();
  const dynamic = join(tmp.dir, 'dynamic.yml');
  writeFileSync(dynamic, `http:\n  routers:\n    app:\n      rule: PathPrefix(\`/\`)\n      service: app\n  services:\n    app:\n      loadBalancer:\n        servers:\n          - url: ${backend.url}\n`);
  const file = join(tmp.dir, 'access.log');
  const rotated = join(tmp.dir, 'access.log.1');
  const child = spawn(
    process.execPath,
    [wharfBin, '--entrypoints.web.address=127.0.0.1:0', `--providers.file.filename=${dynamic}`, '--providers.file.watch=false', '--log.format=json', '--accessLog.format=json', `--accessLog.filePath=${file}`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    const listening = waitForLog(child, (msg) => /^entrypoint web listening on 127\.0\.0\.1:(\d+)$/.exec(msg));
    const routed = waitForLog(child, (msg) => /^configuration \d+ applied: 1 routers/.exec(msg));
    const port = Number((await listening)[1]);
    await routed;

    let signalled = false;
    const rotateOnce = (done: number) => {
      if (signalled || done < BEFORE_ROTATION / 2) return;
      // logrotate's move-then-signal, while the other workers keep requests in flight.
      signalled = true;
      renameSync(file, rotated);
      child.kill('SIGUSR1');
    };
    let total = await load(agent, port, (sent) => sent < BEFORE_ROTATION, rotateOnce);
    // Keep the load on until the gateway has reopened the path, then some more.
    let reopenedAt: number | undefined;
    total += await load(
      agent,
      port,
      (sent) => {
        if (reopenedAt === undefined && existsSync(file)) reopenedAt = sent;
        return reopenedAt === undefined || sent < reopenedAt + AFTER_ROTATION;
      },
      () => undefined,
    );
    agent.destroy();
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);

    const before = readLines(rotated);
    const after = readLines(file);
    assert.ok(before.length > 0 && after.length > 0, `both files have lines (${before.length} + ${after.length})`);
    assert.equal(before.length + after.length, total, 'one line per request, none lost');
    const paths = new Set([...before, ...after].map((l) => (JSON.parse(l) as { RequestPath: string }).RequestPath));
    assert.equal(paths.size, total, 'every request exactly once, no torn line');
  } finally {
    agent.destroy();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await backend.close();
    tmp.remove();
  }
});
