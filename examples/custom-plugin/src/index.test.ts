// The example plugin's own test: requestId in a gateway that has only this plugin, against a real backend.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import requestId from './index.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  /** The headers the backend received, as it echoed them (empty when the gateway answered itself). */
  seen: IncomingHttpHeaders;
}

/** GET through the gateway; the backend answers with the request headers it received. */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: { host: 'example.test', ...headers }, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (s: string) => (body += s));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, seen: res.statusCode === 200 ? (JSON.parse(body) as IncomingHttpHeaders) : {} }));
      })
      .on('error', reject);
  });
}

describe('requestId example plugin', () => {
  let backend: http.Server;
  let gateway: EmbeddedGateway;
  let port: number;

  before(async () => {
    backend = http.createServer((req, res) => res.end(JSON.stringify(req.headers)));
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
    const route = (path: string, middleware: string) => ({ rule: `PathPrefix(\`${path}\`)`, service: 'echo', middlewares: [middleware] });
    gateway = await startGateway({
      plugins: [requestId],
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: {
        http: {
          routers: { plain: route('/plain', 'ids'), trusting: route('/trusting', 'trusting'), broken: route('/broken', 'broken') },
          services: { echo: { loadBalancer: { servers: [{ url }] } } },
          middlewares: {
            ids: { requestId: { prefix: 'gw-' } },
            trusting: { requestId: { headerName: 'X-Correlation-Id', trustIncoming: true } },
            broken: { requestId: { headerName: 'Host' } },
          },
        },
      },
    });
    port = gateway.address('web').port;
  });

  after(async () => {
    await gateway.stop();
    backend.closeAllConnections();
    await new Promise<void>((resolve) => backend.close(() => resolve()));
  });

  test('each request gets a fresh id, sent to the service and back to the client', async () => {
    const first = await get(port, '/plain');
    const second = await get(port, '/plain');
    assert.equal(first.status, 200);
    assert.match(String(first.headers['x-request-id']), /^gw-[0-9a-f-]{36}$/);
    assert.equal(first.seen['x-request-id'], first.headers['x-request-id']);
    assert.notEqual(first.headers['x-request-id'], second.headers['x-request-id']);
  });

  test('an id sent by the client is replaced unless trustIncoming', async () => {
    const replaced = await get(port, '/plain', { 'x-request-id': 'client-id' });
    assert.notEqual(replaced.seen['x-request-id'], 'client-id');
    const kept = await get(port, '/trusting', { 'x-correlation-id': 'client-id' });
    assert.equal(kept.seen['x-correlation-id'], 'client-id');
    assert.equal(kept.headers['x-correlation-id'], 'client-id');
  });

  test('validate rejects headerName Host: that middleware and its router are disabled', async () => {
    const info = gateway.info.middlewares['broken@inline'];
    assert.equal(info?.status, 'disabled');
    assert.match((info?.errors ?? []).join(), /headerName: must not be Host/);
    assert.equal((await get(port, '/broken')).status, 404);
  });
});
