// servers[].preservePath (Traefik 3): the path of the server URL goes in front of the request path, joined with one
// slash as Go's JoinURLPath does; without it the server URL's path is ignored, as in Traefik.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from './gateway.js';
import { startBackend, get, json, type Backend, type EchoBody } from '@wharf/test-helpers';

describe('servers[].preservePath', () => {
  let backend: Backend;
  let gw: TestGateway;

  before(async () => {
    backend = await startBackend('paths');
    const service = (url: string, preservePath?: boolean) => ({ loadBalancer: { servers: [{ url, ...(preservePath === undefined ? {} : { preservePath }) }] } });
    gw = await startTestGateway({
      http: {
        routers: {
          slash: { rule: 'Host(`slash.test`)', service: 'slash' },
          bare: { rule: 'Host(`bare.test`)', service: 'bare' },
          off: { rule: 'Host(`off.test`)', service: 'off' },
        },
        services: { slash: service(`${backend.url}/base/`, true), bare: service(`${backend.url}/base`, true), off: service(`${backend.url}/base`) },
      },
    });
  });

  after(async () => {
    await gw?.stop();
    await backend?.close();
  });

  const cases = [
    { desc: 'server path ending in a slash', host: 'slash.test', path: '/items/7?sort=asc', expected: '/base/items/7?sort=asc' },
    { desc: 'server path without a slash', host: 'bare.test', path: '/items', expected: '/base/items' },
    { desc: 'the root request path', host: 'bare.test', path: '/', expected: '/base/' },
    { desc: 'encoded characters kept', host: 'bare.test', path: '/a%2Fb', expected: '/base/a%2Fb' },
    { desc: 'without preservePath the server path is ignored', host: 'off.test', path: '/items', expected: '/items' },
  ];
  for (const { desc, host, path, expected } of cases) {
    test(desc, async () => {
      const reply = await get(gw.port, path, host);
      assert.equal(reply.status, 200);
      assert.equal(json<EchoBody>(reply).url, expected);
    });
  }
});
