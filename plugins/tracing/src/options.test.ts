// --tracing.* flags → the decoded section, the start-up errors that name a bad option, and the small pure helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeStatic, PluginRegistry, readStaticSources } from '@wharf/core/config';
import { startGateway } from '@wharf/core';
import tracing, { httpTracesURL, safeQuery, statusFor } from './index.js';
import { validateTracing, type TracingConfig } from './options.js';

function sectionFrom(flags: string[]): TracingConfig | undefined {
  return (decodeStatic(readStaticSources(flags, {}), new PluginRegistry().register(tracing)) as { tracing?: TracingConfig }).tracing;
}

test('options: Traefik defaults for a bare --tracing, Wharf’s service name', () => {
  assert.deepEqual(sectionFrom(['--tracing']), {
    serviceName: 'wharf',
    sampleRate: 1,
    addInternals: false,
    resourceAttributes: {},
    globalAttributes: {},
    capturedRequestHeaders: [],
    capturedResponseHeaders: [],
    safeQueryParams: [],
    otlp: { http: { endpoint: 'https://localhost:4318', headers: {} } },
  });
  assert.equal(sectionFrom([]), undefined, 'no section, no tracing');
});

test('options: grpc as a bare flag takes its defaults; lists and maps from flags', () => {
  const config = sectionFrom(['--tracing.otlp.grpc', '--tracing.sampleRate=0.5', '--tracing.capturedRequestHeaders=X-A,X-B', '--tracing.otlp.grpc.headers.x-key=k']);
  assert.deepEqual(config?.otlp.grpc, { endpoint: 'localhost:4317', insecure: false, headers: { 'x-key': 'k' } });
  assert.equal(config?.sampleRate, 0.5);
  assert.deepEqual(config?.capturedRequestHeaders, ['X-A', 'X-B']);
});

const errors: Array<{ desc: string; flags: string[]; message: RegExp }> = [
  { desc: 'sampleRate above 1', flags: ['--tracing.sampleRate=1.5'], message: /tracing\.sampleRate/ },
  { desc: 'an http endpoint without a scheme', flags: ['--tracing.otlp.http.endpoint=collector:4318'], message: /tracing\.otlp\.http\.endpoint/ },
  { desc: 'an unknown field', flags: ['--tracing.sampelRate=1'], message: /sampelRate/ },
];

for (const { desc, flags, message } of errors) {
  test(`options: ${desc} stops start-up, naming the option`, () => {
    assert.throws(() => sectionFrom(flags), message);
  });
}

const invalid: Array<{ desc: string; flags: string[]; message: string }> = [
  {
    desc: 'grpc insecure with tls',
    flags: ['--tracing.otlp.grpc.insecure=true', '--tracing.otlp.grpc.tls.insecureSkipVerify=true'],
    message: 'tracing.otlp.grpc: tls and insecure cannot both be set (insecure sends plain text)',
  },
  { desc: 'a client certificate without its key', flags: ['--tracing.otlp.http.tls.cert=/c.pem'], message: 'tracing.otlp.http.tls: cert and key go together, got only cert' },
  { desc: 'a grpc endpoint with a scheme', flags: ['--tracing.otlp.grpc.endpoint=http://c:4317'], message: 'tracing.otlp.grpc.endpoint: expected host:port, got "http://c:4317"' },
];

for (const { desc, flags, message } of invalid) {
  test(`validate: ${desc}`, () => {
    assert.throws(() => validateTracing(sectionFrom(flags)!), { message });
  });
}

test('validate: the gateway refuses to start with a bad combination, naming it', async () => {
  await assert.rejects(
    startGateway({ plugins: [tracing], args: ['--entrypoints.web.address=127.0.0.1:0', '--tracing.otlp.grpc.insecure=true', '--tracing.otlp.grpc.tls.ca=/ca.pem'] }),
    /tracing\.otlp\.grpc: tls and insecure/,
  );
  await assert.rejects(
    startGateway({ plugins: [tracing], args: ['--entrypoints.web.address=127.0.0.1:0', '--tracing.otlp.http.tls.ca=/nonexistent/ca.pem'] }),
    /tracing\.otlp\.http\.tls\.ca: cannot read "\/nonexistent\/ca\.pem"/,
  );
});

const urls = [
  { endpoint: 'http://c:4318', expected: 'http://c:4318/v1/traces' },
  { endpoint: 'https://c:4318/custom/path', expected: 'https://c:4318/custom/path' },
  { endpoint: 'http://c:4318/', expected: 'http://c:4318/' },
];
for (const { endpoint, expected } of urls) {
  test(`httpTracesURL: ${endpoint}`, () => assert.equal(httpTracesURL(endpoint), expected));
}

const queries = [
  { desc: 'empty', raw: '', safe: [], expected: '' },
  { desc: 'all redacted, sorted by key', raw: 'b=2&a=1', safe: [], expected: 'a=REDACTED&b=REDACTED' },
  { desc: 'safe values kept, repeated keys too', raw: 'page=1&token=x&page=2', safe: ['page'], expected: 'page=1&page=2&token=REDACTED' },
  { desc: 'a repeated unsafe key becomes one REDACTED', raw: 't=1&t=2', safe: [], expected: 't=REDACTED' },
];
for (const { desc, raw, safe, expected } of queries) {
  test(`safeQuery: ${desc}`, () => assert.equal(safeQuery(raw, new Set(safe)), expected));
}

const statuses = [
  { code: 200, role: 'server', expected: 0 },
  { code: 404, role: 'server', expected: 0 },
  { code: 404, role: 'client', expected: 2 },
  { code: 503, role: 'internal', expected: 2 },
  { code: 700, role: 'server', expected: 2 },
] as const;
for (const { code, role, expected } of statuses) {
  test(`statusFor: ${code} on a ${role} span`, () => assert.equal(statusFor(code, role).code, expected));
}
