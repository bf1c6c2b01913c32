// The create-context's references (context.middleware, context.service): qualification in the referencing
// middleware's provider, across providers, cycles and missing references reported per element and per router.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import compose from 'koa-compose';
import { echo, eventually, request, startBackend, tempDir, type Backend, type TempDir } from '@wharf/test-helpers';
import { definePlugin, type PluginContext } from '../plugin/contract.js';
import { StringList, Type } from '../config/schema.js';
import { startGateway, type EmbeddedGateway } from '../embed.js';
import type { Middleware } from '../context.js';

/** A middleware made of others, as the chain plugin is. */
const group = definePlugin({
  name: 'group',
  schema: Type.Object({ members: StringList() }, { additionalProperties: false }),
  create({ members }, context) {
    const resolved = members.map((m) => context.middleware(m));
    return compose(resolved) as unknown as Middleware;
  },
});

/** Appends its value to the request's X-Tags header. */
const tag = definePlugin({
  name: 'tag',
  schema: Type.Object({ value: Type.String() }, { additionalProperties: false }),
  create({ value }) {
    return async function tag(ctx, next) {
      const seen = ctx.req.headers['x-tags'];
      ctx.req.headers['x-tags'] = seen === undefined ? value : `${String(seen)},${value}`;
      await next();
    };
  },
});

/** Sends every request to another service, under /page. */
const page = definePlugin({
  name: 'page',
  schema: Type.Object({ service: Type.String() }, { additionalProperties: false }),
  create({ service }, context) {
    const handler = context.service(service);
    return async function page(ctx, next) {
      ctx.req.url = '/page';
      await handler(ctx, next);
    };
  },
});

/** Keeps its context to call a reference after create returned. */
const kept: PluginContext[] = [];
const late = definePlugin({
  name: 'late',
  schema: Type.Object({}),
  create(_options, context) {
    kept.push(context);
    return (_ctx, next) => next();
  },
});

describe('create-context references', () => {
  let main: Backend;
  let other: Backend;
  let dir: TempDir;
  let gateway: EmbeddedGateway;
  let port: number;

  before(async () => {
    main = await startBackend('main', echo('main'));
    other = await startBackend('other', echo('other'));
    dir = tempDir('wharf-build-refs-');
    dir.write(
      'dynamic.yml',
      [
        'http:',
        '  middlewares:',
        '    shared-tag: { tag: { value: from-file } }',
        '    local-tag: { tag: { value: file-local } }',
        '    file-group: { group: { members: [local-tag] } }',
        '  services:',
        `    pages: { loadBalancer: { servers: [{ url: "${other.url}" }] } }`,
      ].join('\n'),
    );
    gateway = await startGateway({
      plugins: [group, tag, page, late],
      args: ['--entrypoints.web.address=127.0.0.1:0', `--providers.file.filename=${dir.file('dynamic.yml')}`, '--providers.providersThrottleDuration=50ms'],
      dynamic: {
        http: {
          routers: {
            cross: { rule: 'Path(`/cross`)', middlewares: ['cross'], service: 'main' },
            nested: { rule: 'Path(`/nested`)', middlewares: ['nested'], service: 'main' },
            'file-group': { rule: 'Path(`/file-group`)', middlewares: ['file-group@file'], service: 'main' },
            loop: { rule: 'Path(`/loop`)', middlewares: ['loop-a'], service: 'main' },
            self: { rule: 'Path(`/self`)', middlewares: ['self'], service: 'main' },
            missing: { rule: 'Path(`/missing`)', middlewares: ['missing'], service: 'main' },
            page: { rule: 'Path(`/page`)', middlewares: ['to-pages'], service: 'main' },
            'no-page': { rule: 'Path(`/no-page`)', middlewares: ['to-nowhere'], service: 'main' },
            late: { rule: 'Path(`/late`)', middlewares: ['late'], service: 'main' },
          },
          middlewares: {
            'inline-tag': { tag: { value: inlineValue } },
            cross: { group: { members: ['inline-tag', 'shared-tag@file'] } },
            nested: { group: { members: ['cross', 'inline-tag'] } },
            'loop-a': { group: { members: ['loop-b'] } },
            'loop-b': { group: { members: ['inline-tag', 'loop-a'] } },
            self: { group: { members: ['self'] } },
            missing: { group: { members: ['inline-tag', 'shared-tag'] } },
            'to-pages': { page: { service: 'pages@file' } },
            'to-nowhere': { page: { service: 'pages' } },
            late: { late: {} },
          },
          services: { main: { loadBalancer: { servers: [{ url: main.url }] } } },
        },
      },
    });
    port = gateway.address('web').port;
    await eventually(() => gateway.info.routers['cross@inline']?.status === 'enabled', 'the file provider configuration applied');
  });

  after(async () => {
    await gateway.stop();
    await main.close();
    await other.close();
    dir.remove();
  });

  async function tagsAt(path: string): Promise<unknown> {
    const reply = await request(port, { path });
    assert.equal(reply.status, 200, reply.body);
    return (JSON.parse(reply.body) as { headers: Record<string, unknown> }).headers['x-tags'];
  }

  test('a name without provider resolves in the referencing middleware’s provider; name@provider as written', async () => {
    assert.equal(await tagsAt('/cross'), `${inlineValue},from-file`);
    assert.equal(await tagsAt('/file-group'), 'file-local');
  });

  test('a middleware made of one made of others runs them all in order', async () => {
    assert.equal(await tagsAt('/nested'), `${inlineValue},from-file,${inlineValue}`);
  });

  test('referenced middlewares list who uses them', () => {
    assert.deepEqual(gateway.info.middlewares['shared-tag@file']!.usedBy, ['cross@inline']);
    assert.deepEqual(gateway.info.middlewares['local-tag@file']!.usedBy, ['file-group@file']);
    assert.deepEqual(gateway.info.middlewares['cross@inline']!.usedBy.sort(), ['cross@inline', 'nested@inline']);
  });

  test('a cycle disables the middlewares in it and their routers, naming its path; others keep serving', async () => {
    const router = gateway.info.routers['loop@inline']!;
    assert.equal(router.status, 'disabled');
    assert.match(router.errors!.join('\n'), /middleware cycle: loop-a@inline → loop-b@inline → loop-a@inline/);
    assert.equal(gateway.info.middlewares['loop-a@inline']!.status, 'disabled');
    assert.equal(gateway.info.middlewares['loop-b@inline']!.status, 'disabled');
    const self = gateway.info.routers['self@inline']!;
    assert.equal(self.status, 'disabled');
    assert.match(self.errors!.join('\n'), /middleware cycle: self@inline → self@inline/);
    assert.equal((await request(port, { path: '/loop' })).status, 404);
    assert.equal(gateway.info.middlewares['inline-tag@inline']!.status, 'enabled');
    assert.equal(await tagsAt('/cross'), `${inlineValue},from-file`);
  });

  test('a missing reference is an error of the referencing middleware and its routers', () => {
    const router = gateway.info.routers['missing@inline']!;
    assert.equal(router.status, 'disabled');
    assert.match(router.errors!.join('\n'), /middleware 'missing@inline' is disabled: middleware 'shared-tag@inline' does not exist/);
    assert.match(gateway.info.middlewares['missing@inline']!.errors!.join('\n'), /middleware 'shared-tag@inline' does not exist/);
  });

  test('a service reference gets the service’s handler; a missing one disables the middleware', async () => {
    const reply = await request(port, { path: '/page' });
    assert.equal(reply.status, 200);
    assert.match(reply.body, /"name":"other"/);
    assert.match(reply.body, /"url":"\/page"/);
    assert.ok(gateway.info.services['pages@file']!.usedBy.includes('to-pages@inline'));
    const router = gateway.info.routers['no-page@inline']!;
    assert.equal(router.status, 'disabled');
    assert.match(router.errors!.join('\n'), /service 'pages@inline' does not exist/);
  });

  test('references are only for create: a call afterwards throws, naming the middleware', () => {
    const context = kept.at(-1)!;
    assert.throws(() => context.middleware('inline-tag'), /late@inline: middleware\(\) can only be called from create/);
    assert.throws(() => context.service('main'), /late@inline: service\(\) can only be called from create/);
  });
});

const inlineValue = 'inline';
