// Issues 3 and 5 (connect and disconnect) through the UI, against the real backend talking to the
// fake Whop and Paddle APIs of crates/faurya-fakes. Screenshots of the empty form, an error and
// the connected card go to docs/screenshots/.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium, newPage } from './support/browser.mjs';
import { haveFaurya, startFaurya } from './support/faurya.mjs';
import { fakesBin, haveFakes, startFakeProviders } from './support/fake-providers.mjs';
import { screenshotDir } from './support/paths.mjs';
import { noErrorBanner, seeHeading, settled, visible } from './support/ui-checks.mjs';

const skip = !haveFaurya() || !haveFakes() ? `needs ${fakesBin} (cargo build -p faurya-fakes)` : false;

describe('connect and remove providers from the Revenue tab', { skip }, () => {
  let fakes;
  let app;
  let browser;
  let page;

  before(async () => {
    fakes = await startFakeProviders();
    app = await startFaurya({ env: { FAURYA_WHOP_API_BASE: fakes.whopBase, FAURYA_PADDLE_API_BASE: fakes.paddleBase } });
    const res = await fetch(app.adminUrl + '/api/settings', {
      method: 'PUT',
      headers: { Authorization: `Bearer ${app.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ public_url: 'https://hooks.example.com' }),
    });
    assert.equal(res.status, 200, 'set the public URL');
    browser = await launchChromium();
    ({ page } = await newPage(browser));
    await page.goto(app.loginUrl);
    await seeHeading(page, 'Overview');
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await fakes?.stop();
  });

  test('Whop: a key without webhook permission is explained, a good one connects, Remove deletes the webhook first', async () => {
    await fakes.addWhopKey('apik_nopermission_1111', 'biz_e2e', false);
    await fakes.addWhopKey('apik_e2e_good_3f9a', 'biz_e2e', true);

    await page.goto(app.adminUrl + '/#/revenue');
    await settled(page);
    await visible(page.getByText('No provider connected'));
    await page.screenshot({ path: path.join(screenshotDir, 'whop-empty-form.png'), fullPage: true });

    await page.getByLabel('Whop API Key').fill('apik_nopermission_1111');
    await page.getByLabel('Whop Company ID').fill('biz_e2e');
    await page.getByRole('button', { name: 'Connect Whop' }).click();
    await visible(page.locator('.error-banner'), 'the provider error');
    await page.screenshot({ path: path.join(screenshotDir, 'whop-error.png'), fullPage: true });

    await page.getByLabel('Whop API Key').fill('apik_e2e_good_3f9a');
    await page.getByRole('button', { name: 'Connect Whop' }).click();
    await visible(page.getByText('••••••••3f9a'), 'masked key');
    await visible(page.getByRole('button', { name: 'Remove', exact: true }), 'Remove');
    await noErrorBanner(page);
    const { whop_webhooks } = await fakes.state();
    assert.equal(whop_webhooks.length, 1);
    assert.match(whop_webhooks[0].url, /^https:\/\/hooks\.example\.com\/webhooks\/whop\/con_/);
    await page.screenshot({ path: path.join(screenshotDir, 'whop-connected.png'), fullPage: true });

    await page.getByRole('button', { name: 'Remove', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove connection' }).click();
    await visible(page.getByText('No provider connected'), 'the form is back');
    const deletes = (await fakes.requests()).filter((r) => r.method === 'DELETE' && r.path.includes('/webhooks/'));
    assert.equal(deletes.length, 1, 'the fake saw the webhook DELETE');
    assert.equal((await fakes.state()).whop_webhooks.length, 0);
  });

  test('Paddle: connects with a sandbox key and removes its notification destination', async () => {
    await fakes.addPaddleKey('pdl_sdbx_apikey_e2e_7c1d');
    await page.goto(app.adminUrl + '/#/revenue');
    await page.getByRole('radio', { name: 'Paddle', exact: true }).check();
    await page.getByLabel('Paddle API Key').fill('pdl_sdbx_apikey_e2e_7c1d');
    await visible(page.getByText('looks like a sandbox key'), 'environment warning');
    await page.getByRole('radio', { name: 'Sandbox' }).check();
    await page.getByRole('button', { name: 'Connect Paddle' }).click();
    await visible(page.getByText('••••••••7c1d'), 'masked key');
    assert.equal((await fakes.state()).paddle_destinations.length, 1);
    await page.getByRole('button', { name: 'Remove', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove connection' }).click();
    await visible(page.getByText('No provider connected'));
    assert.equal((await fakes.state()).paddle_destinations.length, 0);
  });
});
