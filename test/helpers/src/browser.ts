// Debian's chromium driven by playwright-core, as the dashboard tests use it.
import { chromium, type Browser, type Page } from 'playwright-core';

export interface BrowserPage {
  readonly browser: Browser;
  readonly page: Page;
  /** Script errors and console errors of the page, for a test to assert there were none. */
  readonly pageErrors: string[];
}

/** A headless /usr/bin/chromium with one page (1360×900); `timeoutMs` becomes the page's default timeout. */
export async function openChromiumPage(timeoutMs?: number): Promise<BrowserPage> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  if (timeoutMs !== undefined) page.setDefaultTimeout(timeoutMs);
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
  return { browser, page, pageErrors };
}
