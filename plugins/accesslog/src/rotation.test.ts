// logrotate under load: the `wharf` CLI in a child process, the file renamed and SIGUSR1 sent mid-load, no line lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnWharf, startServer, tempDir } from '@wharf/test-helpers';
import { readLines } from './harness.test.helper.js';

const CONCURRENCY = 16;
const BEFORE_ROTATION = 600;
const AFTER_ROTATION = 600;

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
  const backend = await startServer((req, res) => {
    req.resume();
    res.end('ok');
  });
  const tmp = tempDir('wharf-accesslog-');
  const dynamic = join(tmp.path, 'dynamic.yml');
  writeFileSync(dynamic, `http:\n  routers:\n    app:\n      rule: PathPrefix(\`/\`)\n      service: app\n  services:\n    app:\n      loadBalancer:\n        servers:\n          - url: ${backend.url}\n`);
  const file = join(tmp.path, 'access.log');
  const rotated = join(tmp.path, 'access.log.1');
  const wharf = spawnWharf([
    '--entrypoints.web.address=127.0.0.1:0', `--providers.file.filename=${dynamic}`, '--providers.file.watch=false', '--log.format=json', '--accessLog.format=json', `--accessLog.filePath=${file}`,
  ]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    const port = Number((await wharf.waitFor(/entrypoint web listening on 127\.0\.0\.1:(\d+)/))[1]);
    await wharf.waitFor(/configuration \d+ applied: 1 routers/);

    let signalled = false;
    const rotateOnce = (done: number) => {
      if (signalled || done < BEFORE_ROTATION / 2) return;
      // logrotate's move-then-signal, while the other workers keep requests in flight.
      signalled = true;
      renameSync(file, rotated);
      wharf.child.kill('SIGUSR1');
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
    assert.equal((await wharf.stop('SIGTERM')).code, 0);

    const before = readLines(rotated);
    const after = readLines(file);
    assert.ok(before.length > 0 && after.length > 0, `both files have lines (${before.length} + ${after.length})`);
    assert.equal(before.length + after.length, total, 'one line per request, none lost');
    const paths = new Set([...before, ...after].map((l) => (JSON.parse(l) as { RequestPath: string }).RequestPath));
    assert.equal(paths.size, total, 'every request exactly once, no torn line');
  } finally {
    agent.destroy();
    await wharf.stop('SIGKILL');
    await backend.close();
    tmp.remove();
  }
});
