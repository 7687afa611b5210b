// A visitor's Chromium that knows more than one founder's site: like `launchForShop()` of
// shop-site.mjs (navigator.webdriver false, a User-Agent without "Headless"), with each of `hosts`
// (and its subdomains) resolving to 127.0.0.1, so one browser visits http://shop.test:PORT/ and
// http://other.test:PORT/ (Chromium takes a single --host-resolver-rules).
import { chromium } from 'playwright-core';
import { CHROMIUM } from './browser.mjs';
import { SHOP_HOST, visitorUserAgent } from './shop-site.mjs';

/** @param {string[]} [hosts] */
export async function launchForSites(hosts = [SHOP_HOST]) {
  const rules = hosts.flatMap((h) => [`MAP ${h} 127.0.0.1`, `MAP *.${h} 127.0.0.1`]).join(', ');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--host-resolver-rules=${rules}`,
      '--disable-blink-features=AutomationControlled',
      `--user-agent=${visitorUserAgent()}`,
    ],
  });
}

/**
 * Waits for the page's next answered event (POST `eventUrl`) and answers its status and JSON. Start
 * it before the navigation that sends the event.
 */
export function nextEventAnswer(page, eventUrl, timeout = 10_000) {
  return page
    .waitForResponse((r) => r.url() === eventUrl && r.request().method() === 'POST', { timeout })
    .then(async (r) => ({ status: r.status(), json: await r.json().catch(() => null) }));
}
