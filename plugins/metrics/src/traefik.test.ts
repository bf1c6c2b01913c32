// --metrics.prometheus.names=traefik on a real gateway: every series of Traefik v3.7's Prometheus exporter with its
// type and exact label names, and the values a known traffic pattern produces.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BODY, UPLOAD_BYTES, sampleValue, startHarness, type Harness } from './traefik.test.helper.js';

let h: Harness;

before(async () => {
  h = await startHarness();
});

after(async () => {
  await h.close();
});

const REQUEST = ['code', 'method', 'protocol'];
const HEADER = ['useragent'];
/** Traefik v3.7, pkg/observability/metrics/prometheus.go: name → type and label names (plus the header label). */
const TRAEFIK_SERIES: Record<string, { type: string; labels: string[] }> = {
  traefik_config_reloads_total: { type: 'counter', labels: [] },
  traefik_config_last_reload_success: { type: 'gauge', labels: [] },
  traefik_tls_certs_not_after: { type: 'gauge', labels: ['cn', 'serial', 'sans'] },
  traefik_open_connections: { type: 'gauge', labels: ['entrypoint', 'protocol'] },
  traefik_entrypoint_requests_total: { type: 'counter', labels: [...REQUEST, 'entrypoint', ...HEADER] },
  traefik_entrypoint_requests_tls_total: { type: 'counter', labels: ['tls_version', 'tls_cipher', 'entrypoint'] },
  traefik_entrypoint_request_duration_seconds: { type: 'histogram', labels: [...REQUEST, 'entrypoint'] },
  traefik_entrypoint_requests_bytes_total: { type: 'counter', labels: [...REQUEST, 'entrypoint'] },
  traefik_entrypoint_responses_bytes_total: { type: 'counter', labels: [...REQUEST, 'entrypoint'] },
  traefik_router_requests_total: { type: 'counter', labels: [...REQUEST, 'router', 'service', ...HEADER] },
  traefik_router_requests_tls_total: { type: 'counter', labels: ['tls_version', 'tls_cipher', 'router', 'service'] },
  traefik_router_request_duration_seconds: { type: 'histogram', labels: [...REQUEST, 'router', 'service'] },
  traefik_router_requests_bytes_total: { type: 'counter', labels: [...REQUEST, 'router', 'service'] },
  traefik_router_responses_bytes_total: { type: 'counter', labels: [...REQUEST, 'router', 'service'] },
  traefik_service_requests_total: { type: 'counter', labels: [...REQUEST, 'service', ...HEADER] },
  traefik_service_requests_tls_total: { type: 'counter', labels: ['tls_version', 'tls_cipher', 'service'] },
  traefik_service_request_duration_seconds: { type: 'histogram', labels: [...REQUEST, 'service'] },
  traefik_service_retries_total: { type: 'counter', labels: ['service'] },
  traefik_service_server_up: { type: 'gauge', labels: ['service', 'url'] },
  traefik_service_requests_bytes_total: { type: 'counter', labels: [...REQUEST, 'service'] },
  traefik_service_responses_bytes_total: { type: 'counter', labels: [...REQUEST, 'service'] },
};

/** The family a sample belongs to: histograms' _bucket/_sum/_count lines are the histogram's. */
function familyOf(name: string, types: Map<string, string>): string {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return types.get(base) === 'histogram' ? base : name;
}

test('every traefik_* series Traefik v3.7 exports is there, with its type and exactly its label names; nothing else', () => {
  const seen = new Set<string>();
  for (const sample of h.samples.filter((s) => s.name.startsWith('traefik_'))) {
    const family = familyOf(sample.name, h.types);
    const expected = TRAEFIK_SERIES[family];
    assert.ok(expected, `${sample.name} is not a Traefik series`);
    const extra = sample.name.endsWith('_bucket') ? ['le'] : [];
    assert.deepEqual(Object.keys(sample.labels).sort(), [...expected.labels, ...extra].sort(), `labels of ${sample.name}`);
    seen.add(family);
  }
  for (const [name, { type }] of Object.entries(TRAEFIK_SERIES)) {
    assert.equal(h.types.get(name), type, `# TYPE of ${name}`);
    assert.ok(seen.has(name), `${name} has samples after the traffic pattern`);
  }
  assert.ok(!/^wharf_/m.test(h.text), 'no wharf_* series with names=traefik');
  assert.ok(/^process_cpu_seconds_total /m.test(h.text), "the process collector's names, unprefixed as Traefik's");
});

test('clients saw the answers the pattern expects', () => {
  assert.deepEqual(h.seen, {
    '/ok': [200, 200, 200],
    '/ok POST': [200],
    '/ok SSE': [200],
    '/missing': [404, 404],
    '/bad': [503, 503],
    '/retry': [200, 200, 200, 200],
    '/limited': [429],
    '/nowhere': [404],
    '/quiet': [404],
    '/ok TLS': [200, 200],
    '/ok h2 POST': [200],
  });
});

test('entrypoint series: codes, methods, protocols, the header label and the histogram buckets', () => {
  const ep = (labels: Record<string, string>) => sampleValue(h.samples, 'traefik_entrypoint_requests_total', { entrypoint: 'web', ...labels });
  assert.equal(ep({ code: '200', method: 'GET', protocol: 'http' }), 7);
  assert.equal(ep({ code: '200', method: 'GET', protocol: 'http', useragent: 'probe/1' }), 3);
  assert.equal(ep({ code: '200', method: 'POST', protocol: 'http' }), 1);
  assert.equal(ep({ code: '200', method: 'GET', protocol: 'sse' }), 1);
  assert.equal(ep({ code: '404' }), 3, 'not the quiet router, as in Traefik');
  assert.equal(ep({ code: '503' }), 2);
  assert.equal(ep({ code: '429' }), 1);
  assert.equal(sampleValue(h.samples, 'traefik_entrypoint_requests_total', { entrypoint: 'websecure', code: '200', method: 'GET' }), 2);
  assert.equal(sampleValue(h.samples, 'traefik_entrypoint_requests_total', { entrypoint: 'websecure', code: '200', method: 'POST' }), 1);
  const les = h.samples.filter((s) => s.name === 'traefik_entrypoint_request_duration_seconds_bucket' && s.labels.entrypoint === 'web' && s.labels.code === '503').map((s) => s.labels.le);
  assert.deepEqual(les, ['0.1', '0.3', '1.2', '5', '+Inf'], "Traefik's default buckets");
  assert.equal(sampleValue(h.samples, 'traefik_entrypoint_request_duration_seconds_count', { entrypoint: 'web', code: '503' }), 2);
});

test('router and service series carry name@provider values; a request a middleware answered never reached its service', () => {
  assert.equal(sampleValue(h.samples, 'traefik_router_requests_total', { router: 'ok@inline', service: 'ok@inline', code: '200' }), 8);
  assert.equal(sampleValue(h.samples, 'traefik_router_requests_total', { router: 'quiet@inline' }), 0, 'observability.metrics=false');
  assert.equal(sampleValue(h.samples, 'traefik_router_requests_total', { router: 'limited@inline', service: 'ok@inline', code: '429' }), 1);
  assert.equal(sampleValue(h.samples, 'traefik_service_requests_total', { service: 'ok@inline', code: '200' }), 8, 'not the 429');
  assert.equal(sampleValue(h.samples, 'traefik_service_requests_total', { service: 'ok@inline', code: '429' }), 0);
  assert.equal(sampleValue(h.samples, 'traefik_service_requests_total', { service: 'missing@inline', code: '404', method: 'GET', protocol: 'http' }), 2, 'not the quiet router\'s');
  assert.equal(sampleValue(h.samples, 'traefik_service_requests_total', { service: 'failing@inline', code: '503' }), 2);
  assert.equal(sampleValue(h.samples, 'traefik_service_requests_total', { service: 'flaky@inline', code: '200' }), 4);
});

test('body bytes each way, over HTTP/1.1 and HTTP/2', () => {
  const post = { service: 'ok@inline', method: 'POST', code: '200', protocol: 'http' };
  assert.equal(sampleValue(h.samples, 'traefik_service_requests_bytes_total', post), 2 * UPLOAD_BYTES);
  assert.equal(sampleValue(h.samples, 'traefik_service_responses_bytes_total', post), 2 * BODY.length);
  assert.equal(sampleValue(h.samples, 'traefik_entrypoint_requests_bytes_total', { entrypoint: 'web', method: 'POST' }), UPLOAD_BYTES);
  assert.equal(sampleValue(h.samples, 'traefik_entrypoint_requests_bytes_total', { entrypoint: 'websecure', method: 'POST' }), UPLOAD_BYTES, 'HTTP/2');
  assert.equal(sampleValue(h.samples, 'traefik_entrypoint_responses_bytes_total', { entrypoint: 'websecure', method: 'POST' }), BODY.length, 'HTTP/2, counted once');
  assert.equal(sampleValue(h.samples, 'traefik_router_requests_bytes_total', { router: 'ok@inline', method: 'GET' }), 0);
  // 3 plain, 1 SSE and 2 TLS GETs of /ok.
  assert.equal(sampleValue(h.samples, 'traefik_router_responses_bytes_total', { router: 'ok@inline', method: 'GET' }), 6 * BODY.length);
});

test('TLS series: the version and IANA cipher name of the handshake, at every level', () => {
  const tls = h.samples.filter((s) => s.name === 'traefik_entrypoint_requests_tls_total');
  assert.equal(tls.length, 1);
  assert.equal(tls[0]!.labels.entrypoint, 'websecure');
  assert.equal(tls[0]!.labels.tls_version, '1.3');
  assert.match(tls[0]!.labels.tls_cipher!, /^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/);
  assert.equal(tls[0]!.value, 3);
  assert.equal(sampleValue(h.samples, 'traefik_router_requests_tls_total', { router: 'ok@inline', service: 'ok@inline', tls_version: '1.3' }), 3);
  assert.equal(sampleValue(h.samples, 'traefik_service_requests_tls_total', { service: 'ok@inline', tls_version: '1.3' }), 3);
});

test('retries, server health, open connections, reloads and certificates', () => {
  assert.ok(sampleValue(h.samples, 'traefik_service_retries_total', { service: 'flaky@inline' }) >= 1, 'the closed port was tried and the request retried');
  assert.equal(sampleValue(h.samples, 'traefik_service_server_up', { service: 'ok@inline', url: h.ok.url }), 1);
  assert.ok(h.samples.some((s) => s.name === 'traefik_open_connections' && s.labels.entrypoint === 'web' && s.labels.protocol === 'TCP'));
  assert.ok(sampleValue(h.samples, 'traefik_open_connections', { entrypoint: 'traefik', protocol: 'TCP' }) >= 1, 'the scrape connection is open');
  assert.equal(sampleValue(h.samples, 'traefik_entrypoint_requests_total', { entrypoint: 'traefik' }), 0, 'scrapes are internal, left out as in Traefik');
  assert.ok(sampleValue(h.samples, 'traefik_config_reloads_total', {}) >= 1);
  const lastReload = sampleValue(h.samples, 'traefik_config_last_reload_success', {});
  assert.ok(Number.isInteger(lastReload) && lastReload > 1.7e9, 'Unix seconds, as Traefik sets them');
  const cert = h.samples.find((s) => s.name === 'traefik_tls_certs_not_after');
  assert.ok(cert && cert.value * 1000 > Date.now(), 'the default certificate, valid');
  assert.match(cert.labels.sans!, /wharf\.default/);
});
