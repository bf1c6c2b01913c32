// Spans end to end: a client's trace context through Wharf into an instrumented upstream, the spans exported over
// OTLP/HTTP (protobuf, gzip) and decoded by a test receiver; attributes, verbosity, opt-outs, rejections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import basicAuth from '@wharf/plugin-basicauth';
import rateLimit from '@wharf/plugin-ratelimit';
import { request, SpanKinds, StatusCodes } from '@wharf/test-helpers';
import { named, parseTraceparent, routes, traced, traceSpans } from './harness.test.helper.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CLIENT_SPAN}-01`;

test('minimal: the client’s trace continues through the entrypoint and ReverseProxy spans into the upstream', async () => {
  const t = await traced({
    args: [
      '--tracing.capturedRequestHeaders=X-Tenant',
      '--tracing.capturedResponseHeaders=X-Backend',
      '--tracing.safeQueryParams=page',
      '--tracing.resourceAttributes.team=edge',
      '--tracing.otlp.http.headers.Authorization=Bearer t0k3n',
    ],
  });
  try {
    const reply = await request(t.port, {
      path: '/api/items?page=2&token=secret',
      headers: { traceparent: TRACEPARENT, tracestate: 'vendor=abc', baggage: 'user=alice', 'x-tenant': 'acme', 'user-agent': 'tracing-test/1' },
    });
    assert.equal(reply.status, 200);
    const spans = await traceSpans(t.receiver, TRACE_ID, 2);
    assert.deepEqual(spans.map((s) => s.name).sort(), ['GET', 'ReverseProxy']);
    const entry = named(spans, 'GET');
    const proxy = named(spans, 'ReverseProxy');
    assert.equal(entry.kind, SpanKinds.server);
    assert.equal(entry.parentSpanId, CLIENT_SPAN, 'the entrypoint span is a child of the client’s');
    assert.equal(entry.traceState, 'vendor=abc');
    assert.equal(proxy.kind, SpanKinds.client);
    assert.equal(proxy.parentSpanId, entry.spanId);

    // The upstream sees the same trace, as a child of the ReverseProxy span, with tracestate and baggage.
    const sent = t.upstream[0]!;
    assert.deepEqual(parseTraceparent(sent.traceparent), { traceId: TRACE_ID, spanId: proxy.spanId, flags: '01' });
    assert.equal(sent.tracestate, 'vendor=abc');
    assert.equal(sent.baggage, 'user=alice');

    const port = t.gateway.address('web').port;
    assert.deepEqual(
      { ...entry.attributes, 'client.port': typeof entry.attributes['client.port'], 'network.peer.port': typeof entry.attributes['network.peer.port'] },
      {
        'http.request.method': 'GET',
        'network.protocol.version': '1.1',
        'http.request.body.size': 0,
        'url.path': '/api/items',
        'url.query': 'page=2&token=REDACTED',
        'url.scheme': 'http',
        'user_agent.original': 'tracing-test/1',
        'server.address': `127.0.0.1:${port}`,
        'client.address': '127.0.0.1',
        'client.port': 'number',
        'network.peer.address': '127.0.0.1',
        'network.peer.port': 'number',
        'http.request.header.x-tenant': ['acme'],
        entry_point: 'web',
        'http.response.status_code': 200,
        'http.response.header.x-backend': ['b1'],
      },
    );
    assert.deepEqual(proxy.attributes, {
      'traefik.service.name': 'b@inline',
      'http.request.method': 'GET',
      'network.protocol.version': '1.1',
      'url.full': `${t.backend.url}/api/items?page=2&token=REDACTED`,
      'url.scheme': 'http',
      'user_agent.original': 'tracing-test/1',
      'network.peer.address': '127.0.0.1',
      'network.peer.port': t.backend.port,
      'server.address': '127.0.0.1',
      'server.port': t.backend.port,
      'http.request.header.x-tenant': ['acme'],
      'http.response.status_code': 200,
      'http.response.header.x-backend': ['b1'],
    });
    assert.equal(entry.status.code, StatusCodes.unset);
    assert.equal(entry.resource['service.name'], 'wharf');
    assert.equal(entry.resource.team, 'edge');
    assert.equal(typeof entry.resource['service.version'], 'string');
    assert.equal(t.receiver.paths[0], '/v1/traces', 'an endpoint without a path exports to /v1/traces');
    assert.equal(t.receiver.requests[0]!.authorization, 'Bearer t0k3n');
    assert.equal(t.receiver.requests[0]!['content-encoding'], 'gzip');
  } finally {
    await t.close();
  }
});

test('a request without trace context starts a trace; the upstream joins it', async () => {
  const t = await traced();
  try {
    assert.equal((await request(t.port, { path: '/' })).status, 200);
    const sent = parseTraceparent(t.upstream[0]!.traceparent);
    const spans = await traceSpans(t.receiver, sent.traceId, 2);
    assert.equal(named(spans, 'GET').parentSpanId, '', 'a root span');
    assert.equal(named(spans, 'ReverseProxy').spanId, sent.spanId);
  } finally {
    await t.close();
  }
});

function sha(password: string): string {
  return `{SHA}${createHash('sha1').update(password).digest('base64')}`;
}

test('detailed: Router, one span per middleware and Service; a 429 and a 401 fail their middleware’s span', async () => {
  const t = await traced({
    plugins: [rateLimit, basicAuth],
    args: ['--entrypoints.web.observability.traceVerbosity=detailed'],
    dynamic: routes(
      { r: { rule: 'PathPrefix(`/`)', service: 'b', middlewares: ['limit', 'auth'] } },
      { limit: { rateLimit: { average: 1, period: '1m', burst: 1 } }, auth: { basicAuth: { users: [`alice:${sha('pw')}`] } } },
    ),
  });
  try {
    const denied = await request(t.port, { path: '/a', headers: { traceparent: `00-${'1'.repeat(32)}-${CLIENT_SPAN}-01` } });
    assert.equal(denied.status, 401);
    const limited = await request(t.port, { path: '/a', headers: { traceparent: `00-${'2'.repeat(32)}-${CLIENT_SPAN}-01` } });
    assert.equal(limited.status, 429);

    const authSpans = await traceSpans(t.receiver, '1'.repeat(32), 4);
    assert.deepEqual(authSpans.map((s) => s.name).sort(), ['BasicAuth', 'GET', 'RateLimiter', 'Router'], 'named as Traefik names them');
    const entry = named(authSpans, 'GET');
    const router = named(authSpans, 'Router');
    const limit = named(authSpans, 'RateLimiter');
    const auth = named(authSpans, 'BasicAuth');
    assert.equal(router.parentSpanId, entry.spanId);
    assert.equal(limit.parentSpanId, router.spanId);
    assert.equal(auth.parentSpanId, limit.spanId, 'middlewares nest in chain order');
    assert.deepEqual(router.attributes, { 'traefik.service.name': 'b@inline', 'traefik.router.name': 'r@inline', 'http.route': 'PathPrefix(`/`)' });
    assert.equal(limit.attributes['traefik.middleware.name'], 'limit@inline');
    assert.equal(limit.status.code, StatusCodes.unset, 'the limiter let the first request through');
    assert.deepEqual(auth.status, { code: StatusCodes.error, message: 'BasicAuth answered 401' });
    assert.deepEqual(auth.events, [{ name: 'rejected', attributes: { 'http.response.status_code': 401, 'traefik.middleware.name': 'auth@inline' } }]);
    assert.equal(entry.attributes['http.response.status_code'], 401);
    assert.equal(entry.status.code, StatusCodes.unset, 'a 4xx is no error on a server span');

    const limitSpans = await traceSpans(t.receiver, '2'.repeat(32), 3);
    assert.deepEqual(limitSpans.map((s) => s.name).sort(), ['GET', 'RateLimiter', 'Router']);
    assert.deepEqual(named(limitSpans, 'RateLimiter').status, { code: StatusCodes.error, message: 'RateLimiter answered 429' });
    assert.equal(t.upstream.length, 0, 'neither request reached the upstream');
  } finally {
    await t.close();
  }
});

test('detailed on an authorised request: Service wraps ReverseProxy, the upstream is a child of ReverseProxy', async () => {
  const t = await traced({ dynamic: routes({ r: { rule: 'PathPrefix(`/`)', service: 'b', observability: { traceVerbosity: 'detailed' } } }) });
  try {
    assert.equal((await request(t.port, { path: '/', headers: { traceparent: TRACEPARENT } })).status, 200);
    const spans = await traceSpans(t.receiver, TRACE_ID, 4);
    const service = named(spans, 'Service');
    assert.equal(service.parentSpanId, named(spans, 'Router').spanId);
    assert.equal(named(spans, 'ReverseProxy').parentSpanId, service.spanId);
    assert.equal(parseTraceparent(t.upstream[0]!.traceparent).spanId, named(spans, 'ReverseProxy').spanId);
  } finally {
    await t.close();
  }
});

test('observability.tracing=false on a router or an entrypoint: no spans, the client’s traceparent goes upstream as sent', async () => {
  const t = await traced({
    args: ['--entrypoints.quiet.address=127.0.0.1:0', '--entrypoints.quiet.observability.tracing=false'],
    dynamic: routes({
      off: { rule: 'Path(`/off`)', service: 'b', entryPoints: ['web'], observability: { tracing: false } },
      on: { rule: 'Path(`/on`)', service: 'b', entryPoints: ['web', 'quiet'] },
    }),
  });
  try {
    const quietPort = t.gateway.address('quiet').port;
    for (const [port, path, id] of [[t.port, '/off', 'a'], [quietPort, '/on', 'b']] as const) {
      assert.equal((await request(port, { path, headers: { traceparent: `00-${id.repeat(32)}-${CLIENT_SPAN}-01` } })).status, 200);
    }
    // The marker request is exported after the others ended: once it is there, they would be too.
    assert.equal((await request(t.port, { path: '/on', headers: { traceparent: TRACEPARENT } })).status, 200);
    await traceSpans(t.receiver, TRACE_ID, 2);
    assert.deepEqual(t.receiver.spans.filter((s) => s.traceId !== TRACE_ID), []);
    assert.equal(t.upstream[0]!.traceparent, `00-${'a'.repeat(32)}-${CLIENT_SPAN}-01`);
    assert.equal(t.upstream[1]!.traceparent, `00-${'b'.repeat(32)}-${CLIENT_SPAN}-01`);
  } finally {
    await t.close();
  }
});

test('an unsampled client trace is followed: no spans, the upstream gets the trace with the sampled flag off', async () => {
  const t = await traced();
  try {
    assert.equal((await request(t.port, { path: '/', headers: { traceparent: `00-${'c'.repeat(32)}-${CLIENT_SPAN}-00` } })).status, 200);
    const sent = parseTraceparent(t.upstream[0]!.traceparent);
    assert.equal(sent.traceId, 'c'.repeat(32));
    assert.equal(sent.flags, '00');
    assert.notEqual(sent.spanId, CLIENT_SPAN, 'Wharf’s own (unrecorded) span is the parent');
    assert.equal((await request(t.port, { path: '/', headers: { traceparent: TRACEPARENT } })).status, 200);
    await traceSpans(t.receiver, TRACE_ID, 2);
    assert.deepEqual(t.receiver.spans.filter((s) => s.traceId !== TRACE_ID), []);
  } finally {
    await t.close();
  }
});

test('a 502 from a dead upstream fails the server and client spans', async () => {
  const t = await traced({ dynamic: { http: { routers: { r: { rule: 'PathPrefix(`/`)', service: 'dead' } }, services: { dead: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:1' }] } } } } } });
  try {
    assert.equal((await request(t.port, { path: '/', headers: { traceparent: TRACEPARENT } })).status, 502);
    const spans = await traceSpans(t.receiver, TRACE_ID, 2);
    assert.equal(named(spans, 'GET').status.code, StatusCodes.error);
    assert.equal(named(spans, 'GET').attributes['http.response.status_code'], 502);
    assert.equal(named(spans, 'ReverseProxy').status.code, StatusCodes.error);
    assert.equal(named(spans, 'ReverseProxy').attributes['http.response.status_code'], 502);
  } finally {
    await t.close();
  }
});

test('resource: serviceName, globalAttributes when resourceAttributes is empty, OTEL_RESOURCE_ATTRIBUTES over both', async () => {
  process.env.OTEL_RESOURCE_ATTRIBUTES = 'team=platform,region=eu-1';
  const t = await traced({ args: ['--tracing.serviceName=edge', '--tracing.globalAttributes.team=edge', '--tracing.globalAttributes.tier=front'] }).finally(() => {
    delete process.env.OTEL_RESOURCE_ATTRIBUTES;
  });
  try {
    assert.equal((await request(t.port, { path: '/', headers: { traceparent: TRACEPARENT } })).status, 200);
    const { resource } = named(await traceSpans(t.receiver, TRACE_ID, 2), 'GET');
    assert.deepEqual(
      { name: resource['service.name'], team: resource.team, tier: resource.tier, region: resource.region },
      { name: 'edge', team: 'platform', tier: 'front', region: 'eu-1' },
    );
  } finally {
    await t.close();
  }
});
