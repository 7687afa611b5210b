// Issue 13 against the fake admin API (support/fake-admin-api.mjs), which answers the contract of
// test payments, forwarding and the desktop switches and can be put in each state on demand:
//   1. "Send test payment" on a connection card: the progress, the steps as a checklist, links to
//      the delivery and the payment, the card's "Last test payment …" line; a failure names its
//      step and says why in plain words (role=alert); "Ask Whop/Paddle to send one"
//   1b. a backend without issue 13: nothing of it is offered, nothing fails
//   2. Payments: test payments with a Test badge, "Hide test payments", Remove one (confirmed in a
//      dialog), "Remove all test payments"; never in revenue
//   3. "Forward to your own handler" on the card: Save, the API's 422 under the field, Stop
//   4. the Webhooks inspector: the forward state in the list, the delivery's attempts (a 500, its
//      queued retry, the answer's body), "Forward again" (also to another URL), and why rejected
//      attempts and backfilled deliveries are not forwarded
//   5. Settings → Desktop: hidden under `faurya serve`, saved switch by switch in the desktop app
//   6. at 900 px and in dark mode: the test result and the forwarding section fit
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium } from './support/browser.mjs';
import { withFakeApp } from './support/fake-app.mjs';
import { shotOf, uiDist } from './support/paths.mjs';
import { noErrorBanner, seeHeading, settled, visible } from './support/ui-checks.mjs';

const PUBLIC_URL = 'https://quiet-river.trycloudflare.com';

let browser;
before(async () => {
  assert.ok(existsSync(path.join(uiDist, 'index.html')), `no built UI in ${uiDist}: run "npm run build" in ui/`);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/**
 * A fake admin API with a public URL (a cloudflared tunnel that is up) and the `providers`
 * connected, a signed-in page on it, and `fn(page, fake, connections)`.
 */
async function withConnected(providers, fn, { width = 1280, opts = {} } = {}) {
  await withFakeApp(
    browser,
    opts,
    async (page, fake) => {
      fake.state.settings.public_url = PUBLIC_URL;
      fake.state.settings.public_url_source = 'tunnel';
      Object.assign(fake.state.settings.tunnel, { backend: 'cloudflared', state: 'up', url: PUBLIC_URL });
      const conns = providers.map((p) => fake.connect(p));
      await page.reload();
      await seeHeading(page, 'Overview');
      await fn(page, fake, conns);
    },
    { width },
  );
}

/** Go to a page of the app (a hash route) and wait until it has loaded. */
async function open(page, fake, route, title) {
  await page.goto(`${fake.url}/#/${route}`);
  if (title) await seeHeading(page, title);
  await settled(page);
}

const card = (page, conn) => page.locator(`article.conn[data-connection="${conn.id}"]`);
const steps = (scope) =>
  scope
    .locator('[data-testid="test-run"] li[data-step]')
    .evaluateAll((els) => els.map((el) => [el.dataset.step, el.dataset.state]));

/** Wait until `check()` holds (something the fake saw), at most 5 s. */
async function until(check, what) {
  const end = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Call the fake's admin API as the UI would (the fake needs no token). */
async function api(fake, method, p, body) {
  const res = await fetch(fake.url + p, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

describe('1. test payments on the connection card', () => {
  test('Send test payment shows progress, then every step done and links to the delivery and the payment', async () => {
    await withConnected(['whop'], async (page, fake, [whop]) => {
      fake.state.testDelayMs = 900;
      await open(page, fake, 'revenue', 'Revenue');
      const c = card(page, whop);
      assert.equal(await c.getByTestId('last-test').count(), 0, 'no line before the first test');
      await c.getByRole('button', { name: 'Send test payment', exact: true }).click();
      // While it runs: both buttons wait, the progress says where it sends.
      await visible(
        c.getByRole('status').filter({ hasText: `Sending a test payment through ${PUBLIC_URL}` }),
        'the progress',
      );
      assert.equal(await c.getByRole('button', { name: 'Ask Whop to send one', exact: true }).isDisabled(), true);

      const result = c.locator('[data-testid="test-run"][data-ok="true"]');
      await visible(result, 'the passed run');
      await visible(result.getByText('Test payment passed', { exact: false }), 'the title');
      assert.deepEqual(await steps(c), [
        ['public_url', 'ok'],
        ['sign', 'ok'],
        ['send', 'ok'],
        ['verify', 'ok'],
        ['process', 'ok'],
      ]);
      // Each step says what it found, and its state in words for screen readers.
      await visible(result.getByText('payment.succeeded, $49.00'), "the sign step's detail");
      assert.match(await result.locator('li[data-step="send"]').innerText(), /Sent through the public URL/);
      assert.equal(await result.locator('li[data-step="send"] .sr-only').innerText(), ': done');

      const delivery = fake.state.events[0];
      const payment = fake.state.payments.find((p) => p.source === 'test');
      assert.equal(delivery.payment.id, payment.id);
      const toDelivery = result.getByRole('link', { name: `Open the delivery ${delivery.id}` });
      assert.equal(await toDelivery.getAttribute('href'), `#/webhooks/${delivery.id}`);
      const toPayment = result.getByRole('link', { name: 'Open the test payment' });
      assert.equal(await toPayment.getAttribute('href'), `#/payments/${payment.id}`);
      // The card's line, from the connection's `last_test`.
      await visible(c.getByTestId('last-test').getByText('Last test payment passed just now'), 'the last-test line');
      await noErrorBanner(page);
      await shotOf(page, c.getByTestId('test-payment'), 'revenue-test-payment-passed');

      await toDelivery.click();
      await page.waitForFunction((id) => location.hash === `#/webhooks/${id}`, delivery.id);
      await page.locator('#detail-h').waitFor();
      // Back on the card the result is folded into the last-test line: "Show steps" brings it back.
      await page.goBack();
      await settled(page);
      await c.getByRole('button', { name: 'Show steps' }).click();
      assert.equal(await c.getByRole('button', { name: 'Hide steps' }).getAttribute('aria-expanded'), 'true');
      await toPayment.click();
      await page.waitForFunction((id) => location.hash === `#/payments/${id}`, payment.id);
      await visible(
        page.locator('section.detail').getByText('Test payment', { exact: true }),
        "the payment's test note",
      );
    });
  });

  test('a failed test names its step and says why in plain words, as an alert; no public URL fails at the first step', async () => {
    await withConnected(['whop'], async (page, fake, [whop]) => {
      // The public URL does not answer (the tunnel's own test says so too).
      fake.state.tunnelTest = { ok: false, status: null, rtt_ms: null, error: 'connection refused' };
      await open(page, fake, 'revenue', 'Revenue');
      const c = card(page, whop);
      await c.getByRole('button', { name: 'Send test payment', exact: true }).click();
      const alert = c.getByRole('alert');
      await visible(alert, 'the alert');
      assert.match(await alert.innerText(), /Test payment failed at “Sent through the public URL”/);
      await visible(
        alert.getByText(
          `The tunnel is unreachable: ${PUBLIC_URL} did not answer (connection refused). Start the tunnel in Settings, then try again.`,
        ),
        'the reason in plain words',
      );
      assert.deepEqual(await steps(c), [
        ['public_url', 'ok'],
        ['sign', 'ok'],
        ['send', 'failed'],
        ['verify', 'skipped'],
        ['process', 'skipped'],
      ]);
      assert.equal(await c.locator('li[data-step="verify"] .sr-only').innerText(), ': skipped');
      assert.equal(await c.getByRole('link', { name: /Open the delivery/ }).count(), 0, 'no links after a failure');
      await visible(
        c
          .getByTestId('last-test')
          .getByText('Last test payment failed at “Sent through the public URL”', { exact: false }),
        'the line',
      );
      assert.equal(fake.state.payments.length, 0, 'no payment was made');
      await shotOf(page, c.getByTestId('test-payment'), 'revenue-test-payment-failed');

      // The tunnel goes down: there is no public URL, and the run stops at the first step.
      fake.state.tunnelTest = null;
      fake.setTunnel({ state: 'down', error: 'cloudflared exited (exit status: 1)' });
      await c.getByRole('button', { name: 'Send test payment', exact: true }).click();
      await page.waitForFunction(
        () => document.querySelector('[data-testid="test-run"] li[data-step="public_url"]')?.dataset.state === 'failed',
      );
      await visible(
        c.getByRole('alert').getByText('Test payment failed at “Public URL”', { exact: false }),
        'the first step',
      );
      await visible(
        c.getByRole('alert').getByText('the tunnel is down (cloudflared exited (exit status: 1))', { exact: false }),
        'why',
      );
    });
  });

  test('"Ask Whop to send one" and "Ask Paddle to send one" run the provider’s test', async () => {
    await withConnected(['whop', 'paddle'], async (page, fake, [whop, paddle]) => {
      await open(page, fake, 'revenue', 'Revenue');
      const w = card(page, whop);
      await w.getByRole('button', { name: 'Ask Whop to send one', exact: true }).click();
      await visible(w.locator('[data-testid="test-run"][data-ok="true"]'), 'the passed run');
      await visible(w.getByText('sent by Whop', { exact: false }), 'who sent it');
      assert.deepEqual(await steps(w), [
        ['public_url', 'ok'],
        ['ask_provider', 'ok'],
        ['send', 'ok'],
        ['verify', 'ok'],
        ['process', 'ok'],
      ]);
      await visible(w.getByText('Asked Whop to send a test'), 'the ask step');
      await visible(w.getByText("Whop's servers reached the public URL"), 'the send step');
      assert.equal(fake.state.connections.find((c) => c.id === whop.id).last_test.via, 'provider');

      // Paddle refuses: the key lacks the simulation permission.
      fake.state.providerTestRefusal = 'the key lacks notification_simulation.write';
      const p = card(page, paddle);
      await p.getByRole('button', { name: 'Ask Paddle to send one', exact: true }).click();
      await visible(
        p.getByRole('alert').getByText('Paddle refused: the key lacks notification_simulation.write'),
        'the refusal',
      );
      await visible(p.getByText("Asked Paddle's simulator to send a test"), 'the ask step');
      assert.deepEqual(
        (await steps(p)).map(([, s]) => s),
        ['ok', 'failed', 'skipped', 'skipped', 'skipped'],
      );

      // The API refuses a connection that is not active, and an unknown `via`.
      fake.setSync(whop.id, { state: 'pending' });
      assert.equal(
        (await api(fake, 'POST', `/api/connections/${whop.id}/test-payment`, { via: 'faurya' })).status,
        409,
      );
      const bad = await api(fake, 'POST', `/api/connections/${paddle.id}/test-payment`, { via: 'carrier-pigeon' });
      assert.equal(bad.status, 422);
      assert.ok(bad.body.error.fields.via);
    });
  });
});

describe('1b. a backend without issue 13', () => {
  test('the card offers neither test payments nor forwarding, and nothing fails', async () => {
    const before13 = [
      'settings',
      'connections',
      'events',
      'payments',
      'stream',
      'tunnel',
      'sites',
      'attribution',
      'backup',
    ];
    await withConnected(
      ['whop'],
      async (page, fake, [whop]) => {
        await open(page, fake, 'revenue', 'Revenue');
        const c = card(page, whop);
        await visible(c.getByRole('button', { name: 'Check for missed payments' }), 'the card');
        assert.equal(await c.getByRole('button', { name: 'Send test payment' }).count(), 0);
        assert.equal(await c.getByTestId('forwarding').count(), 0);
        const e = fake.deliver({ provider: 'whop', amount: 4900 });
        await open(page, fake, `webhooks/${e.id}`, 'Webhooks');
        await page.locator('#detail-h').waitFor();
        assert.equal(await page.getByTestId('event-forwarding').count(), 0);
        await open(page, fake, 'payments', 'Payments');
        assert.equal(await page.getByTestId('test-payments').count(), 0);
        await noErrorBanner(page);
      },
      { opts: { features: before13 } },
    );
  });
});

describe('2. test payments in Payments', () => {
  test('a Test badge, "Hide test payments", Remove one after confirming, then "Remove all test payments"', async () => {
    await withConnected(['whop'], async (page, fake, [whop]) => {
      fake.state.testDelayMs = 0;
      fake.deliver({ provider: 'whop', amount: 9900, attributed: false });
      for (let i = 0; i < 3; i++)
        assert.equal((await api(fake, 'POST', `/api/connections/${whop.id}/test-payment`, {})).body.ok, true);
      const real = fake.state.payments.find((p) => p.source !== 'test');
      const testIds = fake.state.payments.filter((p) => p.source === 'test').map((p) => p.id);
      assert.equal(testIds.length, 3);

      await open(page, fake, 'payments', 'Payments');
      const bar = page.getByTestId('test-payments');
      await visible(bar.getByText('3 test payments, marked Test.', { exact: false }), 'how many');
      await visible(
        bar.getByText('Test payments never count in revenue totals, the Overview or attribution.', { exact: false }),
        'never revenue',
      );
      const row = (id) => page.locator(`tr:has([data-payment="${id}"])`);
      await visible(row(testIds[0]).locator('.badge', { hasText: /^Test$/ }), 'the Test badge');
      assert.equal(
        await row(real.id)
          .locator('.badge', { hasText: /^Test$/ })
          .count(),
        0,
        'no badge on a real payment',
      );
      assert.equal(await page.locator('[data-payment]').count(), 4);

      // Hide them (kept in the URL), then show them again.
      await bar.getByLabel('Hide test payments').check();
      await page.waitForFunction(() => location.hash.includes('tests=hide'));
      await page.waitForFunction(() => document.querySelectorAll('[data-payment]').length === 1);
      await visible(page.getByText('3 tests hidden'), 'the count says so');
      await bar.getByLabel('Hide test payments').uncheck();
      await page.waitForFunction(() => document.querySelectorAll('[data-payment]').length === 4);

      // A real payment cannot be removed: no button, and the API refuses.
      await page.locator(`[data-payment="${real.id}"]`).click();
      await page.waitForFunction(() => document.activeElement?.id === 'payment-h');
      assert.equal(await page.getByRole('button', { name: 'Remove test payment' }).count(), 0);
      const refused = await api(fake, 'DELETE', `/api/payments/${real.id}`);
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error.code, 'not_a_test');

      // Remove one: its detail, the confirmation, gone with its delivery.
      const one = fake.state.payments.find((p) => p.id === testIds[0]);
      await page.locator(`[data-payment="${one.id}"]`).click();
      await page.waitForFunction(() => document.activeElement?.id === 'payment-h');
      await page.locator('section.detail').getByRole('button', { name: 'Remove test payment' }).click();
      const dialog = page.getByRole('dialog');
      await visible(dialog.getByRole('heading', { name: 'Remove this test payment of $49.00?' }), 'the confirmation');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
      assert.ok(
        fake.state.payments.some((p) => p.id === one.id),
        'kept after Cancel',
      );
      await page.locator('section.detail').getByRole('button', { name: 'Remove test payment' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Remove test payment' }).click();
      await visible(page.getByText('Test payment removed, with its delivery.'), 'the confirmation note');
      await page.locator('section.detail').waitFor({ state: 'detached' });
      assert.ok(!fake.state.payments.some((p) => p.id === one.id), 'removed');
      assert.ok(!fake.state.events.some((e) => e.id === one.delivery_id), 'its delivery too');
      await page.waitForFunction(() => document.querySelectorAll('[data-payment]').length === 3);
      await visible(bar.getByText('2 test payments', { exact: false }), 'the count follows');

      // Remove all.
      await bar.getByRole('button', { name: 'Remove all test payments' }).click();
      await visible(
        page.getByRole('dialog').getByRole('heading', { name: 'Remove all 2 test payments?' }),
        'the confirmation',
      );
      await page.getByRole('dialog').getByRole('button', { name: 'Remove all test payments' }).click();
      await visible(page.getByText('Removed 2 test payments, with their deliveries.'), 'the note');
      await page.getByTestId('test-payments').waitFor({ state: 'detached' });
      assert.deepEqual(
        fake.state.payments.map((p) => p.id),
        [real.id],
      );
      await page.waitForFunction(() => document.querySelectorAll('[data-payment]').length === 1);
      // Focus did not get lost with the button: it is on the remaining payment.
      await page.waitForFunction((id) => document.activeElement?.getAttribute('data-payment') === String(id), real.id);
      await noErrorBanner(page);
    });
  });
});

describe('3. forwarding on the connection card', () => {
  test('Save a Forward URL, the API’s 422 under the field, then Stop forwarding', async () => {
    await withConnected(['whop'], async (page, fake, [whop]) => {
      await open(page, fake, 'revenue', 'Revenue');
      const c = card(page, whop);
      const section = c.getByTestId('forwarding');
      await section.locator('summary').click();
      await visible(
        section.getByText(
          "Once Faurya has stored a verified delivery, it sends the exact body with Whop's original signature headers to this URL",
          { exact: false },
        ),
        'the explanation',
      );
      await visible(
        section.getByText('never delays the 200 Whop gets from Faurya', { exact: false }),
        'no delay for the provider',
      );
      const field = section.getByLabel('Forward URL', { exact: true });
      assert.equal(await field.getAttribute('placeholder'), 'http://localhost:3000/api/webhooks/whop');

      // The API checks the URL: its message under the field, the field marked.
      await field.fill('ftp://localhost/hooks');
      await section.getByRole('button', { name: 'Save', exact: true }).click();
      await visible(section.getByText('Use an http:// or https:// URL, not ftp://.'), 'the field error');
      assert.equal(await field.getAttribute('aria-invalid'), 'true');
      assert.match(await field.getAttribute('aria-describedby'), /-err/);
      assert.equal(fake.state.connections[0].forward_url, null);
      await field.fill('http://user:secret@localhost:3000/api/webhooks/whop');
      await section.getByRole('button', { name: 'Save', exact: true }).click();
      await visible(section.getByText('Leave credentials out of the URL', { exact: false }), 'credentials refused');

      await field.fill('http://localhost:3000/api/webhooks/whop');
      assert.equal(await field.getAttribute('aria-invalid'), null, 'the error goes while typing');
      await section.getByRole('button', { name: 'Save', exact: true }).click();
      await visible(
        section
          .getByRole('status')
          .filter({ hasText: 'Saved: new deliveries are forwarded to http://localhost:3000/api/webhooks/whop.' }),
        'saved',
      );
      assert.equal(fake.state.connections[0].forward_url, 'http://localhost:3000/api/webhooks/whop');
      await visible(section.locator('summary').getByText('on', { exact: true }), 'the summary says on');
      await noErrorBanner(page);
      await shotOf(page, section, 'revenue-forwarding');

      // After a reload the section is open with the URL.
      await page.reload();
      await settled(page);
      assert.equal(await c.getByTestId('forwarding').getAttribute('open'), '');
      assert.equal(
        await c.getByLabel('Forward URL', { exact: true }).inputValue(),
        'http://localhost:3000/api/webhooks/whop',
      );

      await c.getByRole('button', { name: 'Stop forwarding' }).click();
      await visible(c.getByRole('status').filter({ hasText: 'Forwarding stopped.' }), 'stopped');
      assert.equal(fake.state.connections[0].forward_url, null);
      assert.equal(await c.getByLabel('Forward URL', { exact: true }).inputValue(), '');
      assert.equal(await c.getByRole('button', { name: 'Stop forwarding' }).count(), 0);
    });
  });
});

describe('4. forwarding in the Webhooks inspector', () => {
  test('the forward state in the list, the attempts, Forward again (also to another URL), and what is never forwarded', async () => {
    await withConnected(['whop'], async (page, fake, [whop]) => {
      fake.state.connections[0].forward_url = 'http://localhost:3000/api/webhooks/whop';
      // The handler fails once (500), then answers 200.
      fake.state.forwardAnswers = [
        {
          status: 500,
          body: '{"error":"TypeError: Cannot read properties of undefined (reading \'metadata\')"}',
          ms: 8,
        },
      ];
      const e = fake.deliver({ provider: 'whop', amount: 4900 });
      const rejected = fake.deliver({ provider: 'whop', status: 'rejected' });
      const backfilled = fake.deliver({ provider: 'whop', amount: 2900 });
      backfilled.delivery_id = 'backfill:pay_7Hx2';
      backfilled.forwards = [];

      await open(page, fake, 'webhooks', 'Webhooks');
      const mark = page.locator(`tr:has([data-event="${e.id}"]) [data-forward]`);
      await visible(mark, 'the forward state in the row');
      assert.equal(await mark.getAttribute('data-forward'), 'retrying');
      assert.equal((await mark.innerText()).trim(), 'forward retrying');
      assert.equal(
        await page.locator(`tr:has([data-event="${rejected.id}"]) [data-forward]`).count(),
        0,
        'none on a rejected attempt',
      );

      await page.locator(`[data-event="${e.id}"]`).click();
      const section = page.getByTestId('event-forwarding');
      await visible(section.getByRole('heading', { name: 'Forwarding' }), 'the section');
      await visible(section.getByText('forward retrying · 1 attempt'), 'the state');
      await visible(section.getByText('Next automatic attempt at', { exact: false }), 'the next retry');
      const attempts = section.getByRole('list', { name: 'Forward attempts, newest first' });
      const items = attempts.locator('li[data-attempt]');
      assert.equal(await items.count(), 2, 'the 500 and its queued retry');
      assert.match(await items.nth(0).innerText(), /queued[\s\S]*Attempt 2 · automatic[\s\S]*Due /);
      assert.match(await items.nth(1).innerText(), /HTTP 500[\s\S]*Attempt 1 · automatic[\s\S]*8 ms/);
      await items.nth(1).getByText('Response body').click();
      await visible(
        items.nth(1).getByText("TypeError: Cannot read properties of undefined (reading 'metadata')", { exact: false }),
        'the cut answer',
      );

      // Forward again: to the connection's target, answered 200.
      await section.getByRole('button', { name: 'Forward again', exact: true }).click();
      await visible(section.getByRole('status').filter({ hasText: 'Forwarded: HTTP 200 in 12 ms.' }), 'the outcome');
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid="event-forwarding"] li[data-attempt]').length === 3,
      );
      assert.match(await items.nth(0).innerText(), /HTTP 200[\s\S]*Attempt 1 · manual/);
      assert.equal(e.forwards[0].manual, true);

      // The queued retry's time comes: delivered, in the pane and in the list (the stream says so).
      fake.runDueForwards();
      await visible(section.getByText('forwarded · 3 attempts'), 'delivered');
      await page.waitForFunction(
        (id) => document.querySelector(`tr:has([data-event="${id}"]) [data-forward]`)?.dataset.forward === 'delivered',
        e.id,
      );
      assert.equal(await section.getByText('Next automatic attempt at', { exact: false }).count(), 0);

      // Another target: the API's 422 under the field, then a good URL (it answers 500).
      const other = section.getByLabel('Other target URL', { exact: true });
      await other.fill('localhost:4000/hooks#x');
      await section.getByRole('button', { name: 'Forward again', exact: true }).click();
      await visible(section.locator('.field .error'), 'the field error');
      assert.equal(await other.getAttribute('aria-invalid'), 'true');
      fake.state.forwardAnswers = [{ status: 500, body: 'Internal Server Error' }];
      await other.fill('http://localhost:4000/api/webhooks/whop');
      await section.getByRole('button', { name: 'Forward again', exact: true }).click();
      await visible(section.getByRole('status').filter({ hasText: 'Not accepted: HTTP 500' }), 'the failed outcome');
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid="event-forwarding"] li[data-attempt]').length === 4,
      );
      await visible(
        items.nth(0).getByText('http://localhost:4000/api/webhooks/whop'),
        'the other URL is shown on its attempt',
      );
      assert.equal(e.forwards[0].url, 'http://localhost:4000/api/webhooks/whop');
      await noErrorBanner(page);
      await shotOf(page, section, 'webhooks-forwarding');

      // A rejected attempt and a backfilled delivery: one line why, no button.
      for (const [ev, why] of [
        [rejected, 'Rejected attempts are never forwarded'],
        [backfilled, 'Backfilled deliveries are not forwarded'],
      ]) {
        await page.goto(`${fake.url}/#/webhooks/${ev.id}`);
        await settled(page);
        await visible(page.getByTestId('event-forwarding').getByText(why, { exact: false }), why);
        assert.equal(await page.getByRole('button', { name: 'Forward again' }).count(), 0);
        const refused = await api(fake, 'POST', `/api/events/${ev.id}/forward`, {});
        assert.equal(refused.status, 409);
        assert.equal(refused.body.error.code, 'not_forwardable');
      }

      // Without a target: the API's 409 in words, with what to do.
      assert.equal((await api(fake, 'PATCH', `/api/connections/${whop.id}`, { forward_url: null })).status, 200);
      const fresh = fake.deliver({ provider: 'whop', amount: 1900 });
      await page.goto(`${fake.url}/#/webhooks/${fresh.id}`);
      await settled(page);
      const s = page.getByTestId('event-forwarding');
      await visible(s.getByText('Not forwarded: this connection has no forward URL.', { exact: false }), 'no target');
      await s.getByRole('button', { name: 'Forward again', exact: true }).click();
      await visible(s.getByRole('alert').getByText('This connection forwards nowhere', { exact: false }), 'no_target');
    });
  });
});

describe('5. Settings → Desktop', () => {
  test('hidden under `faurya serve`', async () => {
    await withFakeApp(browser, {}, async (page, fake) => {
      await open(page, fake, 'settings', 'Settings');
      await visible(page.getByRole('heading', { name: 'Webhook verification' }), 'the page');
      assert.equal(await page.getByRole('heading', { name: 'Desktop' }).count(), 0);
      for (const name of ['Notify me of new payments', 'Also notify for test payments', 'Start Faurya at login'])
        assert.equal(await page.getByRole('switch', { name }).count(), 0, name);
    });
  });

  test('in the desktop app each switch is saved with PUT /api/settings', async () => {
    await withConnected(
      ['whop'],
      async (page, fake) => {
        await open(page, fake, 'settings', 'Settings');
        const section = page.getByTestId('desktop-section');
        await visible(section.getByRole('heading', { name: 'Desktop' }), 'the section');
        await visible(
          section.getByText('Closing the window keeps Faurya running in the tray', { exact: false }),
          'the tray line',
        );
        await visible(section.getByText('Quit is in the tray menu', { exact: false }), 'where Quit is');
        const notify = section.getByRole('switch', { name: 'Notify me of new payments', exact: true });
        const tests = section.getByRole('switch', { name: 'Also notify for test payments', exact: true });
        const login = section.getByRole('switch', { name: 'Start Faurya at login', exact: true });
        assert.equal(await notify.isChecked(), true);
        assert.equal(await tests.isChecked(), false);
        // On by itself since a provider is connected, and it says so.
        assert.equal(await login.isChecked(), true);
        await visible(
          section.getByText('Turned on when you connected your first provider', { exact: false }),
          'why it is on',
        );
        await shotOf(page, section, 'settings-desktop');

        await tests.check();
        await visible(section.getByRole('status').filter({ hasText: 'Saved' }), 'saved');
        assert.equal(fake.state.lastSettingsPut, JSON.stringify({ notify_test_payments: true }));
        assert.equal(fake.state.settings.desktop.notify_test_payments, true);

        await login.uncheck();
        await until(() => fake.state.lastSettingsPut === JSON.stringify({ start_at_login: false }), 'the PUT');
        assert.equal(fake.state.settings.desktop.start_at_login, false);
        assert.equal(fake.state.settings.desktop.start_at_login_set, true);

        await notify.uncheck();
        await until(() => fake.state.lastSettingsPut === JSON.stringify({ notify_payments: false }), 'the PUT');
        // "Also…" needs notifications on.
        assert.equal(await tests.isDisabled(), true);

        // Kept across a reload.
        await page.reload();
        await settled(page);
        assert.equal(await page.getByRole('switch', { name: 'Notify me of new payments' }).isChecked(), false);
        assert.equal(await page.getByRole('switch', { name: 'Start Faurya at login' }).isChecked(), false);
        // The API takes booleans only.
        assert.equal((await api(fake, 'PUT', '/api/settings', { notify_payments: 'yes' })).status, 422);
        await noErrorBanner(page);
      },
      { opts: { desktop: true } },
    );
  });
});

describe('6. at 900 px and in dark mode', () => {
  test('the test result and the forwarding section fit the card, in light and dark', async () => {
    await withConnected(
      ['whop'],
      async (page, fake, [whop]) => {
        fake.state.tunnelTest = { ok: false, status: null, rtt_ms: null, error: 'connection refused' };
        fake.state.connections[0].forward_url = 'http://localhost:3000/api/webhooks/whop';
        await open(page, fake, 'revenue', 'Revenue');
        const c = card(page, whop);
        await c.getByRole('button', { name: 'Send test payment', exact: true }).click();
        await visible(c.getByRole('alert'), 'the failed run');
        // Forwarding is on: the section is open.
        await visible(c.getByLabel('Forward URL', { exact: true }), 'the forwarding form');
        const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
        assert.ok(fits, 'no sideways scrolling at 900 px');
        for (const part of ['[data-testid="test-payment"]', '[data-testid="forwarding"]']) {
          const over = await c
            .locator(part)
            .evaluate((el) =>
              [...el.querySelectorAll('*')]
                .filter((x) => x.getBoundingClientRect().right > el.getBoundingClientRect().right + 1)
                .map((x) => x.className || x.tagName),
            );
          assert.deepEqual(over, [], `${part}: nothing sticks out`);
        }
        await shotOf(page, c, 'revenue-test-payment-900');
        await page.emulateMedia({ colorScheme: 'dark' });
        await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
        await shotOf(page, c.getByTestId('test-payment'), 'revenue-test-payment-dark');
        await shotOf(page, c.getByTestId('forwarding'), 'revenue-forwarding-dark');
      },
      { width: 900 },
    );
  });
});
