// wharf_tls_certs_not_after: the metrics plugin reports the expiry of every certificate the TLS plugin serves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '@wharf/core';

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
