// Issue 2 (walking skeleton) against the real backend: log in through the login URL, visit every
// tab, see the Revenue choices, save a public URL that survives a reload, sign out. Screenshots
// of a fresh install (support/paths.mjs says where they go).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium, newPage } from './support/browser.mjs';
import { startFaurya } from './support/faurya.mjs';
import { shot, uiDist } from './support/paths.mjs';
import { noErrorBanner, seeHeading, settled, visible } from './support/ui-checks.mjs';

const TABS = [
  ['overview', 'Overview'],
  ['revenue', 'Revenue'],
  ['webhooks', 'Webhooks'],
  ['payments', 'Payments'],
  ['settings', 'Settings'],
];

let app;
let browser;
let page;

before(async () => {
  assert.ok(existsSync(path.join(uiDist, 'index.html')), `no built UI in ${uiDist}: run "npm run build" in ui/`);
  app = await startFaurya();
  browser = await launchChromium();
  ({ page } = await newPage(browser));
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

test('the login URL signs in and opens Overview with the first steps', async () => {
  await page.goto(app.loginUrl);
  await seeHeading(page, 'Overview');
  const url = new URL(page.url());
  assert.equal(url.origin, app.adminUrl);
  assert.ok(!url.search.includes('token='), 'the token must not stay in the address bar');
  await settled(page);
  await visible(page.getByRole('heading', { name: 'Get set up' }), 'the onboarding checklist');
  await visible(page.getByText('0 of 4 done'), 'nothing done yet');
  await visible(page.getByRole('link', { name: 'Open Settings' }), 'the first step');
  await visible(page.getByText('No revenue yet'), 'the empty chart');
  await noErrorBanner(page);
  await shot(page, 'overview-empty', { fullPage: true });
});

test('without the session cookie the sign-in screen explains what to do, and the token works', async () => {
  const { context, page: fresh } = await newPage(browser);
  try {
    await fresh.goto(app.adminUrl + '/');
    await visible(fresh.getByRole('heading', { name: 'Sign in to Faurya' }), 'sign-in heading');
    await visible(fresh.getByText('Admin login URL', { exact: false }), 'login URL explanation');
    await fresh.getByLabel('Admin token').fill(app.token);
    await fresh.getByRole('button', { name: 'Sign in' }).click();
    await seeHeading(fresh, 'Overview');
  } finally {
    await context.close();
  }
});

for (const scheme of ['light', 'dark']) {
  test(`every tab shows its heading and no error banner (${scheme})`, async () => {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [id, title] of TABS) {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: title }).click();
      await seeHeading(page, title);
      assert.equal(new URL(page.url()).hash, `#/${id}`);
      await settled(page);
      await noErrorBanner(page);
      const theme = await page.evaluate(() => document.documentElement.dataset.theme);
      assert.equal(theme, scheme);
      // Overview, Webhooks and Payments are photographed with real data by the ingest tests.
      if (id === 'revenue' || id === 'settings')
        await shot(page, `${id}${scheme === 'dark' ? '-dark' : ''}`, { fullPage: true });
    }
  });
}

test('Revenue offers Whop and Paddle and says no provider is connected', async () => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(app.adminUrl + '/#/revenue');
  await seeHeading(page, 'Revenue');
  await visible(page.getByRole('radio', { name: 'Whop', exact: true }), 'Whop choice');
  await visible(page.getByRole('radio', { name: 'Paddle', exact: true }), 'Paddle choice');
  await visible(page.getByText('No provider connected'), '"No provider connected"');
});

test('Settings shows the server and keeps a saved public URL across a reload', async () => {
  await page.goto(app.adminUrl + '/#/settings');
  await seeHeading(page, 'Settings');
  await settled(page);
  const main = page.getByRole('main');
  await visible(main.getByText(app.dataDir, { exact: true }), 'data dir');
  await visible(main.getByText(new URL(app.adminUrl).host, { exact: true }), 'admin listener address');
  await visible(main.getByText(new URL(app.publicUrl).host, { exact: true }), 'public listener address');

  // A fresh install has no tunnel; the manual one takes a URL of your own.
  await visible(page.getByText('no tunnel is chosen', { exact: false }), 'no public URL yet');
  await page.getByRole('radio', { name: 'Manual', exact: true }).check();
  const field = page.getByLabel('Public URL', { exact: true });
  await field.fill('https://hooks.example.com/');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await visible(page.getByRole('status').filter({ hasText: 'Saved' }), 'saved confirmation');
  await noErrorBanner(page);

  await page.reload();
  await seeHeading(page, 'Settings');
  await page.waitForFunction(
    () =>
      (document.querySelector('input[type=url]') instanceof HTMLInputElement
        ? document.querySelector('input[type=url]').value
        : '') !== '',
  );
  assert.equal(await page.getByLabel('Public URL', { exact: true }).inputValue(), 'https://hooks.example.com');

  const res = await fetch(app.adminUrl + '/api/settings', { headers: { Authorization: `Bearer ${app.token}` } });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).public_url, 'https://hooks.example.com');
});

test('an invalid public URL is refused at the field', async () => {
  await page.goto(app.adminUrl + '/#/settings');
  const field = page.getByLabel('Public URL', { exact: true });
  await field.fill('hooks.example.com');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  await noErrorBanner(page);
});

test('a public URL pinned with --public-url is shown read-only and says why', async () => {
  const pinned = await startFaurya({ args: ['--public-url', 'https://pinned.example.com'] });
  const { context, page: p } = await newPage(browser);
  try {
    await p.goto(pinned.loginUrl);
    await seeHeading(p, 'Overview');
    await p.goto(pinned.adminUrl + '/#/settings');
    await visible(p.getByText('Set when the server started'), 'explanation');
    assert.equal(await p.getByTestId('public-url').innerText(), 'https://pinned.example.com');
    // Nothing to edit: no URL field, no tunnel choice, no Save.
    assert.equal(await p.getByLabel('Public URL', { exact: true }).count(), 0);
    assert.equal(await p.getByRole('radio', { name: 'Manual', exact: true }).count(), 0);
    assert.equal(await p.getByRole('button', { name: 'Save', exact: true }).count(), 0);
    await noErrorBanner(p);
  } finally {
    await context.close();
    await pinned.stop();
  }
});

test('Sign out clears the session: the sign-in screen stays after a reload', async () => {
  const { context, page: p } = await newPage(browser);
  try {
    await p.goto(app.loginUrl);
    await seeHeading(p, 'Overview');
    await p.getByRole('button', { name: 'Sign out' }).click();
    await visible(p.getByRole('heading', { name: 'Sign in to Faurya' }), 'the sign-in screen');
    await visible(p.getByText('You are signed out of this browser.'), 'the confirmation');
    assert.equal(
      (await context.cookies()).filter((c) => c.name.startsWith('faurya_admin')).length,
      0,
      'the cookie is gone',
    );
    await shot(p, 'sign-in');
    await p.reload();
    await visible(p.getByRole('heading', { name: 'Sign in to Faurya' }), 'still signed out after a reload');
    assert.equal(await p.evaluate(async () => (await fetch('/api/health')).status), 401);
    // The token signs in again.
    await p.getByLabel('Admin token').fill(app.token);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await seeHeading(p, 'Overview');
  } finally {
    await context.close();
  }
});
