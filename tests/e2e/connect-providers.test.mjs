// Issues 3 and 5 (connect and disconnect) through the UI, against the real backend talking to the
// fake Whop and Paddle APIs of crates/faurya-fakes: the public-URL requirement, provider errors,
// connect, remove (the provider's webhook first), and "Remove locally anyway" when the provider
// refuses. Screenshots of the empty form, an error, the connected card and a failed removal.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchChromium, newPage } from './support/browser.mjs';
import { startFaurya } from './support/faurya.mjs';
import { fakesSkipReason, startFakeProviders } from './support/fake-providers.mjs';
import { shot } from './support/paths.mjs';
import { noErrorBanner, seeHeading, settled, visible } from './support/ui-checks.mjs';

describe('connect and remove providers from the Revenue tab', { skip: fakesSkipReason() }, () => {
  let fakes;
  let app;
  let browser;
  let page;

  before(async () => {
    fakes = await startFakeProviders();
    app = await startFaurya({
      env: { FAURYA_WHOP_API_BASE: fakes.whopBase, FAURYA_PADDLE_API_BASE: fakes.paddleBase },
    });
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

  test('without a public URL, Connect waits for one and says why, once', async () => {
    await fakes.addWhopKey('apik_e2e_nourl_0001', 'biz_nourl', true);
    await page.goto(app.adminUrl + '/#/revenue');
    await settled(page);
    await visible(page.getByText('No public URL yet'), 'the hint before submitting');
    assert.equal(await page.getByText('No public URL yet').count(), 1, 'said once');
    await page.getByLabel('Whop API Key').fill('apik_e2e_nourl_0001');
    await page.getByLabel('Whop Company ID').fill('biz_nourl');
    const connect = page.getByRole('button', { name: 'Connect Whop' });
    assert.equal(await connect.getAttribute('aria-disabled'), 'true');
    await visible(page.getByText('Connect needs a public URL first'), 'the reason next to the button');
    // Enter in a field does not send it either.
    await page.getByLabel('Whop Company ID').press('Enter');
    await page.waitForTimeout(300);
    assert.equal((await fakes.state()).whop_webhooks.length, 0, 'nothing was created at Whop');

    assert.equal((await app.api('PUT', '/api/settings', { public_url: 'https://hooks.example.com' })).status, 200);
  });

  test('Whop: a key without webhook permission is explained, a good one connects, Remove deletes the webhook first', async () => {
    await fakes.addWhopKey('apik_nopermission_1111', 'biz_e2e', false);
    await fakes.addWhopKey('apik_e2e_good_3f9a', 'biz_e2e', true);

    await page.goto(app.adminUrl + '/#/revenue');
    await settled(page);
    await visible(page.getByText('No provider connected'));
    // The URL was saved through the API: the open page learns it from the live stream.
    await page.getByText('No public URL yet').waitFor({ state: 'detached' });
    await shot(page, 'whop-empty-form', { fullPage: true });

    await page.getByLabel('Whop API Key').fill('apik_nopermission_1111');
    await page.getByLabel('Whop Company ID').fill('biz_e2e');
    await page.getByRole('button', { name: 'Connect Whop' }).click();
    await visible(page.locator('.error-banner'), 'the provider error');
    await shot(page, 'whop-error', { fullPage: true });

    await page.getByLabel('Whop API Key').fill('apik_e2e_good_3f9a');
    await page.getByRole('button', { name: 'Connect Whop' }).click();
    await visible(page.getByText('••••••••3f9a'), 'masked key');
    await visible(page.getByRole('button', { name: 'Remove', exact: true }), 'Remove');
    await noErrorBanner(page);
    const { whop_webhooks } = await fakes.state();
    assert.equal(whop_webhooks.length, 1);
    assert.match(whop_webhooks[0].url, /^https:\/\/hooks\.example\.com\/webhooks\/whop\/con_/);
    // "Set up checkout" opens by itself right after connecting.
    await visible(page.getByText('faurya_visitor_id', { exact: false }).first(), 'the checkout snippet');
    await shot(page, 'whop-connected', { fullPage: true });

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

  test('when Whop refuses the delete, the connection stays until "Remove locally anyway"', async () => {
    await fakes.addWhopKey('apik_e2e_stuck_5e5e', 'biz_stuck', true);
    await page.goto(app.adminUrl + '/#/revenue');
    await page.getByRole('radio', { name: 'Whop', exact: true }).check();
    await page.getByLabel('Whop API Key').fill('apik_e2e_stuck_5e5e');
    await page.getByLabel('Whop Company ID').fill('biz_stuck');
    await page.getByRole('button', { name: 'Connect Whop' }).click();
    await visible(page.getByText('••••••••5e5e'), 'masked key');

    // Refused twice: "Remove locally anyway" tries the provider once more before giving up on it.
    await fakes.fail({ method: 'DELETE', path_contains: '/webhooks/', status: 403, times: 2 });
    await page.getByRole('button', { name: 'Remove', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await visible(dialog.getByText('Remove the Whop connection?'));
    await dialog.getByRole('button', { name: 'Remove connection' }).click();
    await visible(dialog.getByText('did not confirm the removal'), 'the provider error in the dialog');
    assert.equal((await app.api('GET', '/api/connections')).json.connections.length, 1, 'the connection is kept');
    await shot(page, 'revenue-remove-failed');
    await dialog.getByRole('button', { name: 'Remove locally anyway' }).click();
    await visible(page.getByText('Whop removed locally'), 'the warning after a forced remove');
    await visible(page.getByText('No provider connected'));
    assert.equal((await app.api('GET', '/api/connections')).json.connections.length, 0);
    assert.equal((await fakes.state()).whop_webhooks.length, 1, 'the webhook is still at Whop, as the warning says');
    await noErrorBanner(page);
  });
});
