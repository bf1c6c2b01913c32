// headers: the options Wharf had before issue #16 (custom request/response headers, frameDeny, nosniff) keep working.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '@wharf/core';
import { startServer, type Listening } from '@wharf/test-helpers';
import headers from './index.js';

/** A backend that echoes the request headers and sends a few response headers of its own. */
function backend(): Promise<Listening> {
  return startServer((req, res) => {
    res.setHeader('x-powered-by', 'backend');
    res.setHeader('x-keep', 'yes');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.headers));
  });
}

const b = await backend();
const gateway = await startGateway({
  plugins: [headers],
  args: ['--entrypoints.web.address=127.0.0.1:0'],
  dynamic: {
    http: {
      routers: {
        r: { rule: 'PathPrefix(`/`)', middlewares: ['h'], service: 'b' },
        refused: { rule: 'PathPrefix(`/none`)', middlewares: ['h'], service: 'missing' },
      },
      middlewares: {
        h: {
          headers: {
            customRequestHeaders: { 'X-Added': 'req', 'User-Agent': '' },
            customResponseHeaders: { 'X-Powered-By': '', 'X-Served-By': 'wharf' },
            frameDeny: true,
            contentTypeNosniff: true,
          },
        },
      },
      services: { b: { loadBalancer: { servers: [{ url: b.url }] } } },
    },
  },
});
after(async () => {
  await gateway.stop();
  await b.close();
});
const base = `http://127.0.0.1:${gateway.address('web').port}`;

test('headers sets and removes request headers before forwarding', async () => {
  const res = await fetch(base + '/', { headers: { 'user-agent': 'curl/8' } });
  const seen = (await res.json()) as Record<string, string>;
  assert.equal(seen['x-added'], 'req');
  assert.equal(seen['user-agent'], undefined);
});

test('headers sets and removes response headers on a streamed upstream response', async () => {
  const res = await fetch(base + '/');
  await res.arrayBuffer();
  assert.equal(res.headers.get('x-powered-by'), null);
  assert.equal(res.headers.get('x-served-by'), 'wharf');
  assert.equal(res.headers.get('x-keep'), 'yes');
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
});

test('a header map from labels decodes into the same options', async () => {
  const { flatToTree, decode } = await import('@wharf/core/config');
  const tree = flatToTree(Object.entries({ 'customresponseheaders.X-Served-By': 'wharf', 'customrequestheaders.X-Removed': '', framedeny: 'true' }));
  const { value, issues } = decode(headers.schema, tree);
  assert.deepEqual(issues, []);
  assert.deepEqual(value, { customResponseHeaders: { 'X-Served-By': 'wharf' }, customRequestHeaders: { 'X-Removed': '' }, frameDeny: true });
});
