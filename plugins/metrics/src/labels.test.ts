// Label values from requests as Traefik's metrics middleware computes them (pkg/middlewares/metrics/metrics.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { grpcCodeLabel, headerValue, traefikMethodLabel, traefikProtocolLabel } from './labels.js';

/** The part of a request the label functions read. */
const req = (headers: IncomingHttpHeaders) => ({ headers }) as IncomingMessage;

const protocols: Array<{ headers: IncomingHttpHeaders; expected: string }> = [
  { headers: {}, expected: 'http' },
  { headers: { connection: 'Upgrade', upgrade: 'websocket' }, expected: 'websocket' },
  { headers: { connection: 'keep-alive, Upgrade', upgrade: 'WebSocket' }, expected: 'websocket' },
  { headers: { upgrade: 'websocket' }, expected: 'http' },
  { headers: { accept: 'text/html, text/event-stream' }, expected: 'sse' },
  { headers: { 'content-type': 'application/grpc-web+proto' }, expected: 'grpc-web' },
  { headers: { 'content-type': 'application/grpc' }, expected: 'grpc' },
  { headers: { 'content-type': 'application/json' }, expected: 'http' },
];

for (const { headers, expected } of protocols) {
  test(`protocol ${JSON.stringify(headers)} → ${expected}`, () => assert.equal(traefikProtocolLabel(req(headers)), expected));
}

test('methods: the HTTP verbs and PRI as sent, anything else EXTENSION_METHOD', () => {
  assert.deepEqual(['GET', 'PATCH', 'PRI', 'PROPFIND', 'get', undefined].map(traefikMethodLabel), ['GET', 'PATCH', 'PRI', 'EXTENSION_METHOD', 'EXTENSION_METHOD', 'EXTENSION_METHOD']);
});

test('gRPC code: the trailer, else the header, else 2 (Unknown)', () => {
  const res = (status?: string) => ({ getHeader: (name: string) => (name === 'grpc-status' ? status : undefined) }) as unknown as ServerResponse;
  assert.equal(grpcCodeLabel(res('0'), undefined), '0');
  assert.equal(grpcCodeLabel(res('5'), '14'), '14');
  assert.equal(grpcCodeLabel(res(), undefined), '2');
  assert.equal(grpcCodeLabel(res('banana'), undefined), '2');
  assert.equal(grpcCodeLabel(res('17'), undefined), '2');
});

test('header label values: the first value, empty when absent', () => {
  assert.equal(headerValue(req({ 'x-tenant': 'a' }), 'x-tenant'), 'a');
  assert.equal(headerValue(req({ 'set-cookie': ['a=1', 'b=2'] }), 'set-cookie'), 'a=1');
  assert.equal(headerValue(req({}), 'x-tenant'), '');
});
