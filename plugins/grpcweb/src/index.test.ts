// grpcWeb: options decoded and checked like Traefik's (labels and file, named errors), and the middleware refused
// at build time with the reason (HTTP/2 upstreams, issue #18): its routers are disabled, the others keep serving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import { get, startBackend, type Backend } from '@wharf/test-helpers';
import grpcWeb, { NEEDS_HTTP2, schema } from './index.js';

describe('grpcWeb options', () => {
  const cases: Array<{ desc: string; labels?: Record<string, string>; file?: unknown; expected?: unknown; issues?: string[] }> = [
    { desc: 'labels: the wildcard', labels: { allowOrigins: '*' }, expected: { allowOrigins: ['*'] } },
    { desc: 'labels: a comma-separated list, key case-insensitive', labels: { alloworigins: 'https://app.example, http://localhost:3000' }, expected: { allowOrigins: ['https://app.example', 'http://localhost:3000'] } },
    { desc: 'file: a list', file: { allowOrigins: ['https://a.example', 'https://[::1]:8443'] }, expected: { allowOrigins: ['https://a.example', 'https://[::1]:8443'] } },
    { desc: 'no options (Traefik\'s default: no origin allowed)', labels: {}, expected: {} },
    { desc: 'unknown option named', labels: { allowOrigin: '*' }, issues: ["allowOrigin: unknown field 'allowOrigin' (did you mean 'allowOrigins'?)"] },
    { desc: 'file: a single string is a one-entry list', file: { allowOrigins: '*' }, expected: { allowOrigins: ['*'] } },
    { desc: 'file: a map where a list is expected', file: { allowOrigins: { a: 'https://a.example' } }, issues: ['allowOrigins.a: expected a list index such as [0]'] },
  ];
  for (const { desc, labels, file, expected, issues } of cases) {
    test(desc, () => {
      const result = decode(schema, labels ? flatToTree(Object.entries(labels)) : file);
      assert.deepEqual(result.issues.map((i) => `${i.source}: ${i.message}`), issues ?? []);
      if (expected) assert.deepEqual(result.value, expected);
    });
  }

  const invalid: Array<{ desc: string; origins: string[]; error: string }> = [
    { desc: 'a trailing slash, which browsers never send', origins: ['https://app.example/'], error: "allowOrigins: 'https://app.example/' is not * nor an origin such as https://app.example or http://localhost:3000 (drop the trailing slash: browsers send none)" },
    { desc: 'a bare host', origins: ['*', 'app.example'], error: "allowOrigins: 'app.example' is not * nor an origin such as https://app.example or http://localhost:3000" },
    { desc: 'a pattern', origins: ['https://*.example'], error: "allowOrigins: 'https://*.example' is not * nor an origin such as https://app.example or http://localhost:3000" },
    { desc: 'a path', origins: ['https://app.example/grpc'], error: "allowOrigins: 'https://app.example/grpc' is not * nor an origin such as https://app.example or http://localhost:3000" },
  ];
  for (const { desc, origins, error } of invalid) {
    test(`validate refuses ${desc}`, () => {
      assert.throws(() => grpcWeb.validate!({ allowOrigins: origins }), { message: error });
    });
  }

  test('validate accepts *, origins with ports and none at all', () => {
    grpcWeb.validate!({ allowOrigins: ['*', 'https://app.example', 'http://localhost:3000', 'http://127.0.0.1:8080'] });
    grpcWeb.validate!({});
  });
});

describe('grpcWeb in a gateway', () => {
  let backend: Backend;
  let gateway: EmbeddedGateway;

  before(async () => {
    backend = await startBackend('b');
    gateway = await startGateway({
      plugins: [grpcWeb],
      args: ['--entrypoints.web.address=127.0.0.1:0'],
      dynamic: {
        http: {
          routers: {
            grpc: { rule: 'PathPrefix(`/grpc`)', middlewares: ['web'], service: 'b' },
            typo: { rule: 'PathPrefix(`/typo`)', middlewares: ['typo'], service: 'b' },
            plain: { rule: 'PathPrefix(`/plain`)', service: 'b' },
          },
          middlewares: {
            web: { grpcWeb: { allowOrigins: ['*'] } },
            typo: { grpcWeb: { allowOrigins: ['https://app.example/'] } },
          },
          services: { b: { loadBalancer: { servers: [{ url: backend.url }] } } },
        },
      },
    });
  });

  after(async () => {
    await gateway.stop();
    await backend.close();
  });

  test('refused at build time naming HTTP/2 upstreams and issue #18; its router is disabled, not half-served', async () => {
    const info = gateway.info.middlewares['web@inline'];
    assert.equal(info?.status, 'disabled');
    assert.deepEqual(info?.errors, [NEEDS_HTTP2]);
    assert.match(NEEDS_HTTP2, /HTTP\/2.*issue #18/);
    assert.equal(gateway.info.routers['grpc@inline']?.status, 'disabled');
    assert.equal((await get(gateway.address('web').port, '/grpc/svc.Echo/Say')).status, 404);
    assert.equal(backend.requests.length, 0, 'nothing reached the service');
  });

  test('a bad origin is reported before the HTTP/2 reason, so Traefik labels are checked', () => {
    assert.match(String(gateway.info.middlewares['typo@inline']?.errors), /allowOrigins: 'https:\/\/app\.example\/' is not \* nor an origin/);
  });

  test('routers without it keep serving', async () => {
    assert.equal((await get(gateway.address('web').port, '/plain/x')).status, 200);
  });
});
