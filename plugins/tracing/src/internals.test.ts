// What is traced besides routers to load balancers: @internal services and unmatched requests (addInternals), and
// a middleware that throws (the span records the exception and Koa's 500).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { definePlugin, Type, type WharfContext } from '@wharf/core';
import { request, StatusCodes } from '@wharf/test-helpers';
import { named, routes, traced, traceSpans } from './harness.test.helper.js';

const MARKER_TRACE = 'd'.repeat(32);
const MARKER = `00-${MARKER_TRACE}-${'e'.repeat(16)}-01`;
const parentFor = (c: string) => `00-${c.repeat(32)}-${'e'.repeat(16)}-01`;

/** `hello@internal`, an internal service as ping and api are; and a middleware type that throws. */
const fixtures = definePlugin({
  name: 'fixtures',
  schema: Type.Object({}),
  setup(_config, host) {
    host.services.provide('hello', async (ctx: WharfContext) => {
      ctx.body = 'hello';
    });
  },
  create() {
    return async function thrower() {
      throw new Error('boom');
    };
  },
});

const dynamic = routes(
  {
    internal: { rule: 'Path(`/internal`)', service: 'hello@internal' },
    thrower: { rule: 'Path(`/throw`)', service: 'b', middlewares: ['explode'] },
    marker: { rule: 'Path(`/marker`)', service: 'b' },
  },
  { explode: { fixtures: {} } },
);

for (const addInternals of [false, true]) {
  test(`addInternals=${addInternals}: @internal services and unmatched requests ${addInternals ? 'are' : 'are not'} traced`, async () => {
    const t = await traced({ plugins: [fixtures], dynamic, args: [`--tracing.addInternals=${addInternals}`] });
    try {
      assert.equal((await request(t.port, { path: '/internal', headers: { traceparent: parentFor('1') } })).status, 200);
      assert.equal((await request(t.port, { path: '/nowhere', headers: { traceparent: parentFor('2') } })).status, 404);
      assert.equal((await request(t.port, { path: '/marker', headers: { traceparent: MARKER } })).status, 200);
      await traceSpans(t.receiver, MARKER_TRACE, 2);
      const others = t.receiver.spans.filter((s) => s.traceId !== MARKER_TRACE);
      if (!addInternals) return assert.deepEqual(others, []);
      // The internal service has no upstream call: only the server span; the 404 likewise.
      assert.deepEqual(others.map((s) => [s.traceId[0], s.name, s.attributes['http.response.status_code']]).sort(), [['1', 'GET', 200], ['2', 'GET', 404]]);
    } finally {
      await t.close();
    }
  });
}

test('a middleware that throws: the server span records the exception and the 500 Koa answers', async () => {
  const t = await traced({ plugins: [fixtures], dynamic, args: ['--entrypoints.web.observability.traceVerbosity=detailed'] });
  try {
    assert.equal((await request(t.port, { path: '/throw', headers: { traceparent: MARKER } })).status, 500);
    const spans = await traceSpans(t.receiver, MARKER_TRACE, 3);
    for (const name of ['GET', 'fixtures']) {
      const span = named(spans, name);
      assert.deepEqual(span.status, { code: StatusCodes.error, message: 'boom' }, name);
      assert.equal(span.attributes['http.response.status_code'], 500, name);
      assert.equal(span.events[0]?.name, 'exception', name);
    }
    assert.equal(t.upstream.length, 0);
  } finally {
    await t.close();
  }
});
