// names=traefik on gRPC-Web exchanges: `code` is the grpc-status of the answer (headers, or relayed trailers), 2 when
// there is none, as Traefik counts them; the HTTP status would say 200 for every one of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '@wharf/core';
import { eventually, request, startServer } from '@wharf/test-helpers';
import metrics from './index.js';
import { parseScrape } from './promql.test.helper.js';
import { sampleValue } from './traefik.test.helper.js';

test('gRPC code label from the grpc-status header, the relayed trailer, or 2 (Unknown)', async () => {
  const backend = await startServer((req, res) => {
    res.setHeader('content-type', 'application/grpc-web+proto');
    if (req.url === '/header') res.setHeader('grpc-status', '5');
    if (req.url === '/trailer') {
      res.setHeader('trailer', 'grpc-status');
      res.addTrailers({ 'grpc-status': '7' });
    }
    res.end('x');
  });
  const gateway = await startGateway({
    plugins: [metrics],
    args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.traefik.address=127.0.0.1:0', '--metrics.prometheus.names=traefik'],
    dynamic: { http: { routers: { g: { rule: 'PathPrefix(`/`)', service: 'g' } }, services: { g: { loadBalancer: { servers: [{ url: backend.url }] } } } } },
  });
  try {
    const grpcWeb = { 'content-type': 'application/grpc-web+proto', te: 'trailers' };
    const web = gateway.address('web').port;
    assert.equal((await request(web, { method: 'POST', path: '/header', headers: grpcWeb, body: 'q' })).status, 200);
    const trailer = await request(web, { method: 'POST', path: '/trailer', headers: grpcWeb, body: 'q' });
    assert.equal(trailer.trailers['grpc-status'], '7', 'the trailer reached the client');
    assert.equal((await request(web, { method: 'POST', path: '/none', headers: grpcWeb, body: 'q' })).status, 200);
    const ep = { entrypoint: 'web', protocol: 'grpc-web', method: 'POST' };
    const samples = await eventually(async () => {
      const { samples: s } = parseScrape((await request(gateway.address('traefik').port, { path: '/metrics' })).body);
      return sampleValue(s, 'traefik_entrypoint_requests_total', ep) === 3 && s;
    }, 'the 3 gRPC-Web requests counted');
    assert.equal(sampleValue(samples, 'traefik_entrypoint_requests_total', { ...ep, code: '5' }), 1);
    assert.equal(sampleValue(samples, 'traefik_entrypoint_requests_total', { ...ep, code: '7' }), 1);
    assert.equal(sampleValue(samples, 'traefik_entrypoint_requests_total', { ...ep, code: '2' }), 1);
    assert.equal(sampleValue(samples, 'traefik_entrypoint_requests_total', { ...ep, code: '200' }), 0);
  } finally {
    await gateway.stop();
    await backend.close();
  }
});
