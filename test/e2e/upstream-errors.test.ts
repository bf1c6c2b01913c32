// End-to-end upstream failures: 502 for a closed port, 504 after responseHeaderTimeout, client aborts reach the backend.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { closedPort, eventually, get, startBackend, type Backend } from '@wharf/test-helpers';
import { startTestGateway, type TestGateway } from './gateway.js';

describe('upstream errors', () => {
  let silent: Backend;
  /** Connections of `silent` that were closed (by the gateway, once the client went away). */
  let closedByPeer = 0;
  let gw: TestGateway;

  before(async () => {
    // Never answers: the request is read, the response never started.
    silent = await startBackend('silent', (req, res) => {
      req.resume();
      res.on('close', () => closedByPeer++);
    });
    const dead = `http://127.0.0.1:${await closedPort()}`;
    gw = await startTestGateway({
      http: {
        routers: {
          dead: { rule: 'PathPrefix(`/dead`)', service: 'dead' },
          slow: { rule: 'PathPrefix(`/slow`)', service: 'slow' },
          hang: { rule: 'PathPrefix(`/hang`)', service: 'hang' },
        },
        services: {
          dead: { loadBalancer: { servers: [{ url: dead }] } },
          slow: { loadBalancer: { servers: [{ url: silent.url }], serversTransport: 'short' } },
          hang: { loadBalancer: { servers: [{ url: silent.url }] } },
        },
        serversTransports: { short: { forwardingTimeouts: { responseHeaderTimeout: '300ms' } } },
      },
    });
  });

  after(async () => {
    await gw.stop();
    await silent.close();
  });

  test('a backend whose port is closed gives 502 Bad Gateway', async () => {
    const reply = await get(gw.port, '/dead');
    assert.equal(reply.status, 502);
    assert.equal(reply.body, 'Bad Gateway');
  });

  test('a backend that never answers gives 504 after responseHeaderTimeout', async () => {
    const reply = await get(gw.port, '/slow');
    assert.equal(reply.status, 504);
    assert.equal(reply.body, 'Gateway Timeout');
  });

  test('a client that goes away cancels the upstream request', async () => {
    const closedBefore = closedByPeer;
    const arrived = silent.nextRequest();
    const req = http.get({ host: '127.0.0.1', port: gw.port, path: '/hang', agent: false });
    req.on('error', () => undefined);
    await arrived;
    req.destroy();
    await eventually(() => closedByPeer > closedBefore, 'the backend connection to be closed');
  });

  test('a client that aborts an upload mid-body aborts the upstream upload', async () => {
    const arrived = silent.nextRequest();
    const req = http.request({ host: '127.0.0.1', port: gw.port, method: 'POST', path: '/hang', agent: false, headers: { 'content-length': '1000000' } });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(1000));
    const recorded = await arrived;
    await eventually(() => recorded.bodyBytes > 0, 'the first body bytes at the backend');
    req.destroy();
    await eventually(() => recorded.aborted, 'the backend to see the upload aborted');
    assert.equal(recorded.completed, false);
  });
});
