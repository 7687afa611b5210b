// Screenshots of every page against the fake admin API with sample data (no backend needed):
//   node support/preview.mjs [out-dir]        (default: /tmp/faurya-preview)
// Attribution too: the Overview's "Where revenue comes from" (one model, and the three compared),
// a payment's journey and a visitor's page, at 1280 and 900 px.
// Issue 12 and 14 states too: the "disk full" banner, Settings → Backup, and the Webhooks page
// waiting for a connected provider's first delivery (disk-full*.png, backup*.png, webhooks-waiting*.png).
// With --serve it only starts the fake API and prints its login URL, for a manual look
// (--disk-full: with the store refusing writes; POST /__fake/store?writable=true ends it).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { launchChromium, newPage } from './browser.mjs';
import { DISK_FULL, startFakeAdmin } from './fake-admin-api.mjs';

const args = process.argv.slice(2);
const serveOnly = args.includes('--serve');
const bare = args.includes('--bare');
const diskFull = args.includes('--disk-full');
const outDir = path.resolve(args.find((a) => !a.startsWith('--')) ?? '/tmp/faurya-preview');

const fake = await startFakeAdmin({
  seed: !bare,
  features: bare ? [] : undefined,
  port: serveOnly ? 5174 : 0,
  store: serveOnly && diskFull ? DISK_FULL : undefined,
});
if (serveOnly) {
  console.log(`Fake admin API with sample data: ${fake.loginUrl}`);
  // A visitor now and then, so live visitors and the sessions list move.
  const paths = ['/', '/pricing', '/features/sync', '/blog/why-local-first', '/signup'];
  if (!bare)
    setInterval(() => fake.pageview(undefined, { path: paths[Math.floor(Math.random() * paths.length)] }), 7000);
} else {
  await mkdir(outDir, { recursive: true });
  const browser = await launchChromium();
  for (const scheme of ['light', 'dark']) {
    const { context, page } = await newPage(browser, { colorScheme: scheme });
    await page.goto(fake.loginUrl);
    for (const tab of ['overview', 'sessions', 'revenue', 'webhooks', 'payments', 'tracking', 'settings']) {
      await page.goto(`${fake.url}/#/${tab}`);
      await page.waitForTimeout(700);
      const name = `${tab}${scheme === 'dark' ? '-dark' : ''}.png`;
      await page.screenshot({ path: path.join(outDir, name), fullPage: true });
    }
    if (!bare) await attributionShots(page, scheme);
    if (!bare) await storeShots(page, scheme);
    if (!bare) {
      const first = fake.state.events.find((e) => e.status === 'processed');
      await page.goto(`${fake.url}/#/webhooks/${first.id}`);
      await page.waitForTimeout(700);
      await page.screenshot({
        path: path.join(outDir, `webhooks-detail${scheme === 'dark' ? '-dark' : ''}.png`),
        fullPage: true,
      });
      const visit = fake.state.sessions.find((x) => x.pageviews > 3 && x.utm_campaign);
      await page.goto(`${fake.url}/#/sessions/${visit.id}`);
      await page.waitForTimeout(700);
      await page.screenshot({
        path: path.join(outDir, `sessions-detail${scheme === 'dark' ? '-dark' : ''}.png`),
        fullPage: true,
      });
    }
    await context.close();
  }
  if (!bare) await waitingShots(browser);
  await browser.close();
  await fake.stop();
  console.log(`Screenshots in ${outDir}`);
}

/** A section with a margin around it, as it sits on the page. */
async function sectionShot(page, locator, file, pad = 16) {
  await locator.scrollIntoViewIfNeeded();
  await page.mouse.move(1, 1);
  const box = await locator.boundingBox();
  const view = page.viewportSize();
  const scrollY = await page.evaluate(() => window.scrollY);
  const x = Math.max(0, box.x - pad);
  const y = Math.max(0, box.y + scrollY - pad);
  await page.screenshot({
    path: file,
    fullPage: true,
    clip: { x, y, width: Math.min(view.width - x, box.width + 2 * pad), height: box.height + 2 * pad },
  });
}

async function attributionShots(page, scheme) {
  const dark = scheme === 'dark' ? '-dark' : '';
  // The buyer who came back and upgraded (two payments), and a journey through three channels.
  const returning = fake.state.payments.find((p) => p.amount_minor === 14900 && p.attribution_status === 'verified');
  const journey = fake.state.payments.find((p) => p.amount_minor === 24900) ?? fake.state.payments[0];
  for (const width of [1280, 900]) {
    const narrow = width === 900 ? '-900' : '';
    await page.setViewportSize({ width, height: 860 });
    await page.goto(`${fake.url}/#/overview`);
    const section = page.locator('section.attribution');
    await section.locator('tbody tr').first().waitFor();
    const compare = page.getByRole('switch', { name: 'Compare models' });
    await compare.uncheck();
    await page.waitForTimeout(400);
    await sectionShot(page, section, path.join(outDir, `attribution${narrow}${dark}.png`));
    await compare.check();
    await page.waitForTimeout(500);
    await sectionShot(page, section, path.join(outDir, `attribution-compare${narrow}${dark}.png`));
    await compare.uncheck();
    // Tall enough for the whole journey, down to the payment it ends in.
    await page.setViewportSize({ width, height: 1080 });
    await page.goto(`${fake.url}/#/payments/${journey.id}`);
    await page.getByRole('heading', { name: 'Journey' }).waitFor();
    await page.waitForTimeout(400);
    await page.mouse.move(1, 1);
    await page.screenshot({ path: path.join(outDir, `journey${narrow}${dark}.png`) });
    await page.setViewportSize({ width, height: 860 });
    await page.goto(`${fake.url}/#/visitors/${returning?.visitor_id ?? journey.visitor_id}`);
    await page.getByRole('heading', { name: 'Visits and payments' }).waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(outDir, `visitor${narrow}${dark}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 860 });
}

/** Issue 12: the banner while the disk is full, and Settings → Backup. */
async function storeShots(page, scheme) {
  const dark = scheme === 'dark' ? '-dark' : '';
  await page.setViewportSize({ width: 1280, height: 860 });
  fake.setStore(DISK_FULL);
  await page.goto(`${fake.url}/#/overview`);
  await page.reload();
  await page.getByTestId('store-banner').waitFor();
  await page.waitForTimeout(700);
  await page.mouse.move(1, 1);
  await page.screenshot({ path: path.join(outDir, `disk-full${dark}.png`) });
  await page.setViewportSize({ width: 760, height: 860 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(outDir, `disk-full-760${dark}.png`) });
  await page.setViewportSize({ width: 1280, height: 860 });
  fake.setStore({ writable: true });
  await page.getByTestId('store-banner').waitFor({ state: 'detached' });
  await page.goto(`${fake.url}/#/settings`);
  const backup = page.getByTestId('backup-section');
  await backup.getByRole('link', { name: 'Download backup' }).waitFor();
  await page.waitForTimeout(300);
  await sectionShot(page, backup, path.join(outDir, `backup${dark}.png`));
}

/** Issue 14: Whop and Paddle connected, nothing delivered yet. */
async function waitingShots(browser) {
  const empty = await startFakeAdmin({ seed: false });
  try {
    empty.state.settings.public_url = 'https://quiet-river.trycloudflare.com';
    empty.state.settings.public_url_source = 'tunnel';
    empty.connect('whop');
    empty.connect('paddle', { environment: 'sandbox' });
    for (const scheme of ['light', 'dark']) {
      const { context, page } = await newPage(browser, { colorScheme: scheme });
      await page.goto(empty.loginUrl);
      await page.goto(`${empty.url}/#/webhooks`);
      await page.getByText('Waiting for the first delivery from', { exact: false }).first().waitFor();
      await page.waitForTimeout(500);
      await page.mouse.move(1, 1);
      await page.screenshot({ path: path.join(outDir, `webhooks-waiting${scheme === 'dark' ? '-dark' : ''}.png`) });
      await context.close();
    }
  } finally {
    await empty.stop();
  }
}
