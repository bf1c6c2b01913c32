// The reload test: 20 rewrites of the dynamic file under 50 busy keep-alive connections lose no request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { eventually, request, sleep, spawnWharf, startBackends, tempDir, type Backend, type TempDir, type WharfProcess } from '@wharf/test-helpers';

const CONNECTIONS = 50;
const VERSIONS = 20;
const PAUSE_MS = 150;

/**
 * Version k of the dynamic file: `/stable` in every version (servers swapped between the two sets, middlewares
 * changed), `/v<k>` added and `/v<k-2>` gone, and a `tag` middleware stamping X-Version: k on every answer.
 */
function version(k: number, setA: Backend[], setB: Backend[]): string {
  const servers = (set: Backend[]) => set.map((b) => `          - url: ${b.url}`).join('\n');
  const [stableSet, addedSet] = k % 2 === 0 ? [setA, setB] : [setB, setA];
  const stableMiddlewares = k % 3 === 0 ? '[tag, strip]' : '[tag]';
  const added = [k - 1, k].filter((n) => n > 0);
  const addedRouters = added
    .map((n) => `    v${n}:\n      rule: PathPrefix(\`/v${n}\`)\n      service: added\n      middlewares: [tag]`)
    .join('\n');
  return `# version ${k}
http:
  routers:
    stable:
      rule: PathPrefix(\`/stable\`)
      service: stable
      middlewares: ${stableMiddlewares}
${addedRouters}
  services:
    stable:
      loadBalancer:
        servers:
${servers(stableSet)}
    added:
      loadBalancer:
        servers:
${servers(addedSet)}
  middlewares:
    tag:
      headers:
        customResponseHeaders:
          X-Version: "${k}"
    strip:
      stripPrefix:
        prefixes: [/stable]
`;
}

interface LoadResult {
  ok: number;
  failed: number;
  failures: string[];
}

/** Keeps `connections` keep-alive connections busy with GET /stable until stop() is called. */
function startLoad(port: number, connections: number): { answered(): number; stop(): Promise<LoadResult> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const result: LoadResult = { ok: 0, failed: 0, failures: [] };
  let running = true;
  const fail = (why: string) => {
    result.failed++;
    if (result.failures.length < 10) result.failures.push(why);
  };
  async function loop(): Promise<void> {
    while (running) {
      try {
        const reply = await request(port, { path: '/stable', headers: { host: 'reload.test' }, agent });
        if (reply.status === 200) result.ok++;
        else fail(`${reply.status} ${reply.body.slice(0, 100)}`);
      } catch (err) {
        fail((err as Error).message);
      }
    }
  }
  const loops = Array.from({ length: connections }, loop);
  return {
    answered: () => result.ok + result.failed,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}

describe('live reload under load', () => {
  let setA: Backend[];
  let setB: Backend[];
  let dir: TempDir;
  let wharf: WharfProcess;
  let port: number;

  before(async () => {
    setA = await startBackends('a1', 'a2');
    setB = await startBackends('b1', 'b2');
    dir = tempDir();
    const file = dir.write('dynamic.yml', version(0, setA, setB));
    wharf = spawnWharf(['--entrypoints.web.address=127.0.0.1:0', `--providers.file.filename=${file}`, '--providers.providersThrottleDuration=50ms']);
    port = await wharf.port();
    await wharf.waitFor(/applied: 1 routers/);
  });

  after(async () => {
    await wharf.stop();
    await Promise.all([...setA, ...setB].map((b) => b.close()));
    dir.remove();
  });

  test(`${VERSIONS} rewrites under ${CONNECTIONS} busy keep-alive connections: no failed request, every version applied`, async () => {
    const load = startLoad(port, CONNECTIONS);
    /** Requests answered by the time each version was live: proves the load ran across every reload. */
    const answeredAt: number[] = [];
    try {
      for (let k = 1; k <= VERSIONS; k++) {
        dir.write('dynamic.yml', version(k, setA, setB));
        // The route added in version k answers, stamped by version k's middleware.
        await eventually(async () => {
          const reply = await request(port, { path: `/v${k}`, headers: { host: 'reload.test' } });
          return reply.status === 200 && reply.headers['x-version'] === String(k);
        }, `version ${k} to be applied`);
        answeredAt.push(load.answered());
        await sleep(PAUSE_MS);
      }
    } finally {
      const result = await load.stop();
      assert.equal(result.failed, 0, `failed requests: ${result.failures.join(' | ')}`);
    }
    for (let k = 1; k < answeredAt.length; k++) assert.ok(answeredAt[k]! > answeredAt[k - 1]!, `requests kept flowing between versions ${k} and ${k + 1}`);
    // The last version is the live one: its routes answer, the ones it dropped do not.
    const last = await request(port, { path: `/v${VERSIONS}`, headers: { host: 'reload.test' } });
    assert.equal(last.headers['x-version'], String(VERSIONS));
    assert.equal((await request(port, { path: `/v${VERSIONS - 2}`, headers: { host: 'reload.test' } })).status, 404);
    const stable = await request(port, { path: '/stable', headers: { host: 'reload.test' } });
    assert.equal(stable.headers['x-version'], String(VERSIONS));
    // /stable was served by both server sets as they were swapped.
    for (const backend of [...setA, ...setB]) {
      assert.ok(backend.requests.some((r) => r.url.startsWith('/stable') || r.url === '/'), `${backend.name} served /stable`);
    }
  });
});
