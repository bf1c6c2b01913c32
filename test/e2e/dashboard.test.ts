// The dashboard in a real browser (Debian's chromium through playwright-core): it shows the routers, follows
// configuration changes live (a broken router appears with its error), graphs traffic, and is screenshotted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { type EmbeddedGateway } from '@wharf/core';
import { startGateway } from 'wharf';
import { openChromiumPage, request, startBackend, type Backend } from '@wharf/test-helpers';

const OUTPUT = fileURLToPath(new URL('../../../test-output/', import.meta.url));
// Bound for waiting on the page; only there so a broken dashboard fails instead of hanging.
const WAIT_MS = 15_000;

describe('dashboard in chromium', () => {
  let shop: Backend;
  let blog: Backend;
  let gateway: EmbeddedGateway;
  let browser: Browser;
  let page: Page;
  let dashboard: string;
  let web: number;
  let stopTraffic = false;
  let traffic: Promise<void> | undefined;
  let pageErrors: string[] = [];

  const services = () => ({
    shop: { loadBalancer: { servers: [{ url: shop.url }] } },
    blog: { loadBalancer: { servers: [{ url: blog.url }, { url: 'http://127.0.0.1:9' }] } },
  });
  const middlewares = {
    strip: { stripPrefix: { prefixes: ['/shop'] } },
    secure: { headers: { customResponseHeaders: { 'X-Frame-Options': 'DENY' } } },
    // Issue #16's middlewares: the dashboard shows their type and options, secrets redacted.
    guard: { basicAuth: { users: ['test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/'], realm: 'staff' } },
    sso: { forwardAuth: { address: 'http://127.0.0.1:9/verify', authResponseHeaders: ['X-Forwarded-User'] } },
    digest: { digestAuth: { users: ['test:traefik:a2688e031edb4be6a3797f3882655c05'] } },
    office: { ipAllowList: { sourceRange: ['10.0.0.0/8'], ipStrategy: { depth: 1 } } },
    few: { inFlightReq: { amount: 10 } },
    cert: { passTLSClientCert: { pem: true, info: { subject: { commonName: true } } } },
    cors: { headers: { accessControlAllowOriginList: ['https://app.example'], accessControlAllowMethods: ['GET', 'POST'] } },
  };
  const routers: Record<string, unknown> = {
    shop: { rule: 'Host(`shop.test`) && PathPrefix(`/shop`)', entryPoints: ['web'], middlewares: ['secure', 'strip'], service: 'shop' },
    blog: { rule: 'Host(`blog.test`)', entryPoints: ['web'], service: 'blog' },
  };

  /** Waits until the number shown by `selector` is above zero (the function runs in the page). */
  const positive = (selector: string) =>
    page.waitForFunction((sel) => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document;
      return Number(doc.querySelector(sel)?.textContent ?? '0') > 0;
    }, selector);

  /** Waits until a chart draws at least `n` per-second samples. */
  const samples = (selector: string, n: number) =>
    page.waitForFunction(([sel, min]) => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { dataset: Record<string, string | undefined> } | null } }).document;
      return Number(doc.querySelector(sel)?.dataset.samples ?? '0') >= min;
    }, [selector, n] as const);

  /** Keeps a trickle of requests going so the graphs have something to draw. */
  async function sendTraffic(): Promise<void> {
    let i = 0;
    while (!stopTraffic) {
      const host = i % 3 === 0 ? 'blog.test' : 'shop.test';
      await request(web, { path: i % 7 === 0 ? '/shop/missing' : '/shop/item', headers: { host } });
      await new Promise((r) => setTimeout(r, 40));
      i++;
    }
  }

  before(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    shop = await startBackend('shop');
    blog = await startBackend('blog', (req, res) => {
      res.writeHead(req.url?.includes('missing') ? 404 : 200, { 'content-type': 'text/plain' });
      res.end('blog\n');
    });
    gateway = await startGateway({
      args: ['--entrypoints.web.address=127.0.0.1:0', '--entrypoints.traefik.address=127.0.0.1:0', '--api.insecure', '--ping'],
      dynamic: { http: { routers, services: services(), middlewares } },
    });
    web = gateway.address('web').port;
    dashboard = `http://127.0.0.1:${gateway.address('traefik').port}/dashboard/`;
    ({ browser, page, pageErrors } = await openChromiumPage(WAIT_MS));
    traffic = sendTraffic();
  });

  after(async () => {
    stopTraffic = true;
    await traffic;
    await browser?.close();
    await gateway?.stop();
    await Promise.all([shop?.close(), blog?.close()]);
  });

  test('the routers table lists every router with rule, entrypoints, middlewares in order and service', async () => {
    await page.goto(`${dashboard}#/routers`);
    const row = page.locator('#routers-table tr[data-router="shop@inline"]');
    await row.waitFor();
    assert.equal(await row.locator('td.rule').innerText(), 'Host(`shop.test`) && PathPrefix(`/shop`)');
    assert.equal(await row.locator('td.entrypoints').innerText(), 'web');
    assert.deepEqual(await row.locator('td.middlewares .chip .order').allInnerTexts(), ['1', '2']);
    assert.deepEqual(await row.locator('td.middlewares .chip a').allInnerTexts(), ['secure@inline', 'strip@inline']);
    assert.equal(await row.locator('td.service').innerText(), 'shop@inline');
    assert.equal(await row.locator('td.status').innerText(), 'OK');
    assert.deepEqual(await page.locator('#routers-table tr[data-router]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-router'))), ['blog@inline', 'shop@inline']);
    await page.locator('.live.on').waitFor();
  });

  test('a configuration change shows up without reloading the page: new router, broken router with its error', async () => {
    // Set in the page now; still there afterwards only if the page was updated in place, not reloaded.
    const marker = await page.evaluate('window.wharfTestMarker = Math.random()');
    gateway.configure({
      http: {
        routers: {
          ...routers,
          admin: { rule: 'Host(`admin.test`)', entryPoints: ['websecure'], service: 'shop', tls: {} },
          checkout: { rule: 'Host(`shop.test`) && PathPrefix(`/checkout`', entryPoints: ['web'], service: 'shop' },
          legacy: { rule: 'PathPrefix(`/legacy`)', entryPoints: ['web'], middlewares: ['auth'], service: 'blog' },
        },
        services: services(),
        middlewares,
      },
    });
    const broken = page.locator('#routers-table tr[data-router="checkout@inline"]');
    await broken.waitFor();
    assert.equal(await broken.locator('td.status').innerText(), 'Error');
    const errors = page.locator('#routers-table tr[data-errors-for="checkout@inline"]');
    assert.match(await errors.innerText(), /invalid rule "Host\(`shop\.test`\) && PathPrefix\(`\/checkout`"/);
    assert.match(await page.locator('#routers-table tr[data-errors-for="legacy@inline"]').innerText(), /middleware 'auth@inline' does not exist/);
    await page.locator('#routers-table tr[data-router="admin@inline"]').waitFor();
    assert.equal(await page.evaluate('window.wharfTestMarker'), marker, 'the page was updated in place, not reloaded');
  });

  test('the overview counts errors and names the broken elements; the traffic graph moves', async () => {
    await page.goto(`${dashboard}#/`);
    await page.locator('[data-card="routers"].has-errors').waitFor();
    assert.equal(await page.locator('[data-errors="routers"]').innerText(), '3 errors');
    assert.match(await page.locator('#problems').innerText(), /checkout@inline[\s\S]*invalid rule/);
    assert.deepEqual(await page.locator('#entrypoints-table tr[data-entrypoint]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-entrypoint'))), ['traefik', 'web']);
    // A traffic sample arrives every second; wait for one that shows the requests sent meanwhile.
    await positive('[data-rate="*"]');
    await page.locator('canvas[data-spark]').first().waitFor();
  });

  test('service detail: servers with health, load-balancer type; health changes show up live', async () => {
    await page.goto(`${dashboard}#/services/blog@inline`);
    await page.locator('[data-detail="blog@inline"]').waitFor();
    assert.match(await page.locator('.facts').first().innerText(), /Load balancer/);
    const dead = page.locator('#servers-table tr[data-server="http://127.0.0.1:9"]');
    assert.match(await dead.innerText(), /UP/);
    gateway.health.set('blog@inline', 'http://127.0.0.1:9', false, 'connection refused');
    await dead.locator('.pill-disabled').waitFor();
    assert.match(await dead.innerText(), /DOWN/);
    await page.screenshot({ path: `${OUTPUT}dashboard-service.png`, fullPage: true });
  });

  test('middleware detail: type and options', async () => {
    await page.goto(`${dashboard}#/middlewares/secure@inline`);
    await page.locator('[data-detail="secure@inline"]').waitFor();
    const text = await page.locator('[data-detail="secure@inline"]').innerText();
    assert.match(text, /headers/);
    assert.match(text, /customResponseHeaders\.X-Frame-Options\s+DENY/);
  });

  test('middleware detail of the auth middlewares: type and options, the htpasswd lines redacted as Traefik does (xxxx)', async () => {
    await page.goto(`${dashboard}#/middlewares/guard@inline`);
    const guard = page.locator('[data-detail="guard@inline"]');
    await guard.waitFor();
    const text = await guard.innerText();
    assert.match(text, /basicAuth/);
    assert.match(text, /realm\s+staff/);
    assert.match(text, /users\s+xxxx/);
    assert.doesNotMatch(text, /\$apr1\$/);
    await page.goto(`${dashboard}#/middlewares/sso@inline`);
    const sso = page.locator('[data-detail="sso@inline"]');
    await sso.waitFor();
    assert.match(await sso.innerText(), /forwardAuth[\s\S]*address\s+http:\/\/127\.0\.0\.1:9\/verify/);
  });

  test('the middlewares table shows each of issue #16\'s middlewares by type, and their options in the detail', async () => {
    await page.goto(`${dashboard}#/middlewares`);
    const expected = { guard: 'basicauth', digest: 'digestauth', sso: 'forwardauth', office: 'ipallowlist', few: 'inflightreq', cert: 'passtlsclientcert', cors: 'headers' };
    for (const [name, type] of Object.entries(expected)) {
      const row = page.locator(`#middlewares-table tr[data-middleware="${name}@inline"]`);
      await row.waitFor();
      assert.equal(await row.locator('td').nth(2).innerText(), type, name);
      assert.equal(await row.locator('td.status').innerText(), 'OK', name);
    }
    const detail = async (name: string) => {
      await page.goto(`${dashboard}#/middlewares/${name}@inline`);
      const panel = page.locator(`[data-detail="${name}@inline"]`);
      await panel.waitFor();
      return panel.innerText();
    };
    assert.match(await detail('digest'), /digestAuth[\s\S]*users\s+xxxx/);
    assert.match(await detail('office'), /ipAllowList[\s\S]*sourceRange\s+10\.0\.0\.0\/8[\s\S]*ipStrategy\.depth\s+1/);
    assert.match(await detail('few'), /inFlightReq[\s\S]*amount\s+10/);
    assert.match(await detail('cert'), /passTLSClientCert[\s\S]*info\.subject\.commonName\s+true/);
    assert.match(await detail('cors'), /headers[\s\S]*accessControlAllowOriginList\s+https:\/\/app\.example/);
  });

  test('router detail graphs its traffic by status class', async () => {
    await page.goto(`${dashboard}#/routers/shop@inline`);
    await page.locator('[data-detail="shop@inline"] canvas[data-chart="shop@inline"]').waitFor();
    await positive('[data-total="shop@inline|requests"]');
    assert.match(await page.locator('[data-detail="shop@inline"] .chain').innerText(), /web[\s\S]*secure@inline[\s\S]*strip@inline[\s\S]*shop@inline/);
  });

  test('screenshots, once the graphs hold ten seconds of traffic', async () => {
    await page.goto(`${dashboard}#/routers/blog@inline`);
    await samples('canvas[data-chart="blog@inline"]', 10);
    await page.screenshot({ path: `${OUTPUT}dashboard-router.png`, fullPage: true });
    await page.goto(`${dashboard}#/`);
    await samples('canvas[data-chart="*"]', 10);
    await page.screenshot({ path: `${OUTPUT}dashboard-overview.png`, fullPage: true });
    await page.goto(`${dashboard}#/routers`);
    await page.locator('#routers-table tr[data-router="checkout@inline"]').waitFor();
    await positive('[data-rate="shop@inline"]');
    await page.screenshot({ path: `${OUTPUT}dashboard.png`, fullPage: true });
    assert.deepEqual(pageErrors, [], 'no script errors on the page');
  });
});
