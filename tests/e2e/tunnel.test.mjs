// Issue 6 through the UI, against the real backend: choose a tunnel in Settings, watch its state
// change live (the SSE `tunnel` event), and "Test delivery path".
//   (a) Manual with the app's own public listener → up, the test reaches Faurya with a round trip
//   (b) cloudflared = the fake of crates/faurya/tests/fixtures/fake-cloudflared.py → starting, then
//       up with its trycloudflare-like URL; a connected Whop account (faurya-fakes) follows the
//       tunnel when cloudflared dies and comes back with a new URL: PATCH, never a second create
//   (c) cloudflared not installed (FAURYA_CLOUDFLARED names a missing file) → down, install hint
//   (d) ngrok without an authtoken → the API's field error under the authtoken field
//   (e) bore: remote port 0 by default; a stored secret survives saving again, "Clear" removes it
// Screenshots of the tunnel section in each state.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium, newPage } from './support/browser.mjs';
import { fakesSkipReason, startFakeProviders } from './support/fake-providers.mjs';
import { startFaurya } from './support/faurya.mjs';
import { repoRoot, shotOf, uiDist } from './support/paths.mjs';
import { noErrorBanner, seeHeading, settled, visible } from './support/ui-checks.mjs';

const FAKE_CLOUDFLARED = path.join(repoRoot, 'crates', 'faurya', 'tests', 'fixtures', 'fake-cloudflared.py');

/** The tunnel section of Settings, and its state as the page shows it. */
const section = (page) => page.getByTestId('tunnel-section');
const shownState = (page) => page.getByTestId('tunnel-state').getAttribute('data-state');

/** Waits until the section shows `state` (the live stream moves it; nothing reloads). */
async function waitState(page, state, timeout = 15_000) {
  await page
    .locator(`[data-testid="tunnel-state"][data-state="${state}"]`)
    .waitFor({ state: 'visible', timeout })
    .catch(async (e) => {
      throw new Error(`tunnel state never showed "${state}" (it shows "${await shownState(page)}"): ${e.message}`);
    });
}

/** Every PUT /api/settings body the page sends, parsed. */
function recordSettingsPuts(page) {
  const bodies = [];
  page.on('request', (req) => {
    if (req.method() === 'PUT' && new URL(req.url()).pathname === '/api/settings')
      bodies.push(JSON.parse(req.postData()));
  });
  return bodies;
}

async function chooseBackend(page, label) {
  await section(page).getByRole('radio', { name: label, exact: true }).check();
}

async function save(page) {
  await section(page).getByRole('button', { name: 'Save', exact: true }).click();
}

before(() => {
  assert.ok(existsSync(path.join(uiDist, 'index.html')), `no built UI in ${uiDist}: run "npm run build" in ui/`);
});

describe('tunnel settings: manual, ngrok, bore, cloudflared not installed', () => {
  let app;
  let browser;
  let page;
  let puts;

  before(async () => {
    app = await startFaurya({ env: { FAURYA_CLOUDFLARED: '/nonexistent/faurya-e2e/cloudflared' } });
    browser = await launchChromium();
    ({ page } = await newPage(browser));
    puts = recordSettingsPuts(page);
    await page.goto(app.loginUrl);
    await seeHeading(page, 'Overview');
    await page.goto(app.adminUrl + '/#/settings');
    await seeHeading(page, 'Settings');
    await settled(page);
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  test('(a) manual with the public listener: up at the server, but flagged as this computer only, even after the test', async () => {
    assert.equal(await shownState(page), 'off');
    await visible(section(page).getByText('no tunnel is chosen', { exact: false }), 'why there is no URL');

    await chooseBackend(page, 'Manual');
    await section(page).getByLabel('Public URL', { exact: true }).fill(app.publicUrl);
    await save(page);
    await waitState(page, 'up');
    assert.deepEqual(puts.at(-1), { tunnel: { backend: 'manual' }, public_url: app.publicUrl });
    assert.equal(await page.getByTestId('public-url').innerText(), app.publicUrl);

    await section(page).getByRole('button', { name: 'Test delivery path' }).click();
    const result = page.getByTestId('tunnel-test-result');
    await visible(result.getByText('Reached Faurya through', { exact: false }), 'the test result');
    const text = await result.innerText();
    assert.ok(text.includes(`${app.publicUrl}/healthz`), text);
    assert.match(text, /in \d+ ms/, 'the round-trip time');
    // 127.0.0.1 only proves this computer reaches itself: never shown as up or verified.
    assert.ok(text.includes('only from this computer'), text);
    assert.equal(await page.getByTestId('tunnel-state').getAttribute('data-shown'), 'not-public');
    assert.ok(!(await page.getByTestId('tunnel-state').innerText()).includes('up'), 'not shown as up');
    await visible(
      section(page)
        .getByTestId('reach-warning')
        .getByText('only proves this computer reaches itself', { exact: false }),
      'the inline warning',
    );
    await noErrorBanner(page);
    await shotOf(page, section(page), 'settings-tunnel-up');
  });

  test('(d) ngrok without an authtoken: the field error from the API, under the field', async () => {
    const before = puts.length;
    await chooseBackend(page, 'ngrok');
    await visible(section(page).getByText('Reserved domain (recommended)'), 'the domain field');
    await save(page);
    const field = section(page).getByLabel('ngrok authtoken');
    const message = section(page).getByText('Paste your ngrok authtoken', { exact: false });
    await visible(message, 'the authtoken error');
    assert.deepEqual(
      puts.slice(before),
      [{ tunnel: { backend: 'ngrok' } }],
      'the API was asked, with no authtoken key',
    );
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    const errorId = await message.evaluate((el) => el.closest('[id]').id);
    assert.ok(
      (await field.getAttribute('aria-describedby')).split(' ').includes(errorId),
      'the error is tied to the field',
    );
    // Nothing changed on the server: still the manual tunnel, up.
    assert.equal(await shownState(page), 'up');
    assert.equal((await app.api('GET', '/api/settings')).json.tunnel.backend, 'manual');
    await shotOf(page, section(page), 'settings-tunnel-ngrok-error');
    await section(page).getByRole('button', { name: 'Discard changes' }).click();
  });

  test('(e) bore: remote port 0 by default, a stored secret is kept on save and removed only by Clear', async () => {
    const first = puts.length;
    await chooseBackend(page, 'bore');
    const port = section(page).getByLabel('Remote port (0 = any)');
    assert.equal(await port.inputValue(), '0');
    await section(page).getByLabel('bore server host').fill('127.0.0.1');
    await section(page).getByLabel('Secret', { exact: true }).fill('e2e-bore-secret');
    await save(page);
    await visible(section(page).getByText('Stored encrypted', { exact: false }), 'the secret is stored');
    assert.deepEqual(puts.slice(first), [
      { tunnel: { backend: 'bore', bore: { host: '127.0.0.1', secret: 'e2e-bore-secret' } } },
    ]);
    let bore = (await app.api('GET', '/api/settings')).json.tunnel.bore;
    assert.deepEqual(bore, { host: '127.0.0.1', port: 0, secret_set: true, public_url: null });
    // Nothing listens on 127.0.0.1:7835: down with bore's reason, retried.
    await waitState(page, 'down');
    await visible(section(page).getByText('The tunnel is down'), 'the error');

    // Saving another field again must not send (and so not clear) the secret.
    await section(page).getByLabel('bore public URL (for https)').fill('https://hooks.example.com');
    await save(page);
    await visible(section(page).getByRole('status').filter({ hasText: 'Saved' }), 'saved');
    assert.deepEqual(puts.at(-1), { tunnel: { backend: 'bore', bore: { public_url: 'https://hooks.example.com' } } });
    bore = (await app.api('GET', '/api/settings')).json.tunnel.bore;
    assert.equal(bore.secret_set, true, 'the secret survived');
    assert.equal(bore.public_url, 'https://hooks.example.com');

    // 7835 is bore's control port: refused before it is sent.
    await port.fill('7835');
    await save(page);
    await visible(section(page).getByText("7835 is bore's control port", { exact: false }), 'the port rule');
    await port.fill('4000');
    await save(page);
    await visible(section(page).getByRole('status').filter({ hasText: 'Saved' }), 'saved');
    assert.deepEqual(puts.at(-1), { tunnel: { backend: 'bore', bore: { port: 4000 } } });
    await shotOf(page, section(page), 'settings-tunnel-bore');

    await section(page).getByRole('button', { name: 'Clear the stored secret' }).click();
    await visible(section(page).getByText('Removed when you save.'), 'the pending clear');
    await save(page);
    await visible(section(page).getByRole('status').filter({ hasText: 'Saved' }), 'saved');
    assert.deepEqual(puts.at(-1), { tunnel: { backend: 'bore', bore: { secret: null } } });
    assert.equal((await app.api('GET', '/api/settings')).json.tunnel.bore.secret_set, false, 'cleared');
  });

  test('(c) cloudflared not installed: down, with how to install it', async () => {
    await chooseBackend(page, 'Cloudflare quick tunnel');
    // Said before saving, too.
    await visible(section(page).getByText('Install cloudflared first'), 'the hint before saving');
    await save(page);
    await waitState(page, 'down');
    const notice = section(page).getByRole('alert').filter({ hasText: 'cloudflared is not installed' });
    await visible(notice, 'the not-installed notice');
    const text = await notice.innerText();
    assert.ok(text.includes('/nonexistent/faurya-e2e/cloudflared'), `says where it looked: ${text}`);
    const { install_hint } = (await app.api('GET', '/api/settings')).json.tunnel.cloudflared;
    assert.ok(install_hint.length > 20);
    // How to install it, this computer's system (Linux here) first, each command with its copy button.
    await visible(notice.getByText('this looks like Linux', { exact: false }), 'the detected system');
    await visible(
      notice.getByRole('button', { name: 'Copy: sudo dpkg -i cloudflared.deb' }),
      'a copy button per command',
    );
    assert.equal(await page.getByTestId('cloudflared-install').count(), 1, `the install steps appear once: ${text}`);
    // "Check again" asks the server and says what it found.
    await notice.getByRole('button', { name: 'Check again' }).click();
    await visible(notice.getByText('Still not found', { exact: false }), 'the answer of Check again');
    assert.equal(await page.getByTestId('public-url').count(), 0, 'no public URL while down');
    await shotOf(page, section(page), 'settings-tunnel-down');

    // Connecting a provider now explains the tunnel is down.
    await page.goto(app.adminUrl + '/#/revenue');
    await visible(page.getByText('The tunnel is down'), 'the Revenue hint');
  });
});

describe('cloudflared quick tunnel with a connected Whop account', { skip: fakesSkipReason() }, () => {
  let app;
  let fakes;
  let browser;
  let page;
  let dir;

  before(async () => {
    // The fake cloudflared, behind a wrapper that takes a moment to start like the real one does,
    // so "starting" is on screen long enough to be seen. Its files (mode, pid, runs) live here.
    dir = mkdtempSync(path.join(tmpdir(), 'faurya-e2e-cloudflared-'));
    copyFileSync(FAKE_CLOUDFLARED, path.join(dir, 'fake-cloudflared.py'));
    chmodSync(path.join(dir, 'fake-cloudflared.py'), 0o755);
    writeFileSync(path.join(dir, 'mode'), 'metrics');
    writeFileSync(
      path.join(dir, 'cloudflared'),
      '#!/bin/sh\nsleep 1.5\nexec python3 "$(dirname "$0")/fake-cloudflared.py" "$@"\n',
    );
    chmodSync(path.join(dir, 'cloudflared'), 0o755);

    fakes = await startFakeProviders();
    app = await startFaurya({
      env: {
        FAURYA_CLOUDFLARED: path.join(dir, 'cloudflared'),
        FAURYA_WHOP_API_BASE: fakes.whopBase,
        FAURYA_PADDLE_API_BASE: fakes.paddleBase,
      },
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
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('(b) starting, then up with the quick-tunnel URL; the Whop webhook follows a new URL by PATCH', async () => {
    await page.goto(app.adminUrl + '/#/settings');
    await settled(page);
    await chooseBackend(page, 'Cloudflare quick tunnel');
    await save(page);
    await waitState(page, 'starting', 5000);
    await visible(section(page).getByText('waiting for the tunnel to start', { exact: false }), 'no URL yet');
    await shotOf(page, section(page), 'settings-tunnel-starting');
    await waitState(page, 'up');
    assert.equal(await page.getByTestId('public-url').innerText(), 'https://quick-1.trycloudflare.com');
    await visible(
      section(page).getByText(`Faurya runs ${path.join(dir, 'cloudflared')}`, { exact: false }),
      'which binary runs',
    );
    await noErrorBanner(page);
    await shotOf(page, section(page), 'settings-tunnel-cloudflared');

    // Connect Whop: its webhook goes to the tunnel's URL.
    await fakes.addWhopKey('apik_e2e_tunnel_7d2e', 'biz_tunnel', true);
    await page.goto(app.adminUrl + '/#/revenue');
    await settled(page);
    await page.getByLabel('Whop API Key').fill('apik_e2e_tunnel_7d2e');
    await page.getByLabel('Whop Company ID').fill('biz_tunnel');
    await page.getByRole('button', { name: 'Connect Whop' }).click();
    const card = page.locator('article.conn');
    await visible(
      card.getByText('https://quick-1.trycloudflare.com/webhooks/whop/con_', { exact: false }),
      'the webhook URL',
    );
    await visible(card.getByTestId('card-tunnel').getByText('up', { exact: true }), 'the tunnel state on the card');
    assert.equal(await card.getByTestId('card-sync').getAttribute('data-state'), 'ok');

    // The first update is refused (a permissions hiccup at Whop): the card says so, and the
    // retry (sync back-off: 5 s) brings it in sync.
    await fakes.fail({ method: 'PATCH', path_contains: '/webhooks/', status: 403, times: 1 });
    // cloudflared dies; Faurya starts it again and it gets a new hostname.
    const pid = Number(readFileSync(path.join(dir, 'pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await visible(card.getByTestId('card-tunnel').getByText(/^(down|starting)$/), 'the card sees the tunnel go');
    await card.locator('[data-testid="card-sync"][data-state="failed"]').waitFor({ timeout: 15_000 });
    const syncError = card.getByRole('alert');
    await visible(syncError, 'the sync error');
    const syncText = await syncError.innerText();
    assert.ok(syncText.includes('https://quick-2.trycloudflare.com/webhooks/whop/'), `names the new URL: ${syncText}`);
    assert.ok(syncText.includes('keeps delivering to the webhook URL above'), syncText);
    assert.ok(
      (await card.getByText('https://quick-1.trycloudflare.com/webhooks/whop/con_', { exact: false }).count()) === 1,
      'the card still shows the URL Whop has',
    );
    await shotOf(page, card, 'revenue-tunnel-sync-failed');
    await card.locator('[data-testid="card-sync"][data-state="ok"]').waitFor({ timeout: 20_000 });
    const webhookUrl = card.getByText('https://quick-2.trycloudflare.com/webhooks/whop/con_', { exact: false });
    await visible(webhookUrl, 'the webhook URL follows the tunnel');
    await noErrorBanner(page);
    await shotOf(page, card, 'revenue-tunnel-synced');

    const connection = (await app.api('GET', '/api/connections')).json.connections[0];
    assert.equal(connection.webhook_url, `https://quick-2.trycloudflare.com/webhooks/whop/${connection.id}`);
    assert.equal(connection.sync.state, 'ok');
    const requests = await fakes.requests();
    const creates = requests.filter((r) => r.method === 'POST' && /\/webhooks$/.test(r.path));
    const patches = requests.filter(
      (r) => r.method === 'PATCH' && r.path.endsWith(`/webhooks/${connection.webhook_id}`),
    );
    assert.equal(creates.length, 1, 'one webhook created, never a second');
    assert.ok(patches.length >= 2, `refused once, then patched: ${JSON.stringify(patches)}`);
    assert.equal(patches.at(-1).body.url, connection.webhook_url);
    assert.equal((await fakes.state()).whop_webhooks.length, 1);
    assert.equal((await fakes.state()).whop_webhooks[0].url, connection.webhook_url);
  });
});
