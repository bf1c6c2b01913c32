// The priority the API shows for a router is the one the routing table orders it by (0/absent, positive,
// negative, non-ASCII rule lengths), because both come from routerPriority().
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { httpConfig, startTestGateway, type TestGateway } from './gateway.js';
import { startBackends, type Backend, type EchoBody, get, json, request } from '@wharf/test-helpers';

const RULES = {
  negative: 'PathPrefix(`/prio/negative/and/longest`)',
  zero: 'PathPrefix(`/prio`)',
  // 18 characters but 20 bytes: Traefik's default is Go's len(), in bytes.
  accented: 'Query(`tag`, `éé`)',
  chars: 'PathPrefix(`/prio/`)',
  catchall: 'PathPrefix(`/`)',
};

describe('router priority: the API and the routing table agree', () => {
  let backends: Backend[];
  let gw: TestGateway;
  let api: number;

  before(async () => {
    backends = await startBackends(...Object.keys(RULES));
    const routers = {
      negative: { rule: RULES.negative, service: 'negative', entryPoints: ['web'], priority: -1 },
      zero: { rule: RULES.zero, service: 'zero', entryPoints: ['web'], priority: 0 },
      accented: { rule: RULES.accented, service: 'accented', entryPoints: ['web'] },
      chars: { rule: RULES.chars, service: 'chars', entryPoints: ['web'], priority: RULES.accented.length },
      catchall: { rule: RULES.catchall, service: 'catchall', entryPoints: ['web'] },
    };
    const services = Object.fromEntries(backends.map((b) => [b.name, [b.url]]));
    gw = await startTestGateway(httpConfig(routers, services), { args: ['--entrypoints.traefik.address=127.0.0.1:0', '--api.insecure=true'] });
    api = gw.gateway.address('traefik').port;
  });

  after(async () => {
    await gw.stop();
    await Promise.all(backends.map((b) => b.close()));
  });

  async function apiPriority(router: string): Promise<number> {
    const reply = await request(api, { path: `/api/http/routers/${router}@inline`, headers: { host: '127.0.0.1' } });
    assert.equal(reply.status, 200, reply.body);
    return (JSON.parse(reply.body) as { priority: number }).priority;
  }

  async function routedTo(path: string): Promise<string> {
    const reply = await get(gw.port, path);
    assert.equal(reply.status, 200, `${path}: ${reply.status} ${reply.body}`);
    return json<EchoBody>(reply).name;
  }

  test('the API shows 0/absent as the rule length in bytes, and positive and negative values as set', async () => {
    const cases: { desc: string; router: string; expected: number }[] = [
      { desc: 'negative kept', router: 'negative', expected: -1 },
      { desc: '0 is the rule length', router: 'zero', expected: RULES.zero.length },
      { desc: 'absent is the rule length in bytes', router: 'accented', expected: Buffer.byteLength(RULES.accented) },
      { desc: 'positive kept', router: 'chars', expected: RULES.accented.length },
      { desc: 'absent is the rule length', router: 'catchall', expected: RULES.catchall.length },
    ];
    for (const { desc, router, expected } of cases) assert.equal(await apiPriority(router), expected, desc);
  });

  test('among the routers matching a request, the one with the highest API priority serves it', async () => {
    const cases: { desc: string; path: string; candidates: string[] }[] = [
      { desc: 'negative loses to every default, even a shorter rule', path: '/prio/negative/and/longest', candidates: ['negative', 'zero', 'chars', 'catchall'] },
      { desc: 'the default counts bytes, not characters', path: '/prio/x?tag=%C3%A9%C3%A9', candidates: ['zero', 'accented', 'chars', 'catchall'] },
      { desc: '0 means the rule length, above a lower explicit priority', path: '/prio/x', candidates: ['zero', 'chars', 'catchall'] },
    ];
    for (const { desc, path, candidates } of cases) {
      const priorities = await Promise.all(candidates.map(async (name) => ({ name, priority: await apiPriority(name) })));
      const highest = priorities.reduce((best, c) => (c.priority > best.priority ? c : best));
      assert.equal(await routedTo(path), highest.name, `${desc}: ${JSON.stringify(priorities)}`);
    }
  });
});
