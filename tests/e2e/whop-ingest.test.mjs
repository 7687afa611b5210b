// Issue 4 against the real backend: connect Whop through the UI (the fake Whop API of
// crates/faurya-fakes hands out the webhook secret), POST signed Standard Webhooks deliveries to
// the app's public listener, and watch them arrive in the inspector without a reload; then the
// detail pane, Reprocess, Payments (currencies, attribution, a refund) and the Overview totals.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchChromium, newPage } from './support/browser.mjs';
import { fakesSkipReason, startFakeProviders } from './support/fake-providers.mjs';
import { startFaurya } from './support/faurya.mjs';
import { newId, postWhop, rawJson, whopPayment, whopRefund } from './support/deliveries.mjs';
import { shot } from './support/paths.mjs';
import { noErrorBanner, seeHeading, settled, visible } from './support/ui-checks.mjs';

describe('Whop deliveries in the inspector and in Payments (issue 4)', { skip: fakesSkipReason() }, () => {
  let fakes;
  let app;
  let browser;
  let page;
  /** The public listener's receiver for our connection, and the secret Whop signs with. */
  let hookUrl;
  let secret;
  const sent = {};

  const row = (id) => page.locator(`table.data tbody tr:has(a[href="#/webhooks/${id}"])`);
  const rowCount = () => page.locator('table.data tbody tr').count();

  before(async () => {
    fakes = await startFakeProviders();
    app = await startFaurya({
      env: { FAURYA_WHOP_API_BASE: fakes.whopBase, FAURYA_PADDLE_API_BASE: fakes.paddleBase },
    });
    assert.equal((await app.api('PUT', '/api/settings', { public_url: 'https://hooks.example.com' })).status, 200);
    await fakes.addWhopKey('apik_e2e_ingest_8b2e', 'biz_e2e', true);
    browser = await launchChromium();
    ({ page } = await newPage(browser, { permissions: ['clipboard-read', 'clipboard-write'] }));
    await page.goto(app.loginUrl);
    await seeHeading(page, 'Overview');
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await fakes?.stop();
  });

  test('connect Whop through the Revenue tab', async () => {
    await page.goto(app.adminUrl + '/#/revenue');
    await settled(page);
    await page.getByLabel('Whop API Key').fill('apik_e2e_ingest_8b2e');
    await page.getByLabel('Whop Company ID').fill('biz_e2e');
    await page.getByRole('button', { name: 'Connect Whop' }).click();
    await visible(page.getByText('••••••••8b2e'), 'masked key');

    const { whop } = await fakes.secrets();
    assert.equal(whop.length, 1, 'one webhook at the fake');
    secret = whop[0].secret;
    // The webhook points at the public URL; the test reaches the same path on the listener.
    hookUrl = app.publicUrl + new URL(whop[0].url).pathname;
    assert.match(hookUrl, /\/webhooks\/whop\/con_\w+$/);
  });

  test('signed deliveries appear live with processed, duplicate, failed, ignored and rejected badges', async () => {
    await page.goto(app.adminUrl + '/#/webhooks');
    await settled(page);
    await visible(page.getByText('No deliveries yet'), 'the empty inspector');
    await visible(
      page.locator('.topbar').getByText('Auto-refresh on', { exact: true }),
      'the live stream is connected',
    );
    await page.evaluate(() => (window.__sameDocument = true));

    // A USD payment with attribution, as Whop writes it (a decimal total in major units).
    const usd = whopPayment({
      total: '49.00',
      currency: 'usd',
      email: 'zoë@example.com',
      metadata: { faurya_visitor_id: 'v_8f3a2c', faurya_session_id: 's_51be0d', note: 'Zoë ☕ paid' },
    });
    sent.usd = { payment: usd, ...(await postWhop(hookUrl, secret, rawJson(usd) + '\n')) };
    assert.equal(sent.usd.status, 200);
    assert.equal(sent.usd.json.status, 'processed');
    await visible(row(sent.usd.json.id).getByText('processed'), 'the payment row, without a reload');
    assert.equal(await rowCount(), 1);

    // The same delivery again (Whop retries with the same webhook-id).
    sent.repeat = await postWhop(hookUrl, secret, sent.usd.body, { webhookId: sent.usd.webhookId });
    assert.equal(sent.repeat.json.status, 'duplicate');
    await visible(row(sent.repeat.json.id).getByText('duplicate'), 'the repeat');

    // A validly signed body that is not JSON: stored, answered 200, marked failed.
    sent.broken = await postWhop(hookUrl, secret, 'payment=ok&total=49');
    assert.equal(sent.broken.status, 200);
    await visible(row(sent.broken.json.id).getByText('failed'), 'the unparseable delivery');

    // A bad signature: 401, kept in the rejected-attempts log.
    sent.forged = await postWhop(hookUrl, secret, rawJson(whopPayment({ total: '999.00', currency: 'usd' })), {
      signature: 'v1,' + Buffer.alloc(32, 7).toString('base64'),
    });
    assert.equal(sent.forged.status, 401);
    assert.equal(sent.forged.json.error.code, 'bad_signature');
    const rejectedRow = page.locator('table.data tbody tr', { hasText: 'Bad signature' });
    await visible(rejectedRow.getByText('rejected'), 'the rejected attempt');
    await visible(rejectedRow.getByText('401'), 'its HTTP status');

    // An unattributed JPY payment (no minor unit), an event type without revenue, and a refund.
    const jpy = whopPayment({ total: 3000, currency: 'jpy', email: 'taro@example.jp' });
    sent.jpy = { payment: jpy, ...(await postWhop(hookUrl, secret, rawJson(jpy))) };
    await visible(row(sent.jpy.json.id).getByText('¥3,000'), 'the JPY amount');
    const other = { id: newId('msg_'), type: 'membership.activated', data: { id: 'mem_1' } };
    sent.ignored = await postWhop(hookUrl, secret, JSON.stringify(other));
    await visible(row(sent.ignored.json.id).getByText('ignored'), 'the ignored event');
    const refund = whopRefund({ paymentId: usd.data.id, amount: '10.00', currency: 'usd' });
    sent.refund = await postWhop(hookUrl, secret, rawJson(refund));
    await visible(row(sent.refund.json.id).getByText('processed'), 'the refund');
    await visible(row(sent.refund.json.id).getByText('refund.created'), 'the refund type');

    assert.equal(await rowCount(), 7);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload happened');
    await noErrorBanner(page);
    await shot(page, 'webhooks', { fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'webhooks-dark', { fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  test('the detail pane shows every header, the byte-exact body, the payment and a curl replay', async () => {
    const id = sent.usd.json.id;
    await row(id).getByRole('link').click();
    assert.equal(new URL(page.url()).hash, `#/webhooks/${id}`);
    const pane = page.locator('section.detail');
    await visible(pane.getByRole('heading', { level: 2, name: 'payment.succeeded' }), 'detail heading');
    await visible(pane.getByText('Signature verified'), 'verdict');
    await visible(pane.getByText(`payment ${sent.usd.payment.data.id} recorded`), 'the processing note');
    await visible(pane.getByRole('cell', { name: sent.usd.webhookId, exact: true }), 'the webhook-id header');
    await visible(pane.getByRole('cell', { name: 'webhook-signature', exact: true }), 'the signature header');
    // The payment linked to it, with the refund taken off.
    await visible(pane.getByText('v_8f3a2c'), 'visitor id');
    await visible(pane.getByText('s_51be0d'), 'session id');
    await visible(pane.getByText('$39.00'), 'net after the refund');
    await pane.locator('.detail-body').evaluate((el) => (el.scrollTop = 0));
    await shot(page, 'webhooks-detail');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'webhooks-detail-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    // Raw: exactly the bytes that were sent, in the pane and from the download endpoint.
    await pane.getByRole('tab', { name: 'Raw' }).click();
    assert.equal(await pane.locator('pre.raw').textContent(), sent.usd.body.toString('utf8'));
    const raw = await page.evaluate(async (u) => {
      const res = await fetch(u);
      return btoa(String.fromCharCode(...new Uint8Array(await res.arrayBuffer())));
    }, `/api/events/${id}/raw`);
    assert.equal(Buffer.from(raw, 'base64').compare(sent.usd.body), 0, 'the raw download is byte-exact');
    await pane.getByRole('button', { name: 'Copy raw', exact: true }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), sent.usd.body.toString('utf8'));

    // Copy as curl replays to the connection's webhook URL with the delivery's headers.
    await pane.getByRole('button', { name: 'Copy as curl' }).click();
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    const { whop } = await fakes.secrets();
    assert.ok(
      curl.startsWith(
        `printf %s '${sent.usd.body.toString('base64')}' | base64 -d | curl -sS -X POST '${whop[0].url}'`,
      ),
      curl.slice(0, 160),
    );
    assert.ok(curl.includes(`-H 'webhook-id: ${sent.usd.webhookId}'`));
    assert.ok(curl.includes('--data-binary @-'));
    assert.ok(!/-H 'host:/i.test(curl) && !/-H 'content-length:/i.test(curl));
  });

  test('a repeat links to its original and cannot be reprocessed; a rejected attempt says why', async () => {
    const pane = page.locator('section.detail');
    await row(sent.repeat.json.id).getByRole('link').click();
    await visible(pane.getByText('Counted as a repeat'), 'the repeat note');
    assert.equal(await pane.getByRole('button', { name: 'Reprocess' }).count(), 0);
    // The note's id is a link to the original.
    await pane.getByRole('note').getByRole('button', { name: sent.usd.json.id }).click();
    assert.equal(new URL(page.url()).hash, `#/webhooks/${sent.usd.json.id}`);
    await visible(pane.getByRole('button', { name: 'Reprocess' }), 'Reprocess on the original');

    await page.locator('table.data tbody tr', { hasText: 'Bad signature' }).getByRole('link').click();
    await visible(pane.getByText('Rejected with HTTP 401 · Bad signature'), 'status and reason');
    await visible(pane.getByText('bad_signature'), 'the reason code');
    await visible(pane.getByText('Signature rejected'), 'verdict');
    assert.equal(await pane.getByRole('button', { name: 'Reprocess' }).count(), 0);
    // A rejected attempt's bytes are anyone's to write: no shell command is made of them.
    assert.equal(await pane.getByRole('button', { name: 'Copy as curl' }).count(), 0);
    await pane.locator('.detail-body').evaluate((el) => (el.scrollTop = 0));
    await shot(page, 'webhooks-rejected');

    await row(sent.ignored.json.id).getByRole('link').click();
    await visible(pane.getByText('Ignored', { exact: true }), 'the ignored note title');
    await visible(pane.getByText('membership.activated: not an event Faurya records revenue from'), 'why');
    await noErrorBanner(page);

    // A link to a delivery that is not there (404) is explained, not an error.
    await page.goto(app.adminUrl + '/#/webhooks/r_9999');
    await visible(pane.getByText('No such delivery'), 'the missing delivery');
    await noErrorBanner(page);
  });

  test('Reprocess parses a failed delivery again and shows the outcome', async () => {
    const pane = page.locator('section.detail');
    await row(sent.broken.json.id).getByRole('link').click();
    await visible(pane.getByText('Processing failed'), 'the failure');
    await visible(pane.getByText('The body is not JSON', { exact: false }), 'the parse error');
    await pane.getByRole('tab', { name: 'Raw' }).click();
    assert.equal(await pane.locator('pre.raw').textContent(), 'payment=ok&total=49');
    await pane.getByRole('button', { name: 'Reprocess' }).click();
    // The body is still not JSON, so the answer is "still failed" (no fix in between).
    await visible(pane.getByText('Reprocessed: still failed.'), 'the reprocess result');
    const { json } = await app.api('GET', `/api/events/${sent.broken.json.id}`);
    assert.equal(json.status, 'failed');
    await page.keyboard.press('Escape');
    assert.equal(new URL(page.url()).hash, '#/webhooks');
  });

  test('filters narrow the list on the server', async () => {
    await page.getByLabel('Status').selectOption('rejected');
    await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 1);
    await visible(page.locator('table.data tbody tr', { hasText: 'Bad signature' }), 'the rejected attempt');
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Event type').selectOption('refund.created');
    await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 1);
    await page.getByLabel('Event type').selectOption('');
    await page.getByLabel('Search raw bodies').fill('taro@example.jp');
    await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 1);
    await visible(row(sent.jpy.json.id), 'the JPY delivery');
    await page.getByLabel('Search raw bodies').fill('');
    await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 7);
  });

  test('Payments shows each amount in its currency, attribution, Unattributed and the refund', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Payments' }).click();
    await settled(page);
    const usdRow = page.locator('table.data tbody tr', { hasText: sent.usd.payment.data.id });
    const jpyRow = page.locator('table.data tbody tr', { hasText: sent.jpy.payment.data.id });
    await visible(usdRow.getByRole('cell', { name: '$49.00', exact: true }), 'USD amount');
    await visible(usdRow.getByRole('cell', { name: '−$10.00' }), 'refunded');
    await visible(usdRow.getByRole('cell', { name: '$39.00', exact: true }), 'net after the refund');
    await visible(usdRow.getByText('v_8f3a2c'), 'visitor id');
    await visible(usdRow.getByText('s_51be0d'), 'session id');
    await visible(jpyRow.getByRole('cell', { name: '¥3,000', exact: true }).first(), 'JPY without decimals');
    await jpyRow.getByRole('button', { name: /Unattributed/ }).click();
    await visible(page.getByRole('note').filter({ hasText: 'faurya_session_id' }), 'how to fix attribution');
    assert.equal(await page.locator('table.data tbody tr').count(), 2, 'the repeat made no second payment');

    // A refund of the older JPY payment updates its row in place, live.
    await postWhop(
      hookUrl,
      secret,
      rawJson(whopRefund({ paymentId: sent.jpy.payment.data.id, amount: 1000, currency: 'jpy' })),
    );
    await visible(jpyRow.getByRole('cell', { name: '−¥1,000' }), 'the JPY refund, live');
    await visible(jpyRow.getByRole('cell', { name: '¥2,000', exact: true }), 'the JPY net after it');

    // A new payment shows up live here too.
    const later = whopPayment({ total: '19.90', currency: 'eur', metadata: { faurya_visitor_id: 'v_live' } });
    await postWhop(hookUrl, secret, rawJson(later));
    await visible(
      page.locator('table.data tbody tr', { hasText: later.data.id }).getByText('€19.90').first(),
      'live payment',
    );
    await noErrorBanner(page);

    // The payment id links to the delivery that recorded it.
    await usdRow.getByRole('link', { name: sent.usd.payment.data.id }).click();
    await visible(page.locator('section.detail').getByRole('heading', { level: 2, name: 'payment.succeeded' }));
    assert.equal(new URL(page.url()).hash, `#/webhooks/${sent.usd.json.id}`);
  });

  test('Overview totals come from the revenue summary, per currency', async () => {
    await page.goto(app.adminUrl + '/#/overview');
    await settled(page);
    await page.getByLabel('Currency', { exact: true }).selectOption('USD');
    const kpi = (label) => page.locator('.kpi', { has: page.getByText(label, { exact: true }) });
    await visible(kpi('Net revenue').getByText('$39.00'), 'USD net');
    await visible(kpi('Gross').getByText('$49.00'), 'USD gross');
    await visible(kpi('Refunds').getByText('−$10.00'), 'USD refunds');
    await visible(kpi('Payments').getByText('3', { exact: true }), 'payments in every currency');
    await visible(page.getByRole('heading', { name: 'By currency' }), 'per-currency table');
    await visible(page.locator('.u-over'), 'the chart');
    await page.getByLabel('Currency', { exact: true }).selectOption('JPY');
    await visible(kpi('Net revenue').getByText('¥2,000'), 'JPY net after its refund');
    await noErrorBanner(page);
  });

  test('"Load more" pages through older deliveries', async () => {
    const bodies = Array.from({ length: 50 }, (_, i) =>
      JSON.stringify({ id: newId('msg_'), type: 'membership.deactivated', data: { n: i } }),
    );
    for (const b of bodies) assert.equal((await postWhop(hookUrl, secret, b)).status, 200);
    const total = (await app.api('GET', '/api/events?limit=200')).json.events.length;
    assert.equal(total, 59, '9 earlier deliveries and 50 new ones');
    await page.goto(app.adminUrl + '/#/webhooks');
    await settled(page);
    await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 50);
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.waitForFunction((n) => document.querySelectorAll('table.data tbody tr').length === n, total);
    await visible(page.getByText(`${total} deliveries · that is all`), 'the end of the list');
  });

  test('a rejected attempt over 64 KiB keeps a prefix, and the pane says it cannot be replayed', async () => {
    const big = Buffer.alloc(100 * 1024, 'x');
    const res = await postWhop(hookUrl, secret, big, { signature: 'v1,' + Buffer.alloc(32).toString('base64') });
    assert.equal(res.status, 401);
    const [latest] = (await app.api('GET', '/api/events?status=rejected&limit=1')).json.events;
    await page.goto(app.adminUrl + `/#/webhooks/${latest.id}`);
    const pane = page.locator('section.detail');
    await visible(pane.getByText('Body truncated'), 'the truncation notice');
    await visible(
      pane.getByText('Only the first 64 KiB of the 100 KiB received were kept', { exact: false }),
      'how much',
    );
    await visible(pane.getByText('102,400 bytes · truncated'), 'the body size');
    assert.equal(await pane.getByRole('button', { name: 'Copy as curl' }).count(), 0, 'no replay of a partial body');
    await noErrorBanner(page);
  });
});
