// Debian's Chromium driven by playwright-core. Never downloads a browser.
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium() {
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
    ],
  });
}

/** A fresh context at a desktop size; `colorScheme` drives the UI's System theme. */
export async function newPage(browser, { colorScheme = 'light', permissions = [] } = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 860 },
    // Amounts and dates are asserted as en-US formats them, whatever the machine's locale.
    locale: 'en-US',
    colorScheme,
    reducedMotion: 'reduce',
    permissions,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  return { context, page };
}
