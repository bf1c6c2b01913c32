// The dashboard's Certificates page in a real browser (Debian's chromium through playwright-core) against a real
// CA (pebble): opened before the order finishes, it shows the resolver, then the issued certificate and the order
// pebble refused, naming the domain, without reloading the page.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { startGateway, type EmbeddedGateway } from '@wharf/core';
import apiPlugin from '@wharf/plugin-api';
import tlsPlugin from '@wharf/plugin-tls';
import { freePort, openChromiumPage, startServer, tempDir } from '@wharf/test-helpers';
import acmePlugin from './index.js';
import { BLOCKED_DOMAIN, ISSUANCE_MS, routers, startPebble, staticConfig, type Pebble } from './pebble.test.helper.js';

let pebble: Pebble;
let backend: { url: string; close(): Promise<void> };
let gateway: EmbeddedGateway;
let browser: Browser;
let page: Page;
let dashboard: string;
let pageErrors: string[] = [];
const dir = tempDir('wharf-acme-dashboard-');
// Beside the end-to-end dashboard screenshots (test/e2e/dashboard.test.ts).
const OUTPUT = fileURLToPath(new URL('../../../test-output/', import.meta.url));

before(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  const ports = { web: await freePort(), websecure: await freePort() };
  const apiPort = await freePort();
  pebble = await startPebble({ httpPort: ports.web, tlsPort: ports.websecure });
  backend = await startServer((_req, res) => res.end('from the backend'));
  const config = staticConfig(ports, {
    email: 'ops@example.test',
    caServer: pebble.directory,
    caCertificates: [pebble.apiCAFile],
    keyType: 'EC256',
    storage: dir.file('acme.json'),
    httpChallenge: { entryPoint: 'web' },
  }) as { entryPoints: Record<string, unknown> } & Record<string, unknown>;
  config.entryPoints.traefik = { address: `127.0.0.1:${apiPort}` };
  config.api = { insecure: true, dashboard: true };
  gateway = await startGateway({
    plugins: [apiPlugin, tlsPlugin, acmePlugin],
    config,
    dynamic: routers(backend.url, {
      shop: { rule: 'Host(`shop.test`) || Host(`www.shop.test`)', tls: { certResolver: 'le' } },
      blocked: { rule: `Host(\`${BLOCKED_DOMAIN}\`)`, tls: { certResolver: 'le' } },
    }),
  });
  dashboard = `http://127.0.0.1:${apiPort}/dashboard/`;
  ({ browser, page, pageErrors } = await openChromiumPage());
});

after(async () => {
  await browser?.close();
  await gateway?.stop();
  await backend?.close();
  await pebble?.stop();
  dir.remove();
});

test('the Certificates page, reached from the navigation, shows the resolver, its issued certificate and the refused order naming the domain', async () => {
  await page.goto(dashboard);
  await page.locator('nav a[data-nav="certificates"]').click();
  const resolver = page.locator('section[data-resolver="le"]');
  await resolver.waitFor();
  assert.equal(await page.locator('nav a.active').innerText(), 'Certificates');
  assert.equal(await resolver.locator('dd code').first().innerText(), pebble.directory);
  assert.equal(await resolver.locator('dd .chip').innerText(), 'http-01');

  // The page polls while shown: the certificate and the error appear once the orders are done.
  const certificate = resolver.locator('tr[data-certificate="shop.test"]');
  await certificate.waitFor({ timeout: ISSUANCE_MS });
  assert.equal(await certificate.locator('td').nth(1).innerText(), 'www.shop.test');
  assert.match(await certificate.locator('.expiry').innerText(), /^\d{4}-\d{2}-\d{2} in \d+ days$/);
  const error = resolver.locator('.errors li');
  await error.first().waitFor({ timeout: ISSUANCE_MS });
  assert.match(await error.first().innerText(), new RegExp(`^acme resolver le: cannot obtain a certificate for ${BLOCKED_DOMAIN.replace('.', '\\.')}: `));
  assert.equal(await resolver.locator('h2 .pill').textContent(), 'Warning');
  assert.deepEqual(pageErrors, []);
  await page.screenshot({ path: `${OUTPUT}dashboard-certificates.png`, fullPage: true });
});
