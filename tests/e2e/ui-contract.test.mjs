// The UI's behaviour on answers the real backend cannot be made to give on demand yet: field
// errors, a provider that will not delete its webhook, a missing endpoint, live deliveries,
// currencies. An in-memory admin API (support/fake-admin-api.mjs) answers in the shapes of
// docs/API.md. It also saves screenshots of the screens filled with sample data.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium, newPage } from './support/browser.mjs';
import { startFakeAdmin } from './support/fake-admin-api.mjs';
import { screenshotDir, uiDist } from './support/paths.mjs';
import { noErrorBanner, seeHeading, settled, visible } from './support/ui-checks.mjs';

let browser;
before(async () => {
  assert.ok(existsSync(path.join(uiDist, 'index.html')), `no built UI in ${uiDist}: run "npm run build" in ui/`);
  await mkdir(screenshotDir, { recursive: true });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** Run `fn` with a fake admin API and a signed-in page. */
async function withApp(opts, fn) {
  const fake = await startFakeAdmin(opts);
  const { context, page } = await newPage(browser, { permissions: ['clipboard-read', 'clipboard-write'] });
  try {
    await page.goto(fake.loginUrl);
    await seeHeading(page, 'Overview');
    await fn(page, fake);
  } finally {
    await context.close();
    await fake.stop();
  }
}

describe('a backend without the later endpoints', () => {
  test('every tab degrades to a "not available in this build" note, never an error', async () => {
    await withApp({ features: [] }, async (page) => {
      for (const [id, title] of [['overview', 'Overview'], ['revenue', 'Revenue'], ['webhooks', 'Webhooks'], ['payments', 'Payments'], ['settings', 'Settings']]) {
        await page.goto(page.url().replace(/#.*$/, '') + `#/${id}`);
        await seeHeading(page, title);
        await settled(page);
        await noErrorBanner(page);
        await visible(page.getByText('not available in this build'), `note on ${title}`);
      }
      await page.goto(page.url().replace(/#.*$/, '') + '#/revenue');
      await visible(page.getByText('No provider connected'), '"No provider connected"');
    });
  });
});

describe('sign-in', () => {
  test('a 401 shows the sign-in screen; pasting the token signs in', async () => {
    const fake = await startFakeAdmin({ auth: true, token: 'tok en/+?' });
    const { context, page } = await newPage(browser);
    try {
      await page.goto(fake.url + '/#/payments');
      await visible(page.getByRole('heading', { name: 'Sign in to Faurya' }), 'sign-in heading');
      await page.getByRole('button', { name: 'Sign in' }).click();
      assert.equal(await page.getByLabel('Admin token').getAttribute('aria-invalid'), 'true');
      await page.getByLabel('Admin token').fill('tok en/+?');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await seeHeading(page, 'Overview');
    } finally {
      await context.close();
      await fake.stop();
    }
  });
});

describe('Settings', () => {
  test('a public URL pinned by --public-url is read-only and says why', async () => {
    await withApp({}, async (page, fake) => {
      Object.assign(fake.state.settings, { public_url: 'https://pinned.example.com', public_url_source: 'flag' });
      await page.goto(fake.url + '/#/settings');
      await visible(page.getByText('Set when the server started'), 'explanation');
      const field = page.getByLabel('Public URL', { exact: true });
      assert.equal(await field.inputValue(), 'https://pinned.example.com');
      assert.equal(await field.getAttribute('readonly'), '');
      assert.equal(await page.getByRole('button', { name: 'Save', exact: true }).count(), 0);
    });
  });

  test('the tunnel section follows the proposed settings.tunnel shape', async () => {
    await withApp({}, async (page, fake) => {
      fake.state.settings.public_url = 'https://quiet-river.trycloudflare.com';
      await page.goto(fake.url + '/#/settings');
      await page.getByRole('button', { name: 'Test delivery path' }).click();
      await visible(page.getByText('in 182 ms'), 'round trip');
      await page.getByRole('radio', { name: 'ngrok', exact: true }).check();
      await page.getByRole('button', { name: 'Apply tunnel' }).click();
      await visible(page.getByText('Paste your ngrok authtoken'), 'authtoken required');
      await page.getByLabel('ngrok authtoken').fill('2abcDEF_token');
      await page.getByRole('button', { name: 'Apply tunnel' }).click();
      await page.waitForFunction(() => document.body.textContent.includes('starting'));
      await noErrorBanner(page);
    });
  });
});

describe('Revenue', () => {
  test('Whop: API field errors land under their field; connect; a failed remove can be forced', async () => {
    await withApp({}, async (page, fake) => {
      fake.state.settings.public_url = 'https://hooks.example.com';
      await page.goto(fake.url + '/#/revenue');
      await visible(page.getByText('No provider connected'));

      // Client-side hint first: wrong company prefix.
      await page.getByLabel('Whop API Key').fill('Bearer abc');
      await page.getByLabel('Whop Company ID').fill('comp_1');
      await page.getByRole('button', { name: 'Connect Whop' }).click();
      assert.equal(await page.getByLabel('Whop API Key').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.getByLabel('Whop Company ID').getAttribute('aria-invalid'), 'true');
      assert.equal(fake.state.requests.filter((r) => r.startsWith('POST /api/connections')).length, 0);

      // The server's 422 field error.
      await page.getByLabel('Whop API Key').fill('server-says-no');
      await page.getByLabel('Whop Company ID').fill('biz_123');
      await page.getByRole('button', { name: 'Connect Whop' }).click();
      await visible(page.getByText('This key has the wrong format for Whop.'), 'API field error');
      const describedBy = await page.getByLabel('Whop API Key').getAttribute('aria-describedby');
      const errorId = await page.getByText('This key has the wrong format for Whop.').evaluate((el) => el.closest('[id]').id);
      assert.ok(describedBy.split(' ').includes(errorId), 'the error is tied to the field');

      // A provider error is shown above the button.
      await page.getByLabel('Whop API Key').fill('bad-key');
      await page.getByRole('button', { name: 'Connect Whop' }).click();
      await visible(page.getByText('Whop rejected the key'), 'provider error');

      // Success: one request even on a double click, then the card.
      await page.getByLabel('Whop API Key').fill('apik_live_zz1234');
      await page.getByRole('button', { name: 'Connect Whop' }).dblclick();
      await visible(page.getByText('••••••••1234'), 'masked key');
      assert.equal(fake.state.requests.filter((r) => r === 'POST /api/connections/whop').length, 3);
      await visible(page.getByRole('button', { name: 'Remove', exact: true }), 'Remove');
      await visible(page.getByRole('main').getByText('biz_123').first(), 'company id');
      await page.getByText('Set up checkout').click();
      await visible(page.getByText('faurya_visitor_id: jar.get("faurya_visitor_id")'), 'checkout snippet');
      await page.screenshot({ path: path.join(screenshotDir, 'revenue-connected.png'), fullPage: true });

      // Remove fails at the provider, then is forced.
      fake.state.failDelete.add('*');
      await page.getByRole('button', { name: 'Remove', exact: true }).click();
      const dialog = page.getByRole('dialog');
      await visible(dialog.getByText('Remove the Whop connection?'));
      await dialog.getByRole('button', { name: 'Remove connection' }).click();
      await visible(dialog.getByText('did not answer in time'), 'provider error in the dialog');
      await page.screenshot({ path: path.join(screenshotDir, 'revenue-remove-failed.png') });
      await dialog.getByRole('button', { name: 'Remove locally anyway' }).click();
      await visible(page.getByText('Whop removed locally'), 'warning after a forced remove');
      await visible(page.getByText('No provider connected'));
      assert.ok(fake.state.requests.some((r) => /^DELETE \/api\/connections\/con_\w+\?force=true$/.test(r)));
    });
  });

  test('Whop without a public URL explains where to set it', async () => {
    await withApp({}, async (page, fake) => {
      await page.goto(fake.url + '/#/revenue');
      await visible(page.getByText('No public URL yet'), 'hint before submitting');
      await page.getByLabel('Whop API Key').fill('apik_live_zz1234');
      await page.getByLabel('Whop Company ID').fill('biz_9');
      await page.getByRole('button', { name: 'Connect Whop' }).click();
      await visible(page.getByText('Set a public URL first'), '412 explanation');
    });
  });

  test('Paddle warns about a key from the other environment', async () => {
    await withApp({}, async (page, fake) => {
      fake.state.settings.public_url = 'https://hooks.example.com';
      await page.goto(fake.url + '/#/revenue');
      await page.getByRole('radio', { name: 'Paddle', exact: true }).check();
      await page.getByLabel('Paddle API Key').fill('pdl_sdbx_apikey_01abc');
      await visible(page.getByText('looks like a sandbox key'), 'sandbox-key-on-live warning');
      await page.getByRole('radio', { name: 'Sandbox' }).check();
      assert.equal(await page.getByText('looks like a sandbox key').count(), 0);
      await page.getByRole('button', { name: 'Connect Paddle' }).click();
      await visible(page.getByText('Paddle connected'), 'success');
      await visible(page.getByRole('main').getByText('Sandbox', { exact: true }).first(), 'environment badge');
    });
  });
});

describe('Webhooks', () => {
  test('detail pane, copy as curl, filters, load more and live arrivals', async () => {
    await withApp({ seed: true }, async (page, fake) => {
      await page.goto(fake.url + '/#/webhooks');
      await settled(page);
      const rows = page.locator('table.data tbody tr');
      assert.equal(await rows.count(), fake.state.events.length);

      const failed = fake.state.events.find((e) => e.status === 'failed');
      await page.locator('tr', { hasText: 'failed' }).first().click();
      await visible(page.getByRole('heading', { level: 2, name: 'payment.succeeded' }), 'detail heading');
      assert.equal(new URL(page.url()).hash, `#/webhooks/${failed.id}`);
      await visible(page.getByText(failed.error), 'the failure reason');
      await visible(page.getByRole('cell', { name: 'webhook-signature' }), 'headers');
      await page.getByRole('button', { name: 'Copy as curl' }).click();
      const curl = await page.evaluate(() => navigator.clipboard.readText());
      assert.match(curl, /^curl -sS -X POST 'https:\/\/quiet-river\.trycloudflare\.com\/webhooks\/whop\/con_\w+'/);
      assert.ok(curl.includes(`-H 'webhook-id: ${failed.delivery_id}'`));
      assert.ok(curl.includes(`--data-raw '${failed.body_text}'`));
      assert.ok(!/-H 'host:/i.test(curl));
      await page.getByRole('button', { name: 'Copy raw', exact: true }).click();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), failed.body_text);
      await page.getByRole('button', { name: 'Reprocess' }).click();
      await visible(page.getByText('Reprocessed: now processed.'), 'reprocess result');
      await page.getByRole('tab', { name: 'Raw' }).click();
      await visible(page.locator('pre.raw'), 'raw body');
      assert.equal(await page.locator('pre.raw').textContent(), failed.body_text);
      await page.keyboard.press('Escape');
      assert.equal(new URL(page.url()).hash, '#/webhooks');

      // Live: a new delivery shows up without a reload.
      const fresh = fake.deliver({ provider: 'paddle', type: 'transaction.completed', amount: 777, currency: 'EUR' });
      await visible(page.locator('tr', { hasText: 'transaction.completed' }), 'new delivery row');
      assert.equal(await rows.first().locator('td').nth(2).textContent(), 'transaction.completed');
      assert.ok(fake.state.events[0] === fresh);

      // Filters.
      await page.getByLabel('Status').selectOption('rejected');
      await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 1);
      await visible(page.locator('tr', { hasText: 'rejected' }));
      await page.getByLabel('Status').selectOption('');
      const wanted = fake.state.events.find((e) => e.provider === 'whop' && e.status === 'ignored');
      await page.getByLabel('Search raw bodies').fill(wanted.delivery_id);
      await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 1);
      await visible(page.locator('tr', { hasText: wanted.event_type }));
      await page.getByLabel('Search raw bodies').fill('');

      // Keyset "Load more".
      for (let i = 0; i < 30; i++) fake.state.events.push({ ...fake.state.events.at(-1), id: `d_${900 + i}` });
      await page.reload();
      await settled(page);
      assert.equal(await rows.count(), 50);
      await page.getByRole('button', { name: 'Load more' }).click();
      await page.waitForFunction((n) => document.querySelectorAll('table.data tbody tr').length === n, fake.state.events.length);
      await noErrorBanner(page);
    });
  });
});

describe('Payments and Overview', () => {
  test('amounts in their currency from minor units, refunds, attribution help', async () => {
    await withApp({ seed: true }, async (page, fake) => {
      await page.goto(fake.url + '/#/payments');
      await settled(page);
      const main = page.getByRole('main');
      await visible(main.getByRole('cell', { name: '¥3,000' }).first(), 'JPY without decimals');
      await visible(main.getByRole('cell', { name: 'KWD 1.250' }).first(), 'KWD with three decimals');
      await visible(main.getByRole('cell', { name: '€19.00' }).first(), 'EUR');
      await visible(main.getByRole('cell', { name: '−$50.00' }), 'refunded amount');
      await visible(main.getByRole('cell', { name: '$149.00' }).first(), 'net after the refund');
      await main.getByRole('button', { name: /Unattributed/ }).first().click();
      await visible(page.getByRole('note').filter({ hasText: 'faurya_session_id' }), 'the fix for unattributed payments');
      await page.getByLabel('Provider').selectOption('paddle');
      await page.waitForFunction(() => [...document.querySelectorAll('table.data tbody tr')].every((r) => r.textContent.includes('Paddle')));
      await page.getByLabel('Provider').selectOption('');
      await page.screenshot({ path: path.join(screenshotDir, 'payments-sample.png'), fullPage: true });

      await page.goto(fake.url + '/#/overview');
      await settled(page);
      await visible(page.locator('.u-over'), 'uPlot chart');
      await visible(page.getByText('By currency'), 'per-currency totals');
      await noErrorBanner(page);
      await page.screenshot({ path: path.join(screenshotDir, 'overview-sample.png'), fullPage: true });

      await page.goto(fake.url + `/#/webhooks/${fake.state.events.find((e) => e.payment).id}`);
      await visible(page.getByRole('heading', { level: 3, name: 'Payment' }));
      await page.screenshot({ path: path.join(screenshotDir, 'webhooks-detail.png') });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: path.join(screenshotDir, 'webhooks-detail-dark.png') });
    });
  });

  test('an empty install shows the onboarding checklist', async () => {
    await withApp({}, async (page) => {
      await settled(page);
      await visible(page.getByRole('heading', { name: 'Get set up' }), 'checklist');
      await visible(page.getByText('0 of 3 done'));
      await visible(page.getByRole('link', { name: 'Open Settings' }));
    });
  });
});
