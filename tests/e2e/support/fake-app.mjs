// A signed-in page on the fake admin API (support/fake-admin-api.mjs), for the tests that need
// states the real backend cannot be put in on demand.
import { newPage } from './browser.mjs';
import { startFakeAdmin } from './fake-admin-api.mjs';
import { seeHeading } from './ui-checks.mjs';

/**
 * Start a fake admin API with `opts`, sign a fresh page in (`width` px wide), run
 * `fn(page, fake)`, and tear both down whatever happens.
 */
export async function withFakeApp(browser, opts, fn, { width = 1280, permissions = [] } = {}) {
  const fake = await startFakeAdmin(opts);
  const { context, page } = await newPage(browser, { permissions });
  if (width !== 1280) await page.setViewportSize({ width, height: 860 });
  try {
    await page.goto(fake.loginUrl);
    await seeHeading(page, 'Overview');
    await fn(page, fake);
  } finally {
    await context.close();
    await fake.stop();
  }
}
