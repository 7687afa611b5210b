// Screenshots of every page against the fake admin API with sample data (no backend needed):
//   node support/preview.mjs [out-dir]        (default: /tmp/faurya-preview)
// With --serve it only starts the fake API and prints its login URL, for a manual look.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { launchChromium, newPage } from './browser.mjs';
import { startFakeAdmin } from './fake-admin-api.mjs';

const args = process.argv.slice(2);
const serveOnly = args.includes('--serve');
const bare = args.includes('--bare');
const outDir = path.resolve(args.find((a) => !a.startsWith('--')) ?? '/tmp/faurya-preview');

const fake = await startFakeAdmin({ seed: !bare, features: bare ? [] : undefined, port: serveOnly ? 5174 : 0 });
if (serveOnly) {
  console.log(`Fake admin API with sample data: ${fake.loginUrl}`);
  // A visitor now and then, so live visitors and the sessions list move.
  const paths = ['/', '/pricing', '/features/sync', '/blog/why-local-first', '/signup'];
  if (!bare) setInterval(() => fake.pageview(undefined, { path: paths[Math.floor(Math.random() * paths.length)] }), 7000);
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
    if (!bare) {
      const first = fake.state.events.find((e) => e.status === 'processed');
      await page.goto(`${fake.url}/#/webhooks/${first.id}`);
      await page.waitForTimeout(700);
      await page.screenshot({ path: path.join(outDir, `webhooks-detail${scheme === 'dark' ? '-dark' : ''}.png`), fullPage: true });
      const visit = fake.state.sessions.find((x) => x.pageviews > 3 && x.utm_campaign);
      await page.goto(`${fake.url}/#/sessions/${visit.id}`);
      await page.waitForTimeout(700);
      await page.screenshot({ path: path.join(outDir, `sessions-detail${scheme === 'dark' ? '-dark' : ''}.png`), fullPage: true });
    }
    await context.close();
  }
  await browser.close();
  await fake.stop();
  console.log(`Screenshots in ${outDir}`);
}
