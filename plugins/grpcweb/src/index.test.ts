// grpcWeb: options decoded and checked like Traefik's (labels and file, named errors); a bad origin disables only the
// routers using that middleware; requests that are not gRPC-Web pass through untouched.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { decode, flatToTree } from '@wharf/core/config';
import { get, startBackend, type Backend } from '@wharf/test-helpers';
import grpcWeb, { schema } from './index.js';

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

  test('built and serving; a request that is not gRPC-Web reaches the service as it was sent', async () => {
    assert.equal(gateway.info.middlewares['web@inline']?.status, 'enabled');
    const reply = await get(gateway.address('web').port, '/grpc/page', 'localhost', { 'content-type': 'text/plain', origin: 'https://app.example' });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['access-control-allow-origin'], undefined);
    assert.equal(backend.requests.at(-1)?.headers['content-type'], 'text/plain');
  });

  test('a bad origin disables the middleware and its routers, naming the option', async () => {
    assert.equal(gateway.info.middlewares['typo@inline']?.status, 'disabled');
    assert.match(String(gateway.info.middlewares['typo@inline']?.errors), /allowOrigins: 'https:\/\/app\.example\/' is not \* nor an origin/);
    assert.equal(gateway.info.routers['typo@inline']?.status, 'disabled');
    assert.equal((await get(gateway.address('web').port, '/typo/x')).status, 404);
  });

  test('routers without it keep serving', async () => {
    assert.equal((await get(gateway.address('web').port, '/plain/x')).status, 200);
  });
});
