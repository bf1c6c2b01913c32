// The dashboard's TCP and UDP pages in a real browser (Debian's chromium through playwright-core): routers,
// services and TCP middlewares with status and errors, overview counts, details, and live updates.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { type EmbeddedGateway } from '@wharf/core';
import { startGateway } from 'wharf';
import { openChromiumPage } from '@wharf/test-helpers';

const OUTPUT = fileURLToPath(new URL('../../../test-output/', import.meta.url));
// Bound for waiting on the page; only there so a broken dashboard fails instead of hanging.
const WAIT_MS = 15_000;

describe('dashboard in chromium: TCP and UDP', () => {
  let echo: net.Server;
  let udp: dgram.Socket;
  let gateway: EmbeddedGateway;
  let browser: Browser;
  let page: Page;
  let dashboard: string;
  let echoAddress: string;
  let pageErrors: string[] = [];

  const tcp = () => ({
    routers: {
      echo: { rule: 'HostSNI(`*`)', entryPoints: ['tcp'], middlewares: ['local'], service: 'echo' },
      vault: { rule: 'HostSNI(`vault.test`)', entryPoints: ['tcp'], service: 'echo', tls: { passthrough: true } },
      broken: { rule: 'HostSNI(`db.test`', entryPoints: ['tcp'], service: 'echo' },
    },
    services: { echo: { loadBalancer: { servers: [{ address: echoAddress }] } } },
    middlewares: { local: { ipAllowList: { sourceRange: ['127.0.0.1/32'] } } },
  });
  const udpSection = () => ({
    routers: { dns: { entryPoints: ['dns'], service: 'dns' }, lost: { entryPoints: ['dns'], service: 'nowhere' } },
    services: { dns: { loadBalancer: { servers: [{ address: `127.0.0.1:${udp.address().port}` }] } } },
  });

  before(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    echo = net.createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoAddress = `127.0.0.1:${(echo.address() as net.AddressInfo).port}`;
    udp = dgram.createSocket('udp4');
    udp.on('message', (message, peer) => udp.send(message, peer.port, peer.address));
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    gateway = await startGateway({
      args: ['--entrypoints.tcp.address=127.0.0.1:0', '--entrypoints.dns.address=127.0.0.1:0/udp', '--entrypoints.traefik.address=127.0.0.1:0', '--api.insecure'],
      dynamic: { tcp: tcp(), udp: udpSection() },
    });
    dashboard = `http://127.0.0.1:${gateway.address('traefik').port}/dashboard/`;
    ({ browser, page, pageErrors } = await openChromiumPage(WAIT_MS));
  });

  after(async () => {
    await browser?.close();
    await gateway?.stop();
    echo?.close();
    udp?.close();
  });

  const rowNames = (table: string) => page.locator(`${table} tr[data-element]`).evaluateAll((rows) => rows.map((r) => r.getAttribute('data-element')));

  test('TCP routers: rule, entrypoints, TLS, middlewares, service and status; the broken router with its error', async () => {
    await page.goto(`${dashboard}#/tcp/routers`);
    const row = page.locator('#tcp-routers-table tr[data-element="echo@inline"]');
    await row.waitFor();
    assert.deepEqual(await rowNames('#tcp-routers-table'), ['broken@inline', 'echo@inline', 'vault@inline']);
    assert.equal(await row.locator('td.rule').innerText(), 'HostSNI(`*`)');
    assert.equal(await row.locator('td.entrypoints').innerText(), 'tcp');
    assert.deepEqual(await row.locator('td.middlewares .chip a').allInnerTexts(), ['local@inline']);
    assert.equal(await row.locator('td.service').innerText(), 'echo@inline');
    assert.equal(await row.locator('td.status').innerText(), 'OK');
    assert.equal(await page.locator('#tcp-routers-table tr[data-element="vault@inline"] td.tls').innerText(), 'TLS passthrough');
    assert.equal(await page.locator('#tcp-routers-table tr[data-element="broken@inline"] td.status').innerText(), 'Error');
    assert.match(await page.locator('#tcp-routers-table tr[data-errors-for="broken@inline"]').innerText(), /invalid rule "HostSNI\(`db\.test`"/);
    assert.equal(await page.locator('nav a.active').innerText(), 'TCP');
    await page.screenshot({ path: `${OUTPUT}dashboard-tcp-routers.png`, fullPage: true });
  });

  test('TCP services and middlewares: type, servers up, users', async () => {
    await page.goto(`${dashboard}#/tcp/services`);
    const service = page.locator('#tcp-services-table tr[data-element="echo@inline"]');
    await service.waitFor();
    assert.match(await service.innerText(), /loadbalancer[\s\S]*1\/1 up[\s\S]*echo@inline/);
    assert.deepEqual(await service.locator('a[href="#/tcp/routers/echo%40inline"]').allInnerTexts(), ['echo@inline'], 'the user links to its TCP router');
    await page.locator('[data-tab="tcp/middlewares"]').click();
    const middleware = page.locator('#tcp-middlewares-table tr[data-element="local@inline"]');
    await middleware.waitFor();
    assert.match(await middleware.innerText(), /ipallowlist[\s\S]*echo@inline/);
  });

  test('UDP routers and services: the router without a service shows Error and why', async () => {
    await page.goto(`${dashboard}#/udp/routers`);
    await page.locator('#udp-routers-table tr[data-element="dns@inline"]').waitFor();
    assert.deepEqual(await rowNames('#udp-routers-table'), ['dns@inline', 'lost@inline']);
    assert.equal(await page.locator('#udp-routers-table tr[data-element="dns@inline"] td.entrypoints').innerText(), 'dns');
    assert.equal(await page.locator('#udp-routers-table tr[data-element="lost@inline"] td.status').innerText(), 'Error');
    assert.match(await page.locator('#udp-routers-table tr[data-errors-for="lost@inline"]').innerText(), /service 'nowhere@inline' does not exist/);
    await page.locator('[data-tab="udp/services"]').click();
    await page.locator('#udp-services-table tr[data-element="dns@inline"]').waitFor();
    assert.match(await page.locator('#udp-services-table tr[data-element="dns@inline"]').innerText(), /loadbalancer[\s\S]*dns@inline/);
  });

  test('status filter and search on a TCP list', async () => {
    await page.goto(`${dashboard}#/tcp/routers`);
    await page.locator('#tcp-routers-table').waitFor();
    await page.locator('#status-filter').selectOption('disabled');
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('#tcp-routers-table tr[data-element]').length === 1);
    assert.deepEqual(await rowNames('#tcp-routers-table'), ['broken@inline']);
    await page.locator('#status-filter').selectOption('');
    await page.locator('#search').fill('vault.TEST');
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('#tcp-routers-table tr[data-element]').length === 1);
    assert.deepEqual(await rowNames('#tcp-routers-table'), ['vault@inline']);
    await page.locator('#search').fill('');
  });

  test('the overview counts TCP and UDP errors and lists the broken elements', async () => {
    await page.goto(`${dashboard}#/`);
    await page.locator('[data-card="tcp/routers"].has-errors').waitFor();
    assert.equal(await page.locator('[data-errors="tcp/routers"]').innerText(), '1 error');
    assert.equal(await page.locator('[data-errors="udp/routers"]').innerText(), '1 error');
    assert.equal(await page.locator('[data-card="tcp/services"] .card-total').innerText(), '1');
    const problems = await page.locator('#problems').innerText();
    assert.match(problems, /tcp router[\s\S]*broken@inline[\s\S]*invalid rule/i);
    assert.match(problems, /udp router[\s\S]*lost@inline[\s\S]*does not exist/i);
    await page.screenshot({ path: `${OUTPUT}dashboard-l4-overview.png`, fullPage: true });
  });

  test('details: a TCP router with its chain and errors; a TCP service with its servers', async () => {
    await page.goto(`${dashboard}#/tcp/routers/broken@inline`);
    const broken = page.locator('[data-detail="broken@inline"]');
    await broken.waitFor();
    assert.match(await broken.locator('.panel-problems').innerText(), /Errors \(disabled\)[\s\S]*invalid rule/i);
    await page.goto(`${dashboard}#/tcp/services/echo@inline`);
    await page.locator('[data-detail="echo@inline"]').waitFor();
    assert.match(await page.locator(`#servers-table tr[data-server="${echoAddress}"]`).innerText(), /UP/);
    await page.goto(`${dashboard}#/udp/routers/nope@inline`);
    assert.match(await page.locator('.page').innerText(), /There is no UDP router named nope@inline/);
  });

  test('a configuration change shows up live: a TCP router fixed, a UDP router removed', async () => {
    await page.goto(`${dashboard}#/tcp/routers`);
    await page.locator('#tcp-routers-table tr[data-element="broken@inline"] .pill-disabled').waitFor();
    const before = tcp();
    const fixed = { ...before, routers: { ...before.routers, broken: { rule: 'HostSNI(`db.test`)', entryPoints: ['tcp'], service: 'echo', tls: { passthrough: true } } } };
    const { lost: _lost, ...routers } = udpSection().routers;
    gateway.configure({ tcp: fixed, udp: { ...udpSection(), routers } });
    await page.locator('#tcp-routers-table tr[data-element="broken@inline"] .pill-enabled').waitFor();
    assert.equal(await page.locator('#tcp-routers-table tr[data-errors-for="broken@inline"]').count(), 0);
    await page.goto(`${dashboard}#/udp/routers`);
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('#udp-routers-table tr[data-element]').length === 1);
    assert.deepEqual(await rowNames('#udp-routers-table'), ['dns@inline']);
    await page.screenshot({ path: `${OUTPUT}dashboard-udp-routers.png`, fullPage: true });
    assert.deepEqual(pageErrors, []);
  });
});
