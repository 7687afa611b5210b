// Issue 5 against the real backend: connect Paddle through the UI (fake Paddle API), POST signed
// notifications built from the spec's webhook examples (crates/faurya/tests/fixtures/paddle), and
// see them in the inspector and in Payments next to a Whop payment, with the provider filter; an
// approved refund adjustment reduces net; Remove deletes the notification setting first.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchChromium, newPage } from './support/browser.mjs';
import { fakesSkipReason, startFakeProviders } from './support/fake-providers.mjs';
import { startFaurya } from './support/faurya.mjs';
import { paddleRefund, paddleTransaction, postPaddle, postWhop, rawJson, whopPayment } from './support/deliveries.mjs';
import { shot } from './support/paths.mjs';
import { noErrorBanner, seeHeading, settled, visible } from './support/ui-checks.mjs';

describe('Paddle next to Whop (issue 5)', { skip: fakesSkipReason() }, () => {
  let fakes;
  let app;
  let browser;
  let page;
  let paddleUrl;
  let paddleSecret;
  let paddleConnection;
  let whopHook;
  const sent = {};

  const rows = () => page.locator('table.data tbody tr');
  const row = (id) => page.locator(`table.data tbody tr:has(a[href="#/webhooks/${id}"])`);

  before(async () => {
    fakes = await startFakeProviders();
    app = await startFaurya({
      env: { FAURYA_WHOP_API_BASE: fakes.whopBase, FAURYA_PADDLE_API_BASE: fakes.paddleBase },
    });
    assert.equal((await app.api('PUT', '/api/settings', { public_url: 'https://hooks.example.com' })).status, 200);

    // Whop is connected already (through the API: its UI flow has its own test) and was paid once.
    await fakes.addWhopKey('apik_e2e_mixed_41aa', 'biz_mixed', true);
    const whop = await app.api('POST', '/api/connections/whop', {
      api_key: 'apik_e2e_mixed_41aa',
      company_id: 'biz_mixed',
      environment: 'production',
    });
    assert.equal(whop.status, 201);
    const [hook] = (await fakes.secrets()).whop;
    whopHook = { url: app.publicUrl + new URL(hook.url).pathname, secret: hook.secret };
    sent.whop = whopPayment({
      total: '79.00',
      currency: 'usd',
      metadata: { faurya_visitor_id: 'v_whop1', faurya_session_id: 's_whop1' },
    });
    const r = await postWhop(whopHook.url, whopHook.secret, rawJson(sent.whop));
    assert.equal(r.json.status, 'processed');

    await fakes.addPaddleKey('pdl_sdbx_apikey_e2e_90fe');
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

  test('connect Paddle (Sandbox) through the Revenue tab, next to Whop', async () => {
    await page.goto(app.adminUrl + '/#/revenue');
    await settled(page);
    await visible(page.getByRole('heading', { name: 'Whop', exact: true }), 'the Whop card');
    await page.getByRole('radio', { name: 'Paddle', exact: true }).check();
    await page.getByLabel('Paddle API Key').fill('pdl_sdbx_apikey_e2e_90fe');
    await visible(page.getByText('looks like a sandbox key'), 'the Live/Sandbox warning');
    await page.getByRole('radio', { name: 'Sandbox' }).check();
    await page.getByRole('button', { name: 'Connect Paddle' }).click();
    await visible(page.getByText('••••••••90fe'), 'masked key');
    await noErrorBanner(page);

    const { paddle } = await fakes.secrets();
    assert.equal(paddle.length, 1, 'one notification setting at the fake');
    paddleSecret = paddle[0].secret;
    paddleUrl = app.publicUrl + new URL(paddle[0].destination).pathname;
    paddleConnection = paddleUrl.split('/').pop();
    await visible(page.getByText(paddle[0].destination), 'the destination URL on the card');
    await shot(page, 'paddle-connected', { fullPage: true });
  });

  test('notifications from the spec examples appear live; the provider filter separates them', async () => {
    await page.goto(app.adminUrl + '/#/webhooks');
    await settled(page);
    assert.equal(await rows().count(), 1, 'the Whop payment');

    const eur = paddleTransaction({
      total: 2500,
      currency: 'EUR',
      customData: { faVisitorId: 'v_pdl_77', faSessionId: 's_pdl_77', orderId: 'ord_1042' },
    });
    sent.eur = { ...eur, ...(await postPaddle(paddleUrl, paddleSecret, JSON.stringify(eur.event, null, 2))) };
    assert.equal(sent.eur.json.status, 'processed');
    await visible(row(sent.eur.json.id).getByText('€25.00'), 'the EUR transaction, live');

    // transaction.paid for the same transaction: the payment is recorded once.
    const paid = paddleTransaction({
      type: 'paid',
      txnId: eur.txnId,
      total: 2500,
      currency: 'EUR',
      customData: eur.event.data.custom_data,
    });
    sent.paid = await postPaddle(paddleUrl, paddleSecret, JSON.stringify(paid.event));
    assert.equal(sent.paid.json.status, 'duplicate');
    await visible(row(sent.paid.json.id).getByText('duplicate'), 'the second event for the transaction');

    // An unattributed transaction in a three-decimal currency.
    const kwd = paddleTransaction({ total: 12500, currency: 'KWD' });
    sent.kwd = { ...kwd, ...(await postPaddle(paddleUrl, paddleSecret, JSON.stringify(kwd.event))) };
    await visible(row(sent.kwd.json.id).getByText('KWD 12.500'), 'KWD with three decimals');

    // A refund adjustment: created pending approval (not deducted), then approved.
    const pending = paddleRefund({
      type: 'created',
      txnId: eur.txnId,
      amount: 500,
      currency: 'EUR',
      status: 'pending_approval',
    });
    sent.pending = await postPaddle(paddleUrl, paddleSecret, JSON.stringify(pending.event));
    await visible(row(sent.pending.json.id).getByText('adjustment.created'), 'the pending adjustment');
    const approved = paddleRefund({
      type: 'updated',
      adjId: pending.adjId,
      txnId: eur.txnId,
      amount: 500,
      currency: 'EUR',
    });
    sent.approved = await postPaddle(paddleUrl, paddleSecret, JSON.stringify(approved.event));
    await visible(row(sent.approved.json.id).getByText('adjustment.updated'), 'the approved adjustment');

    // A forged signature.
    const forged = await postPaddle(paddleUrl, paddleSecret, JSON.stringify(kwd.event), {
      signature: `ts=${Math.floor(Date.now() / 1000)};h1=${'0'.repeat(64)}`,
    });
    assert.equal(forged.status, 401);
    await visible(rows().filter({ hasText: 'Bad signature' }), 'the rejected attempt');
    assert.equal(await rows().count(), 7);

    // The repeat's note names the delivery that recorded the payment.
    await row(sent.paid.json.id).getByRole('link').click();
    const pane = page.locator('section.detail');
    await visible(pane.getByText(`payment ${eur.txnId} was already recorded by`, { exact: false }), 'the note');
    await pane.getByRole('note').getByRole('button', { name: sent.eur.json.id }).click();
    await visible(pane.getByText('ord_1042'), 'the order id on the linked payment');
    await visible(pane.getByText('v_pdl_77'), 'the visitor id');
    await page.keyboard.press('Escape');

    await page.getByLabel('Provider').selectOption('paddle');
    await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 6);
    assert.ok((await rows().allInnerTexts()).every((t) => t.includes('Paddle')));
    await page.getByLabel('Provider').selectOption('whop');
    await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 1);
    await visible(rows().filter({ hasText: 'Whop' }), 'the Whop delivery');
    await page.getByLabel('Provider').selectOption('');
    await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 7);
    await noErrorBanner(page);
  });

  test('Payments lists Paddle next to Whop; the approved refund reduces net; the filter works', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Payments' }).click();
    await settled(page);
    assert.equal(await rows().count(), 3);
    const eurRow = rows().filter({ hasText: sent.eur.txnId });
    await visible(eurRow.getByRole('cell', { name: '€25.00', exact: true }), 'EUR amount');
    await visible(eurRow.getByRole('cell', { name: '−€5.00' }), 'the approved refund');
    await visible(eurRow.getByRole('cell', { name: '€20.00', exact: true }), 'net after the refund');
    await visible(eurRow.getByText('ord_1042'), 'order id');
    await visible(eurRow.getByText('partly refunded'), 'the status after the refund');
    await visible(eurRow.getByTitle("The provider's status: completed"), 'Paddle status');
    const kwdRow = rows().filter({ hasText: sent.kwd.txnId });
    await visible(kwdRow.getByRole('cell', { name: 'KWD 12.500', exact: true }).first(), 'KWD amount');
    await visible(kwdRow.getByRole('button', { name: /Unattributed/ }), 'unattributed');
    await visible(
      rows().filter({ hasText: sent.whop.data.id }).getByRole('cell', { name: '$79.00', exact: true }).first(),
      'the Whop payment',
    );
    await noErrorBanner(page);
    await shot(page, 'payments', { fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'payments-dark', { fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });

    await page.getByLabel('Provider').selectOption('paddle');
    await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 2);
    assert.ok((await rows().allInnerTexts()).every((t) => t.includes('Paddle')));
    await page.getByLabel('Provider').selectOption('whop');
    await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 1);
    await page.getByLabel('Provider').selectOption('');
  });

  test('Overview sums each currency separately', async () => {
    await page.goto(app.adminUrl + '/#/overview');
    await settled(page);
    const kpi = (label) => page.locator('.kpi', { has: page.getByText(label, { exact: true }) });
    await page.getByLabel('Currency', { exact: true }).selectOption('EUR');
    await visible(kpi('Net revenue').getByText('€20.00'), 'EUR net after the refund');
    await visible(kpi('Refunds').getByText('−€5.00'), 'EUR refunds');
    await visible(kpi('Payments').getByText('3', { exact: true }), 'every payment');
    await visible(kpi('Attributed').getByText('67%'), 'two of three attributed');
    const byCurrency = page.getByRole('region', { name: 'By currency' });
    for (const [cur, net] of [
      ['USD', '$79.00'],
      ['EUR', '€20.00'],
      ['KWD', 'KWD 12.500'],
    ]) {
      await visible(
        byCurrency
          .getByRole('row', { name: new RegExp(`^${cur}`) })
          .getByText(net)
          .first(),
        `${cur} row`,
      );
    }
    await page.getByLabel('Currency', { exact: true }).selectOption('USD');
    await visible(kpi('Net revenue').getByText('$79.00'), 'USD net');
    await noErrorBanner(page);

    // Whop payments paid on earlier days (as a late or replayed delivery would carry them) fill
    // the daily chart; the Overview follows live, and the bars add up to the net figure.
    const history = [
      [27, '49.00'],
      [24, '99.00'],
      [21, '49.00'],
      [18, '149.00'],
      [15, '49.00'],
      [13, '79.00'],
      [11, '99.00'],
      [9, '49.00'],
      [6, '199.00'],
      [4, '49.00'],
      [2, '99.00'],
      [1, '29.00'],
    ];
    for (const [daysAgo, total] of history) {
      const paidAt = new Date(Date.now() - daysAgo * 86_400_000).toISOString();
      const meta =
        daysAgo % 4 === 0 ? null : { faurya_visitor_id: `v_hist${daysAgo}`, faurya_session_id: `s_hist${daysAgo}` };
      const r = await postWhop(
        whopHook.url,
        whopHook.secret,
        rawJson(whopPayment({ total, currency: 'usd', paidAt, metadata: meta })),
      );
      assert.equal(r.json.status, 'processed');
    }
    const usdNet = 7900 + history.reduce((n, [, t]) => n + Math.round(Number(t) * 100), 0);
    const usdText = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(usdNet / 100);
    await visible(kpi('Net revenue').getByText(usdText), 'the new USD net, live');
    const chartLabel = await page.getByRole('img', { name: /Net revenue per day in USD/ }).getAttribute('aria-label');
    assert.ok(chartLabel.includes(`${usdText} over 30 days`), chartLabel);
    await shot(page, 'overview', { fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'overview-dark', { fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  test('Remove deletes the notification setting at Paddle first; later deliveries are refused', async () => {
    await page.goto(app.adminUrl + '/#/revenue');
    await settled(page);
    const card = page.locator('article', { has: page.getByRole('heading', { name: 'Paddle', exact: true }) });
    await card.getByRole('button', { name: 'Remove', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove connection' }).click();
    await visible(page.getByText('Paddle removed'), 'confirmation');
    assert.equal(await card.count(), 0);
    await visible(page.getByRole('heading', { name: 'Whop', exact: true }), 'Whop stays connected');
    const deletes = (await fakes.requests()).filter(
      (r) => r.method === 'DELETE' && r.path.includes('/notification-settings/'),
    );
    assert.equal(deletes.length, 1, 'the fake saw the DELETE');
    assert.equal((await fakes.state()).paddle_destinations.length, 0);

    // Paddle might still deliver (retries): the app answers 410 and the inspector says why.
    const late = paddleTransaction({ total: 100, currency: 'EUR' });
    const res = await postPaddle(paddleUrl, paddleSecret, JSON.stringify(late.event));
    assert.equal(res.status, 410);
    await page.goto(app.adminUrl + '/#/webhooks');
    await settled(page);
    await visible(rows().filter({ hasText: 'Connection removed' }).getByText('410'), 'the refused delivery');
    assert.ok(paddleConnection);
  });
});
