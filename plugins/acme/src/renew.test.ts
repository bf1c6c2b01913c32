// Renewal against pebble issuing 10-minute certificates: with certificatesDuration=1 (hour) Traefik's table renews
// 20 minutes before expiry, so every check renews. New handshakes get the new certificate; an open connection goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls, { type TLSSocket } from 'node:tls';
import { startGateway } from '@wharf/core';
import tlsPlugin from '@wharf/plugin-tls';
import { eventually, freePort } from '@wharf/test-helpers';
import acmePlugin from './index.js';
import { renewDurations, retryDelayMs } from './resolver.js';
import { routers, served, verifiedCertificate, staticConfig, ISSUANCE_MS, pebbleSuite } from './pebble.test.helper.js';


const suite = pebbleSuite('wharf-acme-renew-', { validitySeconds: 600 });
const { ports, dir } = suite;

/** One HTTP/1.1 request on an open TLS connection; resolves with the response text once the body `ok` arrived. */
function ask(socket: TLSSocket, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (text.endsWith('\r\n\r\nok')) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  });
}

test("Traefik's renewal table: how long before expiry, and how often it is checked", () => {
  const hour = 3_600_000;
  const cases = [
    { desc: '1 year', hours: 365 * 24, expected: { renewBeforeMs: 120 * 24 * hour, checkEveryMs: 7 * 24 * hour } },
    { desc: '90 days (default)', hours: 2160, expected: { renewBeforeMs: 30 * 24 * hour, checkEveryMs: 24 * hour } },
    { desc: '30 days', hours: 720, expected: { renewBeforeMs: 10 * 24 * hour, checkEveryMs: 12 * hour } },
    { desc: '7 days', hours: 168, expected: { renewBeforeMs: 2 * 24 * hour, checkEveryMs: 2 * hour } },
    { desc: '1 day', hours: 24, expected: { renewBeforeMs: 6 * hour, checkEveryMs: 10 * 60_000 } },
    { desc: '1 hour', hours: 1, expected: { renewBeforeMs: 20 * 60_000, checkEveryMs: 60_000 } },
  ];
  for (const { desc, hours, expected } of cases) assert.deepEqual(renewDurations(hours), expected, desc);
});

test('a certificate inside its renewal window is renewed; new handshakes get it, an open connection keeps working', async () => {
  const storage = dir.file('acme.json');
  const acme = { email: 'ops@example.test', caServer: suite.pebble.directory, caCertificates: [suite.pebble.apiCAFile], keyType: 'EC256', storage, certificatesDuration: 1, httpChallenge: { entryPoint: 'web' } };
  const dynamic = routers(suite.backend.url, { app: { rule: 'Host(`renew.test`)', tls: { certResolver: 'le' } } });
  const root = await suite.pebble.issuerRoot();
  const gw = await startGateway({ plugins: [tlsPlugin, acmePlugin], config: staticConfig(ports, acme), dynamic });
  let open: TLSSocket | undefined;
  try {
    const first = await verifiedCertificate(ports.websecure, 'renew.test', root, 'the first certificate');
    open = tls.connect({ host: '127.0.0.1', port: ports.websecure, servername: 'renew.test', ca: root });
    assert.match(await ask(open, 'renew.test'), /^HTTP\/1\.1 200/);
    // A reload runs the renewal check at once (the periodic one runs every minute for such short certificates).
    gw.configure(routers(suite.backend.url, { app: { rule: 'Host(`renew.test`)', tls: { certResolver: 'le' } }, other: { rule: 'Host(`plain.test`)', tls: {} } }));
    const renewed = await eventually(async () => {
      const s = await served(ports.websecure, 'renew.test', root);
      return s.authorized && s.serial !== first.serial && s;
    }, 'a renewed certificate', ISSUANCE_MS);
    assert.equal(renewed.subjectaltname, 'DNS:renew.test');
    assert.match(await ask(open, 'renew.test'), /^HTTP\/1\.1 200/, 'the connection opened before the renewal still answers');
    const stored = JSON.parse(readFileSync(storage, 'utf8')) as { le: { Certificates: Array<{ certificate: string }> } };
    assert.equal(stored.le.Certificates.length, 1, 'the renewed certificate replaces the old one in acme.json');
    const storedSerial = new X509Certificate(Buffer.from(stored.le.Certificates[0]!.certificate, 'base64')).serialNumber;
    assert.equal(storedSerial.toUpperCase(), renewed.serial.toUpperCase());
  } finally {
    open?.destroy();
    await gw.stop();
  }
});

test('a failed order is retried after 1 minute, doubling up to 1 hour', () => {
  const minute = 60_000;
  const cases = [
    { failures: 1, expected: minute },
    { failures: 2, expected: 2 * minute },
    { failures: 3, expected: 4 * minute },
    { failures: 6, expected: 32 * minute },
    { failures: 7, expected: 60 * minute },
    { failures: 30, expected: 60 * minute },
  ];
  for (const { failures, expected } of cases) assert.equal(retryDelayMs(failures), expected, `after ${failures} failures`);
});

test('a renewal the CA cannot answer keeps the certificate in use: still served, the error on the router', async () => {
  const storage = dir.file('kept.json');
  const base = { email: 'ops@example.test', caCertificates: [suite.pebble.apiCAFile], keyType: 'EC256', storage, certificatesDuration: 1, httpChallenge: { entryPoint: 'web' } };
  const dynamic = routers(suite.backend.url, { app: { rule: 'Host(`kept.test`)', tls: { certResolver: 'le' } } });
  const root = await suite.pebble.issuerRoot();
  const first = await startGateway({ plugins: [tlsPlugin, acmePlugin], config: staticConfig(ports, { ...base, caServer: suite.pebble.directory }), dynamic });
  let issued;
  try {
    issued = await verifiedCertificate(ports.websecure, 'kept.test', root, 'the first certificate');
  } finally {
    await first.stop();
  }
  // Restarted with a CA nobody answers: the stored certificate is inside its renewal window, so it is renewed at once.
  const down = `https://127.0.0.1:${await freePort()}/dir`;
  const second = await startGateway({ plugins: [tlsPlugin, acmePlugin], config: staticConfig(ports, { ...base, caServer: down }), dynamic });
  try {
    const errors = await eventually(() => second.info.routers['app@inline']!.errors?.join('\n'), 'the failed renewal on the router', ISSUANCE_MS);
    assert.match(errors, /acme resolver le: cannot obtain a certificate for kept\.test: .*ECONNREFUSED.*; retrying in 60s/);
    const kept = await served(ports.websecure, 'kept.test', root);
    assert.equal(kept.authorized, true, 'the certificate in use is still served');
    assert.equal(kept.serial, issued.serial);
  } finally {
    await second.stop();
  }
});
