// End-to-end routing: Host, PathPrefix, Path, priorities, || and !, the 404 answer and absolute-form targets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { get, json, rawExchange, request, startBackends, type Backend, type EchoBody } from '@wharf/test-helpers';
import { httpConfig, startTestGateway, type TestGateway } from './gateway.js';

describe('routing', () => {
  let backends: Record<string, Backend>;
  let gw: TestGateway;

  before(async () => {
    const list = await startBackends('host', 'prefix', 'exact', 'long', 'explicit', 'either', 'notblocked', 'abs');
    backends = Object.fromEntries(list.map((b) => [b.name, b]));
    const routers = {
      host: { rule: 'Host(`example.test`)', service: 'host' },
      prefix: { rule: 'PathPrefix(`/api`)', service: 'prefix' },
      // Longer rule → higher default priority than `prefix` for /api/v2.
      long: { rule: 'PathPrefix(`/api/v2`)', service: 'long' },
      exact: { rule: 'Path(`/exact`)', service: 'exact' },
      // Shorter than the /prio rule below but wins by its explicit priority.
      explicit: { rule: 'PathPrefix(`/p`)', service: 'explicit', priority: 1000 },
      loses: { rule: 'PathPrefix(`/prio`) && Method(`GET`)', service: 'long' },
      either: { rule: 'Host(`one.test`) || Host(`two.test`)', service: 'either' },
      notblocked: { rule: 'PathPrefix(`/neg`) && !Header(`X-Block`, `1`)', service: 'notblocked' },
      abs: { rule: 'Host(`abs.test`)', service: 'abs' },
    };
    const services = Object.fromEntries(list.map((b) => [b.name, [b.url]]));
    gw = await startTestGateway(httpConfig(routers, services));
  });

  after(async () => {
    await gw.stop();
    await Promise.all(Object.values(backends).map((b) => b.close()));
  });

  async function routedTo(path: string, host = 'localhost', headers = {}): Promise<string> {
    const reply = await get(gw.port, path, host, headers);
    assert.equal(reply.status, 200, `${host}${path}: ${reply.status} ${reply.body}`);
    return json<EchoBody>(reply).name;
  }

  test('Host matches case-insensitively and ignores the port', async () => {
    assert.equal(await routedTo('/', 'example.test'), 'host');
    assert.equal(await routedTo('/', 'EXAMPLE.Test:8080'), 'host');
    assert.equal((await get(gw.port, '/', 'other.test')).status, 404);
  });

  test('PathPrefix and Path', async () => {
    assert.equal(await routedTo('/api'), 'prefix');
    assert.equal(await routedTo('/api/users?x=1'), 'prefix');
    assert.equal(await routedTo('/exact'), 'exact');
    assert.equal((await get(gw.port, '/exact/sub')).status, 404);
  });

  test('the longer rule wins by default; an explicit priority beats rule length', async () => {
    assert.equal(await routedTo('/api/v2/items'), 'long');
    assert.equal(await routedTo('/prio'), 'explicit');
  });

  test('|| and ! combine matchers', async () => {
    assert.equal(await routedTo('/', 'one.test'), 'either');
    assert.equal(await routedTo('/', 'two.test'), 'either');
    assert.equal(await routedTo('/neg'), 'notblocked');
    assert.equal((await get(gw.port, '/neg', 'localhost', { 'x-block': '1' })).status, 404);
  });

  test('no matching router: 404 with Traefik\'s body', async () => {
    const reply = await request(gw.port, { path: '/nothing-here', headers: { host: 'nowhere.test' } });
    assert.equal(reply.status, 404);
    assert.equal(reply.body, '404 page not found\n');
  });

  test('absolute-form request target is routed by its host, and the backend gets origin-form', async () => {
    const before = backends.abs!.requests.length;
    const raw = await rawExchange(gw.port, 'GET http://abs.test/some/path?q=1 HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 200 /);
    const seen = backends.abs!.requests[before]!;
    assert.equal(seen.url, '/some/path?q=1');
    // RFC 9112 §3.2.2: the target's authority replaces the Host header.
    assert.equal(seen.headers.host, 'abs.test');
  });
});
