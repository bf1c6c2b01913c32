// wharf_tls_certs_not_after: the metrics plugin reports the expiry of every certificate the TLS plugin serves.
import { test } from 'node:test';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { startGateway } from 'wharf';

test('the self-signed default certificate shows up in wharf_tls_certs_not_after', async () => {
  const gateway = await startGateway({
    args: [
      '--entrypoints.websecure.address=127.0.0.1:0',
      '--entrypoints.websecure.http.tls=true',
      '--entrypoints.traefik.address=127.0.0.1:0',
      '--metrics.prometheus',
    ],
  });
  try {
    const text = await (await fetch(`http://127.0.0.1:${gateway.address('traefik').port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('wharf_tls_certs_not_after{'));
    assert.ok(line, `no certificate metric in:\n${text.slice(0, 400)}`);
    const expiry = Number(line.slice(line.lastIndexOf(' ') + 1));
    assert.ok(expiry > Date.now() / 1000, `expiry ${expiry} is in the future`);
    assert.match(line, /cn="[^"]+"/);
  } finally {
    await gateway.stop();
  }
});

test('a rate-limited request counts in wharf_middleware_rejections_total under its middleware', async () => {
  const http = await import('node:http');
  const backend = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const port = (backend.address() as AddressInfo).port;
  const gateway = await startGateway({
    args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.traefik.address=127.0.0.1:0', '--metrics.prometheus'],
    dynamic: {
      http: {
        routers: { r: { rule: 'PathPrefix(`/`)', middlewares: ['rl'], service: 's' } },
        middlewares: { rl: { rateLimit: { average: 1, period: '1m', burst: 1, maxDelay: 0 } } },
        services: { s: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${port}` }] } } },
      },
    },
  });
  try {
    const web = `http://127.0.0.1:${gateway.address('web').port}`;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(web)).status);
    assert.deepEqual(statuses, [200, 429, 429]);
    await new Promise((r) => setTimeout(r, 50));
    const text = await (await fetch(`http://127.0.0.1:${gateway.address('traefik').port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('wharf_middleware_rejections_total{') && l.includes('middleware="rl@inline"') && l.includes('code="429"'));
    assert.ok(line, 'rejection sample present');
    assert.equal(Number(line.slice(line.lastIndexOf(' ') + 1)), 2);
  } finally {
    await gateway.stop();
    backend.close();
  }
});
