// Issue 14, "First run": what a founder stumbles on in the first ten minutes, against the fake
// admin API (support/fake-admin-api.mjs), which can be put in each state on demand:
//   1. a manual URL is "saved, not verified" until "Test delivery path" passes; 127.0.0.1 is
//      flagged and never shown as up; a raw "connection refused" chain becomes a sentence
//   2. the app-wide alarm (banner + sidebar dot) while the tunnel is down or a webhook could not
//      follow the URL, next to the disk-full banner; the header pill no longer says "Live"
//   3. the connect card without a public URL: Connect waits (the reason said once), a quick tunnel
//      starts from the card, the typed key survives a trip to Settings, show/hide on the key;
//      keyboard only: a refused key focuses the alert and marks the field, a good one focuses the
//      new card with "Set up checkout" open
//   4. cloudflared missing: the install commands for the browser's system first, copy buttons,
//      "Check again"
//   5. "Set up checkout attribution" on the checklist with "N of M payments attributed", the
//      checkout snippets for Next.js, Node/Express, Python and curl
//   6. at 900 px: the sidebar is a rail, Payments fits without sideways scrolling (money in one
//      cell), a row's detail opens as a drawer on screen, for Payments, Webhooks and Sessions
//   7. a bad sign-in link on the styled sign-in card; focus back on a dialog's trigger
//   8. the date filter of Payments and Webhooks: `from`/`to` to the API, kept in the URL
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium, newPage } from './support/browser.mjs';
import { DISK_FULL, startFakeAdmin } from './support/fake-admin-api.mjs';
import { withFakeApp } from './support/fake-app.mjs';
import { shot, shotOf, uiDist } from './support/paths.mjs';
import { noErrorBanner, seeHeading, settled, visible } from './support/ui-checks.mjs';

const MAC_UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

let browser;
before(async () => {
  assert.ok(existsSync(path.join(uiDist, 'index.html')), `no built UI in ${uiDist}: run "npm run build" in ui/`);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** Run `fn` with a fake admin API and a signed-in page (`width` px wide). */
const withApp = (opts, fn, { width = 1280 } = {}) =>
  withFakeApp(browser, opts, fn, { width, permissions: ['clipboard-read', 'clipboard-write'] });

/** Go to a page of the app (a hash route) and wait until it has loaded. */
async function open(page, fake, route, title) {
  await page.goto(`${fake.url}/#/${route}`);
  if (title) await seeHeading(page, title);
  await settled(page);
}

const focusedId = (page) => page.evaluate(() => document.activeElement?.id ?? '');
const section = (page) => page.getByTestId('tunnel-section');

/** The requests the fake saw for `path` (with their query), since `from`. */
const requestsTo = (fake, p, from = 0) =>
  fake.state.requests.slice(from).filter((r) => r.startsWith(`GET ${p}?`) || r === `GET ${p}`);

describe('1. the delivery path test', () => {
  test('127.0.0.1 is flagged inline and never shown as up, even after a passing test', async () => {
    await withApp({}, async (page, fake) => {
      await open(page, fake, 'settings', 'Settings');
      await section(page).getByRole('radio', { name: 'Manual' }).check();
      await section(page).getByLabel('Public URL', { exact: true }).fill('http://127.0.0.1:8787');
      // Said while typing, before saving.
      await visible(
        section(page).getByText('127.0.0.1 is this computer', { exact: false }),
        'the warning under the field',
      );
      await section(page).getByRole('button', { name: 'Save', exact: true }).click();
      const badge = page.getByTestId('tunnel-state');
      await page.locator('[data-testid="tunnel-state"][data-state="up"]').waitFor();
      assert.equal(await badge.getAttribute('data-shown'), 'not-public');
      assert.equal(await badge.innerText(), 'not reachable by providers');
      await visible(
        page.getByTestId('reach-warning').getByText('only proves this computer reaches itself', { exact: false }),
        'the inline warning',
      );

      await section(page).getByRole('button', { name: 'Test delivery path' }).click();
      const result = page.getByTestId('tunnel-test-result');
      await visible(result.getByText('only from this computer', { exact: false }), 'the result says what it proved');
      assert.equal(await badge.getAttribute('data-shown'), 'not-public', 'still not up after the test');
      assert.equal(await page.locator('[data-testid="tunnel-state"] .badge.ok').count(), 0, 'never green');
      await noErrorBanner(page);
      await shotOf(page, section(page), 'settings-tunnel-loopback');
    });
  });

  test('a manual https URL is "saved, not verified" until the test passes, and stays verified in this session', async () => {
    await withApp({}, async (page, fake) => {
      await open(page, fake, 'settings', 'Settings');
      await section(page).getByRole('radio', { name: 'Manual' }).check();
      await section(page).getByLabel('Public URL', { exact: true }).fill('https://hooks.example.com');
      await section(page).getByRole('button', { name: 'Save', exact: true }).click();
      const badge = page.getByTestId('tunnel-state');
      await page.locator('[data-testid="tunnel-state"][data-shown="unverified"]').waitFor();
      assert.equal(await badge.innerText(), 'saved, not verified');

      // A refused connection: one sentence, the raw chain behind "Details".
      const raw =
        'Could not connect to hooks.example.com: error sending request for url (https://hooks.example.com/healthz): client error (Connect): tcp connect error: Connection refused (os error 111). Check that the tunnel or proxy is running.';
      fake.state.tunnelTest = { ok: false, status: null, rtt_ms: null, error: raw };
      await section(page).getByRole('button', { name: 'Test delivery path' }).click();
      const result = page.getByTestId('tunnel-test-result');
      await visible(
        result.getByText('Nothing answered at hooks.example.com: the connection was refused.', { exact: false }),
        'the sentence',
      );
      assert.ok(!(await result.innerText()).includes('os error 111'), 'the raw chain is folded away');
      const details = result.getByRole('button', { name: 'Details' });
      assert.equal(await details.getAttribute('aria-expanded'), 'false');
      await details.click();
      await visible(result.getByText('os error 111', { exact: false }), 'the raw chain, on request');
      assert.equal(await badge.getAttribute('data-shown'), 'unverified');

      fake.state.tunnelTest = null;
      await section(page).getByRole('button', { name: 'Test delivery path' }).click();
      await visible(result.getByText('verified, providers can deliver here', { exact: false }), 'the passing test');
      await page.locator('[data-testid="tunnel-state"][data-shown="verified"]').waitFor();
      assert.equal(await badge.innerText(), 'verified');
      await shotOf(page, section(page), 'settings-tunnel-verified');

      // Another page and back: still verified (this UI session remembers).
      await open(page, fake, 'overview', 'Overview');
      await open(page, fake, 'settings', 'Settings');
      assert.equal(await page.getByTestId('tunnel-state').getAttribute('data-shown'), 'verified');
      // A reload is a new session: not verified until tested again.
      await page.reload();
      await settled(page);
      await page.locator('[data-testid="tunnel-state"][data-shown="unverified"]').waitFor();
    });
  });
});

describe('2. the app-wide alarm', () => {
  test('a down tunnel or a webhook that could not follow the URL shows on every page, with the fix', async () => {
    await withApp({}, async (page, fake) => {
      fake.state.settings.public_url = 'https://quiet-river.trycloudflare.com';
      fake.state.settings.public_url_source = 'tunnel';
      Object.assign(fake.state.settings.tunnel, {
        backend: 'cloudflared',
        state: 'up',
        url: fake.state.settings.public_url,
      });
      const conn = fake.connect('whop');
      await page.reload();
      await seeHeading(page, 'Overview');
      await settled(page);
      const banner = page.getByTestId('delivery-banner');
      assert.equal(await banner.count(), 0, 'no alarm while all is well');
      // The header pill names the auto-refresh, not "Live" (Paddle's word for production).
      await visible(page.locator('.topbar').getByText('Auto-refresh on', { exact: true }), 'the pill');
      assert.equal(await page.locator('.topbar').getByText('Live', { exact: true }).count(), 0);

      fake.setTunnel({
        state: 'down',
        error: 'cloudflared exited: failed to dial to edge with quic: timeout: no recent network activity',
      });
      await visible(banner.getByText('The tunnel is down: Whop cannot deliver webhooks'), 'the banner');
      const nav = page.getByRole('navigation', { name: 'Main' });
      await nav.locator('a[href^="#/settings"][data-alarm="true"]').waitFor();
      assert.match(
        await nav.getByRole('link', { name: 'Settings' }).getAttribute('aria-describedby'),
        /nav-alarm-desc/,
      );
      await shot(page, 'delivery-banner');
      for (const [route, title] of [
        ['payments', 'Payments'],
        ['webhooks', 'Webhooks'],
      ]) {
        await open(page, fake, route, title);
        await visible(page.getByTestId('delivery-banner'), `the banner on ${title}`);
      }
      await banner.getByRole('link', { name: 'Fix the tunnel' }).click();
      await seeHeading(page, 'Settings');
      assert.equal(
        await banner.getByRole('link', { name: 'Fix the tunnel' }).count(),
        0,
        'no link to the page you are on',
      );

      // The disk-full banner stays alongside.
      fake.setStore(DISK_FULL);
      await visible(page.getByTestId('store-banner'), 'the disk-full banner');
      await visible(banner, 'the delivery banner with it');
      fake.setStore({ writable: true });

      // Back up; then the webhook could not follow the new URL: the Revenue entry gets the dot.
      fake.setTunnel({ state: 'up', url: 'https://quick-2.trycloudflare.com', error: null });
      await banner.waitFor({ state: 'detached' });
      fake.setSync(conn.id, {
        state: 'failed',
        error:
          'Could not point the Whop webhook at the new URL https://quick-2.trycloudflare.com/webhooks/whop/x: Whop answered 403. Retrying automatically.',
      });
      await visible(banner.getByText('The Whop webhook could not follow the new public URL'), 'the sync alarm');
      await nav.locator('a[href^="#/revenue"][data-alarm="true"]').waitFor();
      await banner.getByRole('link', { name: 'See the Whop connection' }).click();
      await seeHeading(page, 'Revenue');
      fake.setSync(conn.id, { state: 'ok' });
      await banner.waitFor({ state: 'detached' });
      assert.equal(await nav.locator('[data-alarm]').count(), 0, 'the dots go too');
    });
  });
});

describe('3 and 7. connecting a provider', () => {
  test('without a public URL: said once, Connect waits, the typed key survives Settings, a quick tunnel starts from the card', async () => {
    await withApp({}, async (page, fake) => {
      await open(page, fake, 'revenue', 'Revenue');
      await visible(page.getByText('No public URL yet'), 'the notice');
      assert.equal(await page.getByText('No public URL yet').count(), 1, 'said once');
      await page.getByLabel('Whop API Key').fill('apik_live_typed_9d1c');
      await page.getByLabel('Whop Company ID').fill('biz_Typed');
      const connect = page.getByRole('button', { name: 'Connect Whop' });
      assert.equal(await connect.getAttribute('aria-disabled'), 'true');
      assert.equal(await connect.getAttribute('aria-describedby'), 'connect-blocked', 'the button points at why');
      // aria-disabled, not disabled: it stays reachable, and pressing it shows why.
      await connect.click({ force: true });
      assert.equal(await focusedId(page), 'connect-blocked', 'a click shows why');
      assert.equal(fake.state.requests.filter((r) => r === 'POST /api/connections/whop').length, 0);
      await shot(page, 'revenue-no-public-url');

      // Show/hide on the key.
      const key = page.getByLabel('Whop API Key');
      const toggle = page.getByRole('button', { name: 'Show the key' });
      assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
      assert.equal(await key.getAttribute('type'), 'password');
      await toggle.click();
      assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
      assert.equal(await key.getAttribute('type'), 'text');

      // To Settings and back: nothing typed is lost.
      await page.getByRole('link', { name: 'Other tunnels in Settings' }).click();
      await seeHeading(page, 'Settings');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Revenue' }).click();
      await seeHeading(page, 'Revenue');
      assert.equal(await page.getByLabel('Whop API Key').inputValue(), 'apik_live_typed_9d1c');
      assert.equal(await page.getByLabel('Whop Company ID').inputValue(), 'biz_Typed');

      // The tunnel choice right in the card.
      await page.getByRole('button', { name: 'Start a Cloudflare quick tunnel' }).click();
      await visible(page.getByText('The tunnel is starting'), 'starting');
      assert.equal(fake.state.lastSettingsPut, JSON.stringify({ tunnel: { backend: 'cloudflared' } }));
      fake.setTunnel({ state: 'up', url: 'https://quick-1.trycloudflare.com' });
      await page.getByTestId('public-url-needed').waitFor({ state: 'detached' });
      assert.equal(await connect.getAttribute('aria-disabled'), null, 'Connect works now');
      await connect.click();
      await visible(page.getByText('••••••••9d1c'), 'connected');
    });
  });

  test('keyboard only: a refused key focuses the alert and marks the field; a good one focuses the new card', async () => {
    await withApp({}, async (page, fake) => {
      fake.state.settings.public_url = 'https://hooks.example.com';
      fake.state.settings.public_url_source = 'settings';
      Object.assign(fake.state.settings.tunnel, { backend: 'manual', state: 'up', url: 'https://hooks.example.com' });
      await page.reload();
      await seeHeading(page, 'Overview');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Revenue' }).focus();
      await page.keyboard.press('Enter');
      await seeHeading(page, 'Revenue');
      await settled(page);

      // From the provider choice, Tab through the form.
      await page.getByRole('radio', { name: 'Whop', exact: true }).focus();
      await page.keyboard.press('Tab');
      assert.equal(
        await page.evaluate(() => document.activeElement?.getAttribute('type')),
        'password',
        'the key field',
      );
      await page.keyboard.type('bad-key');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Show the key');
      await page.keyboard.press('Space');
      assert.equal(await page.getByRole('button', { name: 'Show the key' }).getAttribute('aria-pressed'), 'true');
      await page.keyboard.press('Tab');
      await page.keyboard.type('biz_Keyboard');
      await page.keyboard.press('Enter');

      // 422 provider_unauthorized: the alert has focus, in view; the key field points at it.
      await page.waitForFunction(() => document.activeElement?.id === 'whop-connect-error');
      const alert = page.locator('#whop-connect-error');
      await visible(alert.getByText('Whop rejected the key', { exact: false }), 'the provider error');
      const inView = await alert.evaluate((el) => {
        const r = el.getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight;
      });
      assert.ok(inView, 'the alert is scrolled into view');
      const keyField = page.getByLabel('Whop API Key');
      assert.equal(await keyField.getAttribute('aria-invalid'), 'true');
      assert.ok((await keyField.getAttribute('aria-describedby')).split(' ').includes('whop-connect-error'));
      await shot(page, 'whop-error-focused');

      // Back to the key with Shift+Tab from the alert's neighbourhood, fix it, submit with Enter.
      await keyField.focus();
      await page.keyboard.press('Control+A');
      await page.keyboard.type('apik_live_keyboard_4b4b');
      assert.equal(await keyField.getAttribute('aria-invalid'), null, 'typing clears the mark');
      await page.keyboard.press('Enter');
      await visible(page.getByText('••••••••4b4b'), 'connected');
      await page.waitForFunction(() => /^conn-.*-h$/.test(document.activeElement?.id ?? ''));
      assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Whop');
      // "Set up checkout" is open right after connecting.
      assert.equal(await page.locator('article.conn details.checkout').getAttribute('open'), '');

      // Remove → Cancel (Escape): focus back on the card's Remove button.
      const remove = page.locator('article.conn').getByRole('button', { name: 'Remove', exact: true });
      await remove.focus();
      await page.keyboard.press('Enter');
      await visible(page.getByRole('dialog'), 'the confirmation');
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      await page.waitForFunction(() => document.activeElement?.textContent?.trim() === 'Remove');
      // Remove for real: the card is gone, focus lands on the list's heading.
      await page.keyboard.press('Enter');
      await page.getByRole('dialog').getByRole('button', { name: 'Remove connection' }).click();
      await visible(page.getByText('No provider connected'));
      await page.waitForFunction(() => document.activeElement?.id === 'connections-h');
      await noErrorBanner(page);
    });
  });

  test('the New site dialog gives focus back to its button', async () => {
    await withApp({}, async (page) => {
      const add = page.getByRole('button', { name: 'New site' });
      await add.click();
      await visible(page.getByRole('dialog'), 'the dialog');
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'New site');
    });
  });
});

describe('7. a bad sign-in link', () => {
  test('the sign-in card says the link is not valid, where the token file is, and how to get a fresh link', async () => {
    const fake = await startFakeAdmin({ auth: true });
    const { context, page } = await newPage(browser);
    try {
      await page.goto(`${fake.url}/login?token=not-the-token`);
      await visible(page.getByRole('heading', { name: 'Sign in to Faurya' }), 'the sign-in card');
      const bad = page.getByTestId('bad-signin-link');
      await visible(bad.getByText('This sign-in link is not valid'), 'the message');
      await visible(bad.getByText('/home/founder/.local/share/faurya/admin-token'), 'the token file');
      await visible(bad.getByText('faurya serve', { exact: false }), 'how to get a fresh link');
      assert.ok(!page.url().includes('signin='), 'the report leaves the address bar');
      await shot(page, 'sign-in-bad-link');
      // The right token still works from here.
      await page.getByLabel('Admin token').fill('test-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await seeHeading(page, 'Overview');
    } finally {
      await context.close();
      await fake.stop();
    }
    const envFake = await startFakeAdmin({ auth: true, tokenFromEnv: true });
    const other = await newPage(browser);
    try {
      await other.page.goto(`${envFake.url}/login?token=nope`);
      await visible(other.page.getByTestId('bad-signin-link').getByText('FAURYA_ADMIN_TOKEN'), 'the env var');
    } finally {
      await other.context.close();
      await envFake.stop();
    }
  });
});

describe('4. installing cloudflared', () => {
  test("the browser's system first, a copy button per command, and Check again", async () => {
    const fake = await startFakeAdmin({});
    const context = await browser.newContext({
      viewport: { width: 1280, height: 860 },
      locale: 'en-US',
      reducedMotion: 'reduce',
      userAgent: MAC_UA,
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    try {
      const t = fake.state.settings.tunnel;
      Object.assign(t, {
        backend: 'cloudflared',
        state: 'down',
        error:
          'cloudflared is not installed: it was not found on PATH. Install cloudflared with Homebrew: `brew install cloudflared`.',
      });
      t.cloudflared = {
        installed: false,
        path: null,
        install_hint: 'Install cloudflared with Homebrew: `brew install cloudflared`.',
      };
      await page.goto(fake.loginUrl);
      await open(page, fake, 'settings', 'Settings');
      const install = page.getByTestId('cloudflared-install');
      await visible(install.getByText('this looks like macOS', { exact: false }), 'the detected system');
      const first = install.locator('.way').first();
      assert.equal(await first.getAttribute('aria-label'), 'Install on macOS');
      await first.getByRole('button', { name: 'Copy: brew install cloudflared' }).click();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'brew install cloudflared');
      // The other systems are there, folded.
      await install.getByText('Other systems').click();
      await visible(
        install.getByRole('button', { name: 'Copy: winget install --id Cloudflare.cloudflared' }),
        'Windows',
      );
      await visible(install.getByRole('button', { name: 'Copy: sudo dpkg -i cloudflared.deb' }), 'Debian');
      await install.getByText('Other systems').click();
      await shotOf(page, section(page), 'settings-cloudflared-install');

      await install.getByRole('button', { name: 'Check again' }).click();
      await visible(install.getByText('Still not found', { exact: false }), 'not yet');
      t.cloudflared = {
        installed: true,
        path: '/opt/homebrew/bin/cloudflared',
        install_hint: t.cloudflared.install_hint,
      };
      await install.getByRole('button', { name: 'Check again' }).click();
      await visible(page.getByText('Found cloudflared at /opt/homebrew/bin/cloudflared', { exact: false }), 'found');
    } finally {
      await context.close();
      await fake.stop();
    }
  });
});

describe('5. checkout attribution', () => {
  test('the checklist counts attributed payments live, and "Set up checkout" opens the snippets', async () => {
    await withApp({}, async (page, fake) => {
      fake.state.settings.public_url = 'https://quiet-river.trycloudflare.com';
      fake.state.settings.public_url_source = 'tunnel';
      Object.assign(fake.state.settings.tunnel, {
        backend: 'cloudflared',
        state: 'up',
        url: fake.state.settings.public_url,
      });
      fake.connect('whop');
      fake.deliver({ provider: 'whop', attributed: false, amount: 4900 });
      fake.deliver({ provider: 'whop', attributed: false, amount: 9900 });
      await page.reload();
      await seeHeading(page, 'Overview');
      await settled(page);
      await visible(page.getByText('3 of 4 done'), 'three steps done');
      const progress = page.getByTestId('attribution-progress');
      assert.equal(await progress.innerText(), '0 of 2 payments attributed');
      await visible(page.getByText('Set up checkout attribution (to do)'), 'not done while none is attributed');
      await shotOf(
        page,
        page.locator('section.card', { has: page.getByRole('heading', { name: 'Get set up' }) }),
        'checklist-attribution',
      );

      const checklist = page.locator('section.card', { has: page.getByRole('heading', { name: 'Get set up' }) });
      await checklist.getByRole('link', { name: 'Set up checkout' }).click();
      await seeHeading(page, 'Revenue');
      const checkout = page.locator('article.conn details.checkout');
      assert.equal(await checkout.getAttribute('open'), '', 'the panel is open');
      const tabs = checkout.getByRole('tablist', { name: 'Your stack' });
      assert.deepEqual(await tabs.getByRole('tab').allInnerTexts(), ['Next.js', 'Node / Express', 'Python', 'curl']);
      await tabs.getByRole('tab', { name: 'Next.js' }).focus();
      await page.keyboard.press('ArrowRight');
      assert.equal(await tabs.getByRole('tab', { name: 'Node / Express' }).getAttribute('aria-selected'), 'true');
      await visible(checkout.getByText('req.cookies.faurya_visitor_id', { exact: false }), 'the Express route');
      await page.keyboard.press('ArrowRight');
      await visible(
        checkout.getByText('request.cookies.get("faurya_session_id")', { exact: false }),
        'the Python route',
      );
      await page.keyboard.press('End');
      await visible(
        checkout.getByText('"faurya_visitor_id": "VISITOR_ID_FROM_COOKIE"', { exact: false }),
        'the curl call',
      );
      await shotOf(page, page.locator('article.conn'), 'revenue-checkout-snippets');

      // A payment that carries the visitor: the last step is done, live, and the checklist goes.
      await open(page, fake, 'overview', 'Overview');
      await visible(page.getByRole('heading', { name: 'Get set up' }), 'the checklist');
      fake.deliver({ provider: 'whop', attributed: true, amount: 4900 });
      await page.getByRole('heading', { name: 'Get set up' }).waitFor({ state: 'detached' });
    });
  });
});

describe('issue 13.4: missed payments', () => {
  test('the card says when the last delivery came and when Faurya last checked for missed payments', async () => {
    await withApp({}, async (page, fake) => {
      fake.state.settings.public_url = 'https://quiet-river.trycloudflare.com';
      fake.state.settings.public_url_source = 'tunnel';
      Object.assign(fake.state.settings.tunnel, {
        backend: 'cloudflared',
        state: 'up',
        url: fake.state.settings.public_url,
      });
      fake.connect('whop');
      fake.state.connections[0].last_delivery_at = new Date(Date.now() - 3 * 60e3).toISOString();
      await open(page, fake, 'revenue', 'Revenue');
      const line = page.getByTestId('card-missed');
      await visible(line.getByText('not checked for missed payments yet', { exact: false }), 'no check yet');
      fake.state.missed = 2;
      await line.getByRole('button', { name: 'Check for missed payments' }).click();
      await visible(line.getByText('checked for missed payments', { exact: false }), 'the check');
      await visible(line.getByText('2 missed, recovered', { exact: false }), 'what it found');
      assert.match(
        await line.innerText(),
        /Last delivery 3 minutes ago · checked for missed payments .* · 2 missed, recovered/,
      );
      await noErrorBanner(page);
      await shotOf(page, page.locator('article.conn'), 'revenue-missed-payments');
    });
  });
});

describe('6. a 900 px window', () => {
  test('the sidebar is a rail, Payments fits without sideways scrolling, and details open as drawers', async () => {
    await withApp(
      { seed: true },
      async (page, fake) => {
        // The rail: icons with their names for screen readers, and a Menu that opens the whole of it.
        const sidebar = page.locator('aside.sidebar');
        assert.ok((await sidebar.boundingBox()).width <= 72, 'a narrow rail');
        const menu = page.getByRole('button', { name: 'Menu' });
        await visible(menu, 'the menu button');
        await menu.click();
        await visible(page.getByLabel('Site', { exact: true }), 'the site switcher in the open menu');
        await page.keyboard.press('Escape');
        assert.equal(await menu.getAttribute('aria-expanded'), 'false');

        await open(page, fake, 'payments', 'Payments');
        const wrap = page.locator('.table-wrap');
        const fits = await wrap.evaluate((el) => el.scrollWidth <= el.clientWidth + 1);
        assert.ok(fits, 'no horizontal scroll');
        for (const name of ['Net', 'Attribution']) {
          const th = page.locator('table.data th', { hasText: new RegExp(`^${name}$`, 'i') }).filter({ visible: true });
          assert.equal(await th.count(), 1, `${name} is a visible column`);
          const box = await th.boundingBox();
          assert.ok(box.x + box.width <= 900, `${name} is on screen`);
        }
        const refunded = fake.state.payments.find((p) => p.refunded_minor > 0);
        const cell = page.locator(`tr:has([data-payment="${refunded.id}"]) [data-testid="money-cell"]`);
        assert.equal((await cell.innerText()).replace(/\s+/g, ' ').trim(), '$149.00 $199.00 − $50.00 refunded');
        await shot(page, 'payments-900');

        // A row's detail: a drawer on screen, focused; Escape closes it and focus returns to the row.
        await page.locator(`[data-payment="${refunded.id}"]`).click();
        const drawer = page.locator('section.detail');
        await visible(drawer, 'the drawer');
        const d = await drawer.boundingBox();
        assert.ok(d.y >= 0 && d.y < 10 && d.x + d.width <= 900, `the drawer is on screen: ${JSON.stringify(d)}`);
        await page.waitForFunction(() => document.activeElement?.id === 'payment-h');
        await shot(page, 'payments-900-drawer');
        await page.keyboard.press('Escape');
        await drawer.waitFor({ state: 'detached' });
        await page.waitForFunction(
          (id) => document.activeElement?.getAttribute('data-payment') === String(id),
          refunded.id,
        );

        for (const [route, title, rowLink, headingId] of [
          ['webhooks', 'Webhooks', '[data-event]', 'detail-h'],
          ['sessions', 'Sessions', '[data-session]', 'session-h'],
        ]) {
          await open(page, fake, route, title);
          const link = page.locator(rowLink).nth(3);
          const id = await link.getAttribute(rowLink.slice(1, -1));
          await link.click();
          await visible(page.locator('section.detail'), `the ${title} drawer`);
          const box = await page.locator('section.detail').boundingBox();
          assert.ok(box.y >= 0 && box.y < 10 && box.x + box.width <= 900, `${title}: the drawer is on screen`);
          await page.waitForFunction((h) => document.activeElement?.id === h, headingId);
          if (route === 'webhooks') await shot(page, 'webhooks-900-drawer');
          await page.keyboard.press('Escape');
          await page.locator('section.detail').waitFor({ state: 'detached' });
          await page.waitForFunction(
            ([attr, v]) => document.activeElement?.getAttribute(attr) === v,
            [rowLink.slice(1, -1), id],
          );
        }
      },
      { width: 900 },
    );
  });
});

describe('8. the date filter', () => {
  test('Payments and Webhooks send from/to for the local days chosen, and keep the range in the URL', async () => {
    await withApp({ seed: true }, async (page, fake) => {
      await open(page, fake, 'payments', 'Payments');
      const all = await page.locator('[data-payment]').count();
      let mark = fake.state.requests.length;
      await page.getByRole('radio', { name: '7 days' }).check();
      await page.waitForFunction(() => location.hash.includes('range=7d'));
      await settled(page);
      const sent = requestsTo(fake, '/api/payments', mark).at(-1);
      const q = new URL(sent.slice(4), 'http://x').searchParams;
      const expected = await page.evaluate(() => {
        const d = new Date();
        const from = new Date(d.getFullYear(), d.getMonth(), d.getDate() - 6);
        const to = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1);
        const z = (x) => x.toISOString().replace(/\.\d{3}Z$/, 'Z');
        return { from: z(from), to: z(to) };
      });
      assert.deepEqual({ from: q.get('from'), to: q.get('to') }, expected);
      // The shorter list replaces the full one once its answer is in.
      await page.waitForFunction((n) => document.querySelectorAll('[data-payment]').length < n, all);
      const week = await page.locator('[data-payment]').count();
      assert.ok(week > 0 && week < all, `fewer payments in 7 days (${week} of ${all})`);

      // Custom dates: both days included; the URL keeps them through a reload.
      mark = fake.state.requests.length;
      await page.getByRole('radio', { name: 'Dates…' }).check();
      await page.getByLabel('From', { exact: true }).fill('2020-01-01');
      await page.getByLabel('From', { exact: true }).dispatchEvent('change');
      await page.getByLabel('To', { exact: true }).fill('2020-01-31');
      await page.getByLabel('To', { exact: true }).dispatchEvent('change');
      await page.waitForFunction(
        () => location.hash.includes('from=2020-01-01') && location.hash.includes('to=2020-01-31'),
      );
      await visible(page.getByText('No payments match'), 'nothing in January 2020');
      await page.reload();
      await settled(page);
      assert.equal(await page.getByLabel('From', { exact: true }).inputValue(), '2020-01-01');
      await visible(page.getByText('No payments match'), 'still filtered after a reload');
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await page.waitForFunction(() => !location.hash.includes('from='));
      await page.locator('[data-payment]').first().waitFor();

      // Webhooks: Today, with the other filters, in the URL.
      await open(page, fake, 'webhooks', 'Webhooks');
      mark = fake.state.requests.length;
      await page.getByLabel('Status').selectOption('processed');
      await page.getByRole('radio', { name: 'Today' }).check();
      await page.waitForFunction(
        () => location.hash.includes('range=today') && location.hash.includes('status=processed'),
      );
      await settled(page);
      const ev = new URL(requestsTo(fake, '/api/events', mark).at(-1).slice(4), 'http://x').searchParams;
      assert.equal(ev.get('status'), 'processed');
      assert.ok(ev.get('from') && ev.get('to'), 'from and to sent');
      assert.ok(Date.parse(ev.get('to')) - Date.parse(ev.get('from')) <= 25 * 3600e3, 'one day');
      await shot(page, 'webhooks-date-filter');
      // Back goes to the previous filters.
      await page.goBack();
      await page.waitForFunction(() => !location.hash.includes('range=today'));

      // The API refuses a bad value with a field error, as the backend does.
      const bad = await fetch(`${fake.url}/api/events?from=yesterday`);
      assert.equal(bad.status, 422);
      assert.ok((await bad.json()).error.fields.from);
    });
  });
});
