// template plugin: options as labels decode (or fail naming the field), and the header is set on proxied
// answers and on answers made in the chain, through a real gateway in front of a real backend.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import template, { schema } from './index.js';

describe('template options', () => {
  const cases: Array<{ desc: string; labels: Record<string, string>; expected?: unknown; issues?: string[] }> = [
    { desc: 'defaults filled in', labels: { value: 'edge-1' }, expected: { headerName: 'X-Served-By', value: 'edge-1', overwrite: true } },
    { desc: 'keys are case-insensitive, booleans coerced', labels: { headername: 'X-Edge', VALUE: 'a', overwrite: 'false' }, expected: { headerName: 'X-Edge', value: 'a', overwrite: false } },
    { desc: 'value is required', labels: { headerName: 'X-Edge' }, issues: ['value: is required'] },
    { desc: 'unknown option named', labels: { value: 'a', valeu: 'b' }, issues: ["valeu: unknown field 'valeu' (did you mean 'value'?)"] },
  ];
  for (const { desc, labels, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, flatToTree(Object.entries(labels)));
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected) assert.deepEqual(result.value, expected);
    });
  }

  test('validate names the field', () => {
    assert.throws(() => template.validate!({ headerName: 'Content-Length', value: 'x', overwrite: true }), /^Error: headerName: Content-Length is set by the gateway itself/);
  });
});

describe('template through a gateway', () => {
  let backend: http.Server;
  let gateway: EmbeddedGateway;
  let base: string;

  before(async () => {
    backend = http.createServer((req, res) => {
      if (req.url?.endsWith('/own')) res.setHeader('X-Served-By', 'service');
      res.end('ok');
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
    gateway = await startGateway({
      plugins: [template],
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: {
        http: {
          routers: {
            set: { rule: 'PathPrefix(`/`)', middlewares: ['set'], service: 'b' },
            keep: { rule: 'PathPrefix(`/keep`)', middlewares: ['keep'], service: 'b' },
            empty: { rule: 'PathPrefix(`/empty`)', middlewares: ['set'], service: 'empty' },
            broken: { rule: 'PathPrefix(`/broken`)', middlewares: ['broken'], service: 'b' },
          },
          middlewares: {
            set: { template: { value: 'edge-1' } },
            keep: { template: { value: 'edge-1', overwrite: false } },
            broken: { template: { headerName: 'Date', value: 'x' } },
          },
          services: { b: { loadBalancer: { servers: [{ url }] } }, empty: { loadBalancer: { servers: [] } } },
        },
      },
    });
    base = `http://127.0.0.1:${gateway.address('web').port}`;
  });

  after(async () => {
    await gateway.stop();
    backend.closeAllConnections();
    backend.close();
  });

  test('sets, keeps or replaces the header as configured', async () => {
    const cases = [
      { desc: 'proxied answer', path: '/', expected: 'edge-1' },
      { desc: "overwrite replaces the service's value", path: '/own', expected: 'edge-1' },
      { desc: "overwrite=false keeps the service's value", path: '/keep/own', expected: 'service' },
      { desc: 'overwrite=false sets it when the service did not', path: '/keep/', expected: 'edge-1' },
      { desc: 'an answer the gateway made itself (no server: 503)', path: '/empty', expected: 'edge-1' },
    ];
    for (const { desc, path, expected } of cases) {
      const res = await fetch(base + path);
      await res.arrayBuffer();
      assert.equal(res.headers.get('x-served-by'), expected, desc);
    }
  });

  test('an invalid middleware disables only its router, with the reason', async () => {
    assert.equal(gateway.info.routers['broken@inline']?.status, 'disabled');
    assert.match(gateway.info.routers['broken@inline']?.errors?.join('\n') ?? '', /headerName: Date is set by the gateway itself/);
    assert.equal((await fetch(`${base}/`)).status, 200);
  });
});
