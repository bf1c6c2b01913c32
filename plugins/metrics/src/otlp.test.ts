// metrics.otlp on a real gateway, pushing to a collector written in the test (protobuf over HTTP, and gRPC):
// Traefik's instrument names, units and attributes (pkg/observability/metrics/otel.go and its test), the resource,
// the headers, Prometheus beside it unchanged, and a collector that is down costing clients nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import { eventually, startOtlpReceiver, startServer, type Listening, type OtlpStore } from '@wharf/test-helpers';
import metrics from './index.js';

let ok: Listening;
let failing: Listening;

before(async () => {
  ok = await startServer((_req, res) => res.end('hello'));
  failing = await startServer((_req, res) => {
    res.statusCode = 503;
    res.end('down');
  });
});

after(async () => {
  await ok.close();
  await failing.close();
});

function dynamic() {
  return {
    http: {
      routers: {
        ok: { rule: 'Path(`/ok`)', service: 'ok' },
        bad: { rule: 'Path(`/bad`)', service: 'failing' },
      },
      services: { ok: { loadBalancer: { servers: [{ url: ok.url }] } }, failing: { loadBalancer: { servers: [{ url: failing.url }] } } },
    },
  };
}

async function traffic(gateway: EmbeddedGateway): Promise<void> {
  const web = `http://127.0.0.1:${gateway.address('web').port}`;
  for (let i = 0; i < 3; i++) await (await fetch(`${web}/ok`)).text();
  for (let i = 0; i < 2; i++) await (await fetch(`${web}/bad`)).text();
}

/** Waits for a push that counted all five requests on the entrypoint. */
function allCounted(store: OtlpStore) {
  return eventually(() => {
    const okCount = store.latest('traefik_entrypoint_requests_total', { code: '200', entrypoint: 'web' })?.value;
    const badCount = store.latest('traefik_entrypoint_requests_total', { code: '503', entrypoint: 'web' })?.value;
    return okCount === 3 && badCount === 2;
  }, 'a push counting the 3 + 2 requests');
}

const TRAEFIK_BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

test('metrics.otlp over HTTP: traefik_* instruments with Traefik names, units, attributes and resource, pushed with the headers', async () => {
  const collector = await startOtlpReceiver();
  const gateway = await startGateway({
    plugins: [metrics],
    args: [
      '--entrypoints.web.address=127.0.0.1:0',
      `--metrics.otlp.http.endpoint=${collector.url}`,
      '--metrics.otlp.http.headers.Authorization=Bearer collector-token',
      '--metrics.otlp.pushInterval=100ms',
      '--metrics.otlp.addRoutersLabels=true',
      '--metrics.otlp.serviceName=edge',
      '--metrics.otlp.resourceAttributes.environment=test',
    ],
    dynamic: dynamic(),
  });
  try {
    await traffic(gateway);
    await allCounted(collector);

    const requests = collector.latest('traefik_entrypoint_requests_total', { code: '200' })!;
    assert.deepEqual(requests.attributes, { code: '200', method: 'GET', protocol: 'http', entrypoint: 'web' });
    assert.equal(requests.unit, '1');
    assert.equal(requests.kind, 'sum');
    assert.equal(requests.monotonic, true);
    assert.equal(requests.temporality, 2, 'cumulative, as Traefik');
    assert.equal(requests.description, 'How many HTTP requests processed on an entrypoint, partitioned by status code, protocol, and method.');
    assert.equal(requests.scope, 'github.com/traefik/traefik');

    const duration = collector.latest('traefik_entrypoint_request_duration_seconds', { code: '200' })!;
    assert.equal(duration.kind, 'histogram');
    assert.equal(duration.unit, 's');
    assert.equal(duration.count, 3);
    assert.deepEqual(duration.explicitBounds, TRAEFIK_BOUNDARIES);
    assert.deepEqual(duration.attributes, { code: '200', method: 'GET', protocol: 'http', entrypoint: 'web' });

    const router = collector.latest('traefik_router_requests_total', { code: '503' })!;
    assert.deepEqual(router.attributes, { code: '503', method: 'GET', protocol: 'http', router: 'bad@inline', service: 'failing@inline' });
    assert.equal(router.value, 2);
    assert.equal(collector.latest('traefik_service_requests_total', { code: '200', service: 'ok@inline' })?.value, 3);
    assert.equal(collector.latest('traefik_service_request_duration_seconds', { service: 'failing@inline' })?.count, 2);
    assert.ok((collector.latest('traefik_entrypoint_responses_bytes_total', { code: '200' })?.value ?? 0) >= 3 * 'hello'.length);
    assert.equal(collector.latest('traefik_config_reloads_total')?.value, 1);
    const connections = collector.latest('traefik_open_connections', { entrypoint: 'web' })!;
    assert.equal(connections.kind, 'gauge');
    assert.deepEqual(Object.keys(connections.attributes).sort(), ['entrypoint', 'protocol']);

    // The semantic-convention histograms Traefik records beside its own.
    const served = collector.latest('http.server.request.duration', { 'http.response.status_code': 503 })!;
    assert.equal(served.unit, 's');
    assert.equal(served.count, 2);
    const { 'server.address': address, ...serverAttributes } = served.attributes;
    assert.match(String(address), /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(serverAttributes, {
      'http.request.method': 'GET',
      'url.scheme': 'http',
      'error.type': '503',
      'http.response.status_code': 503,
      'network.protocol.name': 'http/1.1',
      'network.protocol.version': '1.1',
    });
    const upstream = collector.latest('http.client.request.duration', { 'http.response.status_code': 200 })!;
    assert.equal(upstream.count, 3);
    assert.equal(upstream.attributes['server.address'], new URL(ok.url).host);
    assert.equal(upstream.attributes['server.port'], Number(new URL(ok.url).port));
    assert.ok(!('error.type' in upstream.attributes));

    assert.equal(requests.resource['service.name'], 'edge');
    assert.equal(requests.resource.environment, 'test');
    assert.equal(typeof requests.resource['process.pid'], 'number', 'workers of one gateway push apart');
    const push = collector.exports.find((e) => e.signal === 'metrics')!;
    assert.equal(push.headers.authorization, 'Bearer collector-token');
    assert.equal(push.headers['content-type'], 'application/x-protobuf');
  } finally {
    await gateway.stop();
    await collector.close();
  }
});

test('metrics.otlp beside metrics.prometheus: one measurement feeds both; the wharf_* scrape is unchanged', async () => {
  const collector = await startOtlpReceiver();
  const gateway = await startGateway({
    plugins: [metrics],
    args: [
      '--entrypoints.web.address=127.0.0.1:0',
      '--entrypoints.traefik.address=127.0.0.1:0',
      '--metrics.prometheus=true',
      `--metrics.otlp.http.endpoint=${collector.url}/v1/metrics`,
      '--metrics.otlp.pushInterval=100ms',
      '--metrics.otlp.explicitBoundaries=0.5,1',
    ],
    dynamic: dynamic(),
  });
  try {
    await traffic(gateway);
    await allCounted(collector);
    assert.deepEqual(collector.latest('traefik_entrypoint_request_duration_seconds')?.explicitBounds, [0.5, 1]);
    assert.equal(collector.latest('traefik_router_requests_total'), undefined, 'addRoutersLabels defaults to false');
    const text = await eventually(async () => {
      const t = await (await fetch(`http://127.0.0.1:${gateway.address('traefik').port}/metrics`)).text();
      return /wharf_entrypoint_requests_total\{[^}]*code="503"[^}]*\} 2/.test(t) && t;
    }, 'the Prometheus scrape counting the 503s');
    assert.match(text, /wharf_entrypoint_requests_total\{[^}]*code="200"[^}]*\} 3/);
    assert.doesNotMatch(text, /^traefik_/m);
    // The scrape itself is the gateway's own business: not counted on OTLP either.
    assert.equal(collector.latest('traefik_entrypoint_requests_total', { entrypoint: 'traefik' }), undefined);
  } finally {
    await gateway.stop();
    await collector.close();
  }
});

test('metrics.otlp over gRPC: the same instruments, with the headers as metadata', async () => {
  const collector = await startOtlpReceiver({ grpc: true });
  const gateway = await startGateway({
    plugins: [metrics],
    args: [
      '--entrypoints.web.address=127.0.0.1:0',
      `--metrics.otlp.grpc.endpoint=${collector.grpcEndpoint!}`,
      '--metrics.otlp.grpc.insecure=true',
      '--metrics.otlp.grpc.headers.x-api-key=grpc-secret',
      '--metrics.otlp.pushInterval=100ms',
    ],
    dynamic: dynamic(),
  });
  try {
    await traffic(gateway);
    await allCounted(collector);
    assert.equal(collector.latest('traefik_service_requests_total', { code: '503' })?.value, 2);
    assert.equal(collector.exports[0]!.transport, 'grpc');
    assert.equal(collector.exports[0]!.headers['x-api-key'], 'grpc-secret');
  } finally {
    await gateway.stop();
    await collector.close();
  }
});

test('a collector that is down: clients see no error, the outage is logged once, and pushes resume when it answers', async () => {
  const collector = await startOtlpReceiver();
  collector.status = 503;
  const logs: { msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as { msg: string }) });
  const gateway = await startGateway({
    plugins: [metrics],
    log,
    args: ['--entrypoints.web.address=127.0.0.1:0', `--metrics.otlp.http.endpoint=${collector.url}`, '--metrics.otlp.pushInterval=100ms'],
    dynamic: dynamic(),
  });
  try {
    const web = `http://127.0.0.1:${gateway.address('web').port}`;
    for (let i = 0; i < 20; i++) assert.equal((await fetch(`${web}/ok`)).status, 200);
    await eventually(() => logs.some((l) => l.msg.startsWith('metrics.otlp (') && l.msg.includes('cannot export')), 'the outage on the gateway log');
    assert.equal(logs.filter((l) => l.msg.includes('cannot export')).length, 1, 'one report per outage');
    collector.status = 200;
    await eventually(() => collector.latest('traefik_entrypoint_requests_total', { code: '200' })?.value === 20, 'the cumulative count once the collector is back');
    await eventually(() => logs.some((l) => l.msg.includes('exporting again')), 'the recovery on the gateway log');
  } finally {
    await gateway.stop();
    await collector.close();
  }
});

test('bad metrics.otlp options name the field and stop the start-up', async () => {
  for (const [arg, message] of [
    ['--metrics.otlp.http.endpoint=ftp://collector:4318', /metrics\.otlp\.http\.endpoint: the scheme must be http or https; got 'ftp:\/\/collector:4318'/],
    ['--metrics.otlp.grpc.endpoint=collector', /metrics\.otlp\.grpc\.endpoint: expected host:port/],
    ['--metrics.otlp.http.tls.cert=/nonexistent/cert.pem', /metrics\.otlp\.http\.tls\.key: required when tls\.cert is set/],
  ] as const) {
    await assert.rejects(startGateway({ plugins: [metrics], args: ['--entrypoints.web.address=127.0.0.1:0', arg] }), message, arg);
  }
});
