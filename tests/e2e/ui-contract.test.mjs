// What the real backend cannot be made to answer on demand: a build without the later endpoints
// (or without the tunnel), and a server-side 422 field error on the connect form. An in-memory
// admin API (support/fake-admin-api.mjs) answers in the shapes of docs/API.md. Every other
// behaviour, the tunnel included (tunnel.test.mjs), is tested against the real `faurya serve`.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium } from './support/browser.mjs';
import { withFakeApp } from './support/fake-app.mjs';
import { uiDist } from './support/paths.mjs';
import { noErrorBanner, seeHeading, settled, visible } from './support/ui-checks.mjs';

let browser;
before(async () => {
  assert.ok(existsSync(path.join(uiDist, 'index.html')), `no built UI in ${uiDist}: run "npm run build" in ui/`);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** Run `fn` with a fake admin API and a signed-in page. */
const withApp = (opts, fn) => withFakeApp(browser, opts, fn);

describe('a backend without the later endpoints', () => {
  test('every tab degrades to a "not available in this build" note, never an error', async () => {
    await withApp({ features: [] }, async (page) => {
      for (const [id, title] of [
        ['overview', 'Overview'],
        ['revenue', 'Revenue'],
        ['webhooks', 'Webhooks'],
        ['payments', 'Payments'],
        ['settings', 'Settings'],
      ]) {
        await page.goto(page.url().replace(/#.*$/, '') + `#/${id}`);
        await seeHeading(page, title);
        await settled(page);
        await noErrorBanner(page);
        await visible(page.getByText('not available in this build'), `note on ${title}`);
      }
      await page.goto(page.url().replace(/#.*$/, '') + '#/revenue');
      await visible(page.getByText('No provider connected'), '"No provider connected"');
      // A delivery link to an event that does not exist (404) is explained in the pane.
      await page.goto(page.url().replace(/#.*$/, '') + '#/webhooks/d_999');
      await settled(page);
      await noErrorBanner(page);
    });
  });
});

describe('field errors from the server', () => {
  test('a 422 lands under its field and is tied to it', async () => {
    await withApp({}, async (page, fake) => {
      fake.state.settings.public_url = 'https://hooks.example.com';
      await page.goto(fake.url + '/#/revenue');
      await page.reload();
      await settled(page);
      await page.getByLabel('Whop API Key').fill('server-says-no');
      await page.getByLabel('Whop Company ID').fill('biz_123');
      await page.getByRole('button', { name: 'Connect Whop' }).click();
      await visible(page.getByText('This key has the wrong format for Whop.'), 'API field error');
      const describedBy = await page.getByLabel('Whop API Key').getAttribute('aria-describedby');
      const errorId = await page
        .getByText('This key has the wrong format for Whop.')
        .evaluate((el) => el.closest('[id]').id);
      assert.ok(describedBy.split(' ').includes(errorId), 'the error is tied to the field');
      assert.equal(fake.state.requests.filter((r) => r === 'POST /api/connections/whop').length, 1);
    });
  });
});

describe('Settings from a backend without the tunnel', () => {
  test('without `tunnel` in the settings, the section explains the manual way and saves the URL', async () => {
    await withApp({ features: ['settings'] }, async (page, fake) => {
      await page.goto(page.url().replace(/#.*$/, '') + '#/settings');
      await settled(page);
      await visible(page.getByText('Built-in tunnels: not available in this build'), 'the note');
      await visible(page.getByText('cloudflared tunnel --url http://127.0.0.1:8787'), 'the manual command');
      assert.equal(await page.getByRole('radio', { name: 'Manual' }).count(), 0, 'no tunnel choices');
      await page.getByLabel('Public URL', { exact: true }).fill('https://hooks.example.com');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await visible(page.getByRole('status').filter({ hasText: 'Saved' }), 'saved');
      assert.equal(fake.state.settings.public_url, 'https://hooks.example.com');
      assert.equal(
        fake.state.lastSettingsPut,
        JSON.stringify({ public_url: 'https://hooks.example.com' }),
        'no `tunnel` sent',
      );
      await noErrorBanner(page);
    });
  });
});
