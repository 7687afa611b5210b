// Small assertions over the admin UI (playwright-core has no `expect`).
import assert from 'node:assert/strict';

/** Wait until no skeleton placeholder is left on the page. */
export async function settled(page, timeout = 8000) {
  await page.waitForFunction(() => document.querySelectorAll('.skeleton').length === 0, null, { timeout });
}

/** The page title heading (h1) shows `name`. */
export async function seeHeading(page, name) {
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor({ state: 'visible' });
}

/** No error banner (role=alert boxes) is shown. */
export async function noErrorBanner(page) {
  const banners = page.locator('.error-banner');
  const n = await banners.count();
  const texts = n ? await banners.allInnerTexts() : [];
  assert.equal(n, 0, `unexpected error banner(s): ${texts.join(' | ')}`);
}

export async function visible(locator, message) {
  try {
    await locator.first().waitFor({ state: 'visible' });
  } catch (e) {
    throw new Error(`${message ?? 'element'} not visible: ${e.message}`);
  }
}
