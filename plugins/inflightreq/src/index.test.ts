// inFlightReq: options from labels, the counter, and through a real gateway in front of a real backend that holds
// requests open: the limit per source (host, header, forwarded IP), 429 when full, and a slot given back exactly
// once however the request ends (answered, streamed, client gone, upstream failure, upstream timeout).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type ServerResponse } from 'node:http';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import { eventually, get, startBackend, type Backend, type Reply } from '@wharf/test-helpers';
import inFlightReq, { InFlightCounter, schema } from './index.js';

describe('inFlightReq options', () => {
  const cases: Array<{ desc: string; labels: Record<string, string>; expected?: unknown; issues?: string[] }> = [
    { desc: 'amount alone', labels: { amount: '10' }, expected: { amount: 10 } },
    {
      desc: 'sourceCriterion keys case-insensitive',
      labels: { amount: '1', 'sourcecriterion.ipstrategy.depth': '2', 'sourceCriterion.ipStrategy.excludedIPs': '10.0.0.0/8' },
      expected: { amount: 1, sourceCriterion: { ipStrategy: { depth: 2, excludedIPs: ['10.0.0.0/8'] } } },
    },
    { desc: 'ipStrategy=true is the TCP peer', labels: { amount: '1', 'sourceCriterion.ipStrategy': 'true' }, expected: { amount: 1, sourceCriterion: { ipStrategy: {} } } },
    { desc: 'amount is required', labels: {}, issues: ['amount: is required'] },
  ];
  for (const { desc, labels, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, flatToTree(Object.entries(labels)));
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected) assert.deepEqual(result.value, expected);
    });
  }

  test('validate names the fields', () => {
    assert.throws(() => inFlightReq.validate!({ amount: 1, sourceCriterion: { requestHost: true, requestHeaderName: 'X-Key' } }), {
      message: 'sourceCriterion: sourceCriterion.requestHeaderName and sourceCriterion.requestHost are mutually exclusive; set only one',
    });
    assert.throws(() => inFlightReq.validate!({ amount: 1, sourceCriterion: { ipStrategy: { excludedIPs: ['x'] } } }), {
      message: "sourceCriterion.ipStrategy.excludedIPs: 'x' is not an IP address or CIDR range",
    });
  });
});

test('InFlightCounter: amount per key, released slots reused, idle keys dropped', () => {
  const counter = new InFlightCounter(2);
  assert.deepEqual([counter.acquire('a'), counter.acquire('a'), counter.acquire('a'), counter.acquire('b')], [true, true, false, true]);
  counter.release('a');
  assert.equal(counter.acquire('a'), true);
  for (const key of ['a', 'a', 'b']) counter.release(key);
  assert.equal(counter.size, 0);
  assert.equal(new InFlightCounter(0).acquire('a'), false, 'amount 0 refuses every request');
});

describe('inFlightReq through a gateway', () => {
  let backend: Backend;
  let gateway: EmbeddedGateway;
  let port: number;
  /** Responses the backend holds until the test lets them go. */
  const held: ServerResponse[] = [];

  const MIDDLEWARES: Record<string, Record<string, unknown>> = {
    host: { amount: 2 },
    header: { amount: 1, sourceCriterion: { requestHeaderName: 'X-Api-Key' } },
    forwarded: { amount: 1, sourceCriterion: { ipStrategy: { depth: 1 } } },
    one: { amount: 1 },
    timeout: { amount: 1 },
  };

  before(async () => {
    backend = await startBackend('b', (req, res) => {
      const url = req.url ?? '';
      if (url.endsWith('/hold')) return void held.push(res);
      if (url.endsWith('/stream')) {
        // Headers and part of the body now, the rest when released: the request is still in flight.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first part\n');
        return void held.push(res);
      }
      if (url.endsWith('/crash')) return void res.socket?.destroy();
      res.end('ok');
    });
    const routers: Record<string, unknown> = {};
    for (const name of Object.keys(MIDDLEWARES)) {
      routers[name] = { rule: `PathPrefix(\`/${name}/\`)`, middlewares: [name], service: name === 'timeout' ? 'short' : 'b' };
    }
    const middlewares = Object.fromEntries(Object.entries(MIDDLEWARES).map(([name, options]) => [name, { inFlightReq: options }]));
    gateway = await startGateway({
      plugins: [inFlightReq],
      args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.web.forwardedHeaders.trustedIPs=127.0.0.1'],
      dynamic: {
        http: {
          routers,
          middlewares,
          services: {
            b: { loadBalancer: { servers: [{ url: backend.url }] } },
            short: { loadBalancer: { servers: [{ url: backend.url }], serversTransport: 'short' } },
          },
          serversTransports: { short: { forwardingTimeouts: { responseHeaderTimeout: '300ms' } } },
        },
      },
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    releaseAll();
    await gateway.stop();
    await backend.close();
  });

  function releaseAll(): void {
    for (const res of held.splice(0)) res.end('released\n');
  }

  /** Starts a request the backend holds, and resolves once the backend has it (so its slot is taken). */
  async function hold(path: string, headers: Record<string, string> = {}): Promise<{ reply: Promise<Reply> }> {
    const count = backend.requests.length;
    const reply = get(port, path, headers.host ?? 'localhost', headers);
    await eventually(() => backend.requests.length > count, `${path} reached the backend`);
    return { reply };
  }

  test('the amount+1-th simultaneous request of a host gets 429; other hosts and released slots pass', async () => {
    const first = await hold('/host/hold', { host: 'a.test' });
    const second = await hold('/host/hold', { host: 'a.test' });
    const refused = await get(port, '/host/fast', 'a.test');
    assert.equal(refused.status, 429);
    assert.equal(refused.body, 'max connections reached: 2');
    assert.equal((await get(port, '/host/fast', 'b.test')).status, 200, 'another Host has its own count');
    releaseAll();
    assert.deepEqual([(await first.reply).status, (await second.reply).status], [200, 200]);
    await eventually(async () => (await get(port, '/host/fast', 'a.test')).status === 200, 'the slots given back');
  });

  test('requestHeaderName and a forwarded ipStrategy count per value', async () => {
    const keyed = await hold('/header/hold', { 'x-api-key': 'k1' });
    assert.equal((await get(port, '/header/fast', 'localhost', { 'x-api-key': 'k1' })).status, 429);
    assert.equal((await get(port, '/header/fast', 'localhost', { 'x-api-key': 'k2' })).status, 200);
    const byIP = await hold('/forwarded/hold', { 'x-forwarded-for': '203.0.113.1' });
    assert.equal((await get(port, '/forwarded/fast', 'localhost', { 'x-forwarded-for': '203.0.113.1' })).status, 429);
    assert.equal((await get(port, '/forwarded/fast', 'localhost', { 'x-forwarded-for': '203.0.113.2' })).status, 200);
    releaseAll();
    await Promise.all([keyed.reply, byIP.reply]);
  });

  test('a streamed response holds its slot until its body is over', async () => {
    const streaming = await hold('/one/stream');
    await eventually(async () => (await get(port, '/one/fast')).status === 429, 'the slot still taken while the body streams');
    releaseAll();
    assert.equal((await streaming.reply).body, 'first part\nreleased\n');
    await eventually(async () => (await get(port, '/one/fast')).status === 200, 'the slot given back');
  });

  test('a client that leaves gives its slot back', async () => {
    const count = backend.requests.length;
    const req = http.get({ host: '127.0.0.1', port, path: '/one/hold', agent: false, headers: { host: 'localhost' } });
    req.on('error', () => {});
    await eventually(() => backend.requests.length > count, 'the request reached the backend');
    assert.equal((await get(port, '/one/fast')).status, 429);
    req.destroy();
    await eventually(async () => (await get(port, '/one/fast')).status === 200, 'the slot given back after the client left');
    held.splice(0);
  });

  test('an upstream failure (502) and an upstream timeout (504) give their slots back', async () => {
    assert.equal((await get(port, '/one/crash')).status, 502);
    await eventually(async () => (await get(port, '/one/fast')).status === 200, 'the slot given back after a 502');
    assert.equal((await get(port, '/timeout/hold')).status, 504);
    await eventually(async () => (await get(port, '/timeout/fast')).status === 200, 'the slot given back after a 504');
    releaseAll();
  });

  test('every slot is given back exactly once: after all of the above, amount 1 still means one', async () => {
    const only = await hold('/one/hold');
    assert.equal((await get(port, '/one/fast')).status, 429);
    releaseAll();
    assert.equal((await only.reply).status, 200);
  });
});
