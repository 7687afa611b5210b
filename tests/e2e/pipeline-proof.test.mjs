// Issue 13 against the real backend: "Send test payment" (Faurya signs it and sends it through the
// public URL, which points at the real public listener as a working tunnel would; and Whop's own
// test webhook from the fake Whop), the Test badge and removal in Payments, and forwarding a
// verified delivery to a local handler with its exact bytes and signature, shown in the
// inspector. Screenshots for the README.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { launchChromium, newPage } from './support/browser.mjs';
import { postWhop, whopPayment, whopSignature } from './support/deliveries.mjs';
import { startFaurya } from './support/faurya.mjs';
import { fakesSkipReason, startFakeProviders } from './support/fake-providers.mjs';
import { shot } from './support/paths.mjs';
import { noErrorBanner, seeHeading, settled, visible } from './support/ui-checks.mjs';

/** A local handler that records what it receives and answers 200. */
async function startHandler() {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"received":true}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/api/webhooks/whop`, received, close: () => server.close() };
}

describe('prove the pipeline: test payments and forwarding', { skip: fakesSkipReason() }, () => {
  let fakes;
  let app;
  let browser;
  let page;
  let handler;

  before(async () => {
    fakes = await startFakeProviders();
    app = await startFaurya({
      env: { FAURYA_WHOP_API_BASE: fakes.whopBase, FAURYA_PADDLE_API_BASE: fakes.paddleBase },
    });
    // The public URL reaches this app's public listener, as a working tunnel does.
    assert.equal((await app.api('PUT', '/api/settings', { public_url: app.publicUrl })).status, 200);
    handler = await startHandler();
    browser = await launchChromium();
    ({ page } = await newPage(browser));
    await page.goto(app.loginUrl);
    await seeHeading(page, 'Overview');
    await fakes.addWhopKey('apik_e2e_proof_7c21', 'biz_proof', true);
    await page.goto(app.adminUrl + '/#/revenue');
    await settled(page);
    await page.getByLabel('Whop API Key').fill('apik_e2e_proof_7c21');
    await page.getByLabel('Whop Company ID').fill('biz_proof');
    await page.getByRole('button', { name: 'Connect Whop' }).click();
    await visible(page.getByText('••••••••7c21'), 'connected');
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await fakes?.stop();
    handler?.close();
  });

  test('Send test payment goes through the public URL, is marked Test and counts nowhere', async () => {
    await page.getByRole('button', { name: 'Send test payment' }).click();
    await visible(page.getByText('Test payment passed'), 'the run passed');
    const [connection] = (await app.api('GET', '/api/connections')).json.connections;
    assert.equal(connection.last_test.ok, true, JSON.stringify(connection.last_test));
    assert.deepEqual(
      connection.last_test.steps.map((s) => [s.key, s.state]),
      [
        ['public_url', 'ok'],
        ['sign', 'ok'],
        ['send', 'ok'],
        ['verify', 'ok'],
        ['process', 'ok'],
      ],
    );
    await noErrorBanner(page);
    await shot(page, 'pipeline-test-payment', { fullPage: true });

    // Whop's own servers (the fake) send one too.
    await page.getByRole('button', { name: 'Ask Whop to send one' }).click();
    await visible(page.getByText('sent by Whop').first(), 'the provider run');
    await visible(page.getByText('Test payment passed').first(), 'the provider run passed');

    const payments = (await app.api('GET', '/api/payments')).json.payments;
    assert.equal(payments.length, 2);
    assert.ok(
      payments.every((p) => p.source === 'test'),
      JSON.stringify(payments),
    );
    const summary = (await app.api('GET', '/api/revenue/summary')).json;
    assert.deepEqual(summary.all_time, [], 'test payments never count');

    await page.goto(app.adminUrl + '/#/payments');
    await settled(page);
    await visible(page.getByText('Test', { exact: true }).first(), 'the Test badge');
    await page.getByRole('button', { name: 'Remove all test payments' }).click();
    await page
      .getByRole('dialog')
      .getByRole('button', { name: /Remove/ })
      .click();
    await page.waitForFunction(async (base) => {
      const res = await fetch(base + '/api/payments');
      return (await res.json()).payments.length === 0;
    }, app.adminUrl);
  });

  test('a verified delivery is forwarded to the local handler byte-exact and shown in the inspector', async () => {
    await page.goto(app.adminUrl + '/#/revenue');
    await settled(page);
    await page.getByText('Forward to your own handler').click();
    await page.getByLabel('Forward URL').fill(handler.url);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForFunction(async (base) => {
      const res = await fetch(base + '/api/connections');
      return (await res.json()).connections[0]?.forward_url != null;
    }, app.adminUrl);

    const { whop } = await fakes.secrets();
    const hook = whop[0];
    const body = JSON.stringify(whopPayment({ total: 19.0, currency: 'usd' }));
    const res = await postWhop(hook.url.replace(/^https?:\/\/[^/]+/, app.publicUrl), hook.secret, body, {
      webhookId: 'msg_forward_e2e',
    });
    assert.equal(res.status, 200);
    const receipt = res.json;
    for (let i = 0; i < 100 && handler.received.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(handler.received.length, 1, 'the handler got it');
    const got = handler.received[0];
    assert.equal(got.body.toString(), body, 'exact bytes');
    assert.equal(got.headers['webhook-id'], 'msg_forward_e2e');
    assert.equal(
      got.headers['webhook-signature'],
      whopSignature(hook.secret, 'msg_forward_e2e', Number(got.headers['webhook-timestamp']), body),
    );

    await page.goto(`${app.adminUrl}/#/webhooks/${receipt.id}`);
    await settled(page);
    await visible(page.getByText('Forwarding', { exact: true }).first(), 'the forwarding section');
    await visible(page.getByText('HTTP 200').first(), 'the handler answer');
    await page.getByRole('button', { name: 'Forward again' }).click();
    await page.waitForFunction(() => document.body.innerText.includes('manual'));
    assert.equal(handler.received.length, 2, 'sent again by hand');
    await shot(page, 'pipeline-forwarding', { fullPage: true });
  });
});
