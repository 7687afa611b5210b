// Issue 8, the tracker: the real /js/script.js from the real server, in Chromium, on a page served
// as http://shop.test:PORT/ (not localhost). Cookies, window variables, SPA navigation, UTM and
// referrer capture, goals queued before load, the offline queue, the opt-outs, and the size of the
// served bytes. What arrived is checked through the admin API (/api/sessions).
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { newPage } from './support/browser.mjs';
import { startFaurya } from './support/faurya.mjs';
import { launchForShop, queueStub, startShopSite } from './support/shop-site.mjs';
import {
  listedSession,
  pathOf,
  recordCookieWrites,
  sessionWhen,
  sleep,
  storedQueue,
  until,
  watchEvents,
} from './support/tracker-events.mjs';

const ID = /^[A-Za-z0-9_-]{8,64}$/;
const YEAR_S = 365 * 86400;
const SESSION_S = 30 * 60;

describe('the tracker script (issue 8)', () => {
  let app;
  let siteId;
  let shop;
  let browser;
  let eventUrl;
  const contexts = [];

  before(async () => {
    app = await startFaurya();
    const created = await app.api('POST', '/api/sites', { name: 'Shop', domains: ['shop.test'] });
    assert.equal(created.status, 201, `POST /api/sites: ${JSON.stringify(created.json)}`);
    siteId = created.json.id;
    assert.match(siteId, /^site_/);
    eventUrl = `${app.publicUrl}/api/event`;
    shop = await startShopSite({ scriptSrc: `${app.publicUrl}/js/script.js`, siteId });
    browser = await launchForShop();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await shop?.stop();
    await app?.stop();
  });

  /**
   * A fresh visitor (own cookies and storage) with the tracker's requests and console warnings
   * recorded. `init` scripts run before the page's own (e.g. to fake Do Not Track).
   */
  async function visitor({ attrs, before: inline, init = [] } = {}) {
    shop.serve({ attrs, before: inline });
    const { context, page } = await newPage(browser);
    contexts.push(context);
    for (const script of init) await context.addInitScript(script);
    const warnings = [];
    page.on('console', (m) => {
      if (m.type() === 'warning') warnings.push(m.text());
    });
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    return { context, page, events: watchEvents(page, eventUrl), warnings, pageErrors };
  }

  const fauryaCookies = async (context) => (await context.cookies()).filter((c) => c.name.startsWith('faurya_'));
  const windowIds = (page) =>
    page.evaluate(() => ({
      visitor: window.__FAURYA_VISITOR_ID__,
      session: window.__FAURYA_SESSION_ID__,
      token: window.__FAURYA_ATTRIBUTION_TOKEN__,
    }));

  test('the served script is JavaScript and at most 1.5 KB gzipped', async (t) => {
    const res = await fetch(`${app.publicUrl}/js/script.js`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^(text|application)\/javascript\b/);
    const bytes = Buffer.from(await res.arrayBuffer());
    const gzipped = gzipSync(bytes, { level: 9 }).length;
    t.diagnostic(`script.js: ${bytes.length} bytes, ${gzipped} bytes gzip -9`);
    assert.ok(gzipped <= 1536, `script.js is ${gzipped} bytes gzipped, more than 1536`);
    assert.ok(bytes.includes('faurya_visitor_id'), 'the tracker itself');
  });

  test('a pageview on load: first-party cookies, window variables, the token, the session', async () => {
    const { context, page, events, warnings, pageErrors } = await visitor({ init: [recordCookieWrites] });
    const t0 = Date.now();
    await page.goto(shop.url('/'));
    assert.equal(await page.evaluate(() => navigator.webdriver), false, 'Chromium must look like a visitor here');
    const [pageview] = await events.waitFor(1);
    const request = events.requests[0];
    assert.equal(request.method(), 'POST');
    assert.match(request.headers()['content-type'] ?? '', /^text\/plain\b/, 'text/plain: no CORS preflight');
    assert.doesNotMatch(await request.headerValue('user-agent'), /headless/i, 'a visitor, not a bot');

    const ids = await windowIds(page);
    assert.match(ids.visitor, ID);
    assert.match(ids.session, ID);
    assert.notEqual(ids.visitor, ids.session);
    const { ts, ...rest } = pageview;
    assert.deepEqual(rest, {
      site: siteId,
      name: 'pageview',
      url: shop.url('/'),
      referrer: null,
      visitor_id: ids.visitor,
      session_id: ids.session,
    });
    assert.ok(ts >= t0 - 1000 && ts <= Date.now(), `ts ${ts} is the time of the pageview`);

    const cookies = await fauryaCookies(context);
    const now = Date.now() / 1000;
    const visitorCookie = cookies.find((c) => c.name === 'faurya_visitor_id');
    const sessionCookie = cookies.find((c) => c.name === 'faurya_session_id');
    assert.deepEqual(cookies.map((c) => c.name).sort(), ['faurya_session_id', 'faurya_visitor_id']);
    for (const c of [visitorCookie, sessionCookie]) {
      assert.equal(c.sameSite, 'Lax', `${c.name} SameSite`);
      assert.equal(c.path, '/', `${c.name} path`);
      assert.equal(c.domain, 'shop.test', `${c.name} is host-only without data-cookie-domain`);
      assert.equal(c.secure, false, `${c.name} is not Secure on http:`);
      assert.equal(c.httpOnly, false);
    }
    assert.equal(visitorCookie.value, ids.visitor);
    assert.equal(sessionCookie.value, ids.session);
    assert.ok(
      Math.abs(visitorCookie.expires - (now + YEAR_S)) < 120,
      `visitor cookie for a year, got ${visitorCookie.expires - now} s`,
    );
    assert.ok(
      Math.abs(sessionCookie.expires - (now + SESSION_S)) < 120,
      `session cookie for 30 min, got ${sessionCookie.expires - now} s`,
    );
    // The attributes as written (the cookie jar would report a missing SameSite as Lax as well).
    const writes = await page.evaluate(() => window.__cookieWrites);
    for (const [name, maxAge] of [
      ['faurya_visitor_id', 31536000],
      ['faurya_session_id', 1800],
    ]) {
      const written = writes.filter((w) => w.startsWith(`${name}=`));
      assert.equal(written.length, 1, `${name} written once for one event: ${JSON.stringify(writes)}`);
      const attrs = written[0].toLowerCase().split(/;\s*/).slice(1);
      assert.ok(attrs.includes('samesite=lax'), `${name}: ${written[0]}`);
      assert.ok(attrs.includes('path=/'), `${name}: ${written[0]}`);
      assert.ok(attrs.includes(`max-age=${maxAge}`), `${name}: ${written[0]}`);
      assert.ok(!attrs.includes('secure'), `${name}: not Secure on http: ${written[0]}`);
      assert.ok(!attrs.some((a) => a.startsWith('domain=')), `${name}: host-only: ${written[0]}`);
    }

    const token = await until(() => page.evaluate(() => window.__FAURYA_ATTRIBUTION_TOKEN__), {
      message: 'the attribution token',
    });
    assert.equal(typeof token, 'string');
    assert.ok(token.length > 0);
    assert.equal(
      await page.evaluate(() => sessionStorage.getItem('faurya_token')),
      token,
      'kept for the next page load',
    );

    const listed = await listedSession(app, siteId, ids.session);
    assert.equal(listed.visitor_id, ids.visitor);
    assert.equal(listed.site_id, siteId);
    assert.equal(pathOf(listed.landing_page), '/');
    assert.equal(listed.referrer, null);
    assert.equal(listed.channel, 'Direct');
    assert.equal(listed.pageviews, 1);
    for (const key of [
      'started_at',
      'source',
      'utm_source',
      'utm_medium',
      'utm_campaign',
      'utm_term',
      'utm_content',
      'click_id',
    ])
      assert.ok(key in listed, `sessions carry ${key}`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(pageErrors, []);
  });

  test('the next page load reuses the ids, slides the session cookie and has the token before its answer', async () => {
    const { context, page, events } = await visitor();
    await page.goto(shop.url('/'));
    await events.waitFor(1);
    const first = await until(
      async () => {
        const ids = await windowIds(page);
        return ids.token && ids;
      },
      { message: 'the first token' },
    );
    const firstExpiry = (await fauryaCookies(context)).find((c) => c.name === 'faurya_session_id').expires;
    await sleep(1500);

    // Hold the second page's event until the page has been looked at.
    let release;
    let handled;
    const held = new Promise((resolve) => (release = resolve));
    const passed = new Promise((resolve) => (handled = resolve));
    await page.route(eventUrl, async (route) => {
      await held;
      await route.continue();
      handled();
    });
    await page.goto(shop.url('/pricing'));
    await events.waitFor(2);
    const during = await windowIds(page);
    assert.equal(during.visitor, first.visitor);
    assert.equal(during.session, first.session, 'the same session within 30 minutes');
    assert.equal(during.token, first.token, 'the token of the previous answer, from sessionStorage');
    release();
    await passed;
    await page.unroute(eventUrl);

    const cookies = await fauryaCookies(context);
    assert.equal(cookies.filter((c) => c.name === 'faurya_visitor_id').length, 1);
    const sessionCookie = cookies.find((c) => c.name === 'faurya_session_id');
    assert.equal(sessionCookie.value, first.session);
    assert.ok(sessionCookie.expires >= firstExpiry + 1, 'the session cookie got a new max-age with the event');

    const session = await sessionWhen(app, first.session, (s) => s.pageviews === 2, 'two pageviews');
    assert.deepEqual(
      session.events.map((e) => [e.name, e.path]),
      [
        ['pageview', '/'],
        ['pageview', '/pricing'],
      ],
    );
    assert.equal(pathOf(session.landing_page), '/', 'the landing page stays the first one');
    const after = await until(() => page.evaluate(() => window.__FAURYA_ATTRIBUTION_TOKEN__), { message: 'a token' });
    assert.ok(typeof after === 'string' && after.length > 0);
  });

  test('after 30 minutes without an event the next one starts a new session, same visitor', async () => {
    const { context, page, events } = await visitor();
    await page.clock.install();
    await page.goto(shop.url('/'));
    const [first] = await events.waitFor(1);
    // Half an hour later: the session cookie has expired and the page's clock has moved on.
    await context.clearCookies({ name: 'faurya_session_id' });
    await page.clock.fastForward('31:00');
    await page.evaluate(() => history.pushState({}, '', '/later'));
    const [, later] = await events.waitFor(2);
    assert.equal(later.visitor_id, first.visitor_id);
    assert.notEqual(later.session_id, first.session_id);
    assert.match(later.session_id, ID);
    assert.ok(later.ts - first.ts >= 31 * 60_000);
    const ids = await windowIds(page);
    assert.equal(ids.session, later.session_id);
    const sessionCookie = (await fauryaCookies(context)).find((c) => c.name === 'faurya_session_id');
    assert.equal(sessionCookie.value, later.session_id);
  });

  test('without storage or cookies (private mode, blocked cookies) it still tracks, ids kept in memory', async () => {
    const { page, events, pageErrors } = await visitor({
      init: [
        () => {
          const denied = () => {
            throw new DOMException('The operation is insecure.', 'SecurityError');
          };
          for (const name of ['localStorage', 'sessionStorage']) Object.defineProperty(window, name, { get: denied });
          Object.defineProperty(Document.prototype, 'cookie', { get: denied, set: denied });
        },
      ],
    });
    await page.goto(shop.url('/'));
    const [first] = await events.waitFor(1);
    await page.evaluate(() => history.pushState({}, '', '/pricing'));
    await page.evaluate(() => window.faurya('signup'));
    const [, second, third] = await events.waitFor(3);
    assert.equal(second.url, shop.url('/pricing'));
    assert.equal(third.name, 'signup');
    for (const b of [second, third]) {
      assert.equal(b.visitor_id, first.visitor_id);
      assert.equal(b.session_id, first.session_id);
    }
    assert.match(first.visitor_id, ID);
    assert.deepEqual(pageErrors, []);
    await sessionWhen(app, first.session_id, (s) => s.events.length === 3, 'three events');
  });

  test('data-cookie-domain shares the ids with subdomains', async () => {
    const { context, page, events } = await visitor({ attrs: { 'data-cookie-domain': '.shop.test' } });
    await page.goto(shop.url('/'));
    await events.waitFor(1);
    const ids = await windowIds(page);
    for (const c of await fauryaCookies(context)) assert.equal(c.domain, '.shop.test', `${c.name} domain`);

    await page.goto(shop.url('/', 'app.shop.test'));
    await events.waitFor(2);
    assert.equal(await page.evaluate(() => location.hostname), 'app.shop.test');
    const there = await windowIds(page);
    assert.equal(there.visitor, ids.visitor, 'the visitor cookie is read back on app.shop.test');
    assert.equal(there.session, ids.session, 'and the session cookie');
    assert.equal(
      await page.evaluate(() => document.cookie.includes(`faurya_visitor_id=${window.__FAURYA_VISITOR_ID__}`)),
      true,
    );
    const cookies = await fauryaCookies(context);
    assert.equal(
      cookies.length,
      2,
      `one cookie of each, got ${JSON.stringify(cookies.map((c) => [c.name, c.domain]))}`,
    );
  });

  test('SPA navigation: pushState, replaceState and popstate make pageviews, the same URL does not', async () => {
    const { page, events } = await visitor();
    await page.goto(shop.url('/'));
    await events.waitFor(1);
    const sid = (await windowIds(page)).session;

    await page.evaluate(() => history.pushState({}, '', '/pricing'));
    await events.waitFor(2);
    await page.evaluate(() => history.pushState({}, '', '/pricing')); // the same URL
    await page.evaluate(() => history.pushState({}, '', '/pricing#faq')); // only the hash
    await page.evaluate(() => history.replaceState({}, '', '/checkout'));
    let bodies = await events.waitFor(3);
    assert.equal(bodies[2].url, shop.url('/checkout'), 'no pageview for the same URL in between');

    await page.evaluate(() => history.back()); // popstate to the second /pricing entry
    bodies = await events.waitFor(4);
    assert.equal(bodies[3].url, shop.url('/pricing'));
    await page.evaluate(() => history.back()); // popstate to the first /pricing: the same URL again
    await page.evaluate(() => history.back()); // popstate to /
    bodies = await events.waitFor(5);
    assert.equal(bodies[4].url, shop.url('/'), 'no pageview for the repeated /pricing');
    await sleep(300);
    assert.equal(events.count(), 5);
    assert.ok(bodies.every((b) => b.name === 'pageview' && b.session_id === sid));

    const session = await sessionWhen(app, sid, (s) => s.pageviews === 5, 'five pageviews');
    assert.deepEqual(session.events.map((e) => e.path).sort(), ['/', '/', '/checkout', '/pricing', '/pricing']);
    assert.ok(session.events.every((e) => e.name === 'pageview'));
  });

  test('UTM parameters of the landing URL: utm fields and the Email channel', async () => {
    const { page, events } = await visitor();
    await page.goto(shop.url('/?utm_source=newsletter&utm_medium=email&utm_campaign=launch'));
    await events.waitFor(1);
    const sid = (await windowIds(page)).session;
    const session = await listedSession(app, siteId, sid);
    assert.equal(session.utm_source, 'newsletter');
    assert.equal(session.utm_medium, 'email');
    assert.equal(session.utm_campaign, 'launch');
    assert.equal(session.utm_term, null);
    assert.equal(session.utm_content, null);
    assert.equal(session.channel, 'Email');
    assert.equal(pathOf(session.landing_page), '/');
  });

  test('a visitor from Hacker News: the referrer gives the source', async () => {
    const { page, events } = await visitor();
    await page.goto(shop.url('/'), { referer: 'https://news.ycombinator.com/' });
    const [pageview] = await events.waitFor(1);
    assert.match(pageview.referrer ?? '', /^https:\/\/news\.ycombinator\.com\//);
    const session = await listedSession(app, siteId, pageview.session_id);
    assert.equal(session.source, 'Hacker News');
    assert.match(session.referrer ?? '', /news\.ycombinator\.com/);
    assert.equal(session.channel, 'Organic Social');
  });

  test('goals called before the script loaded are sent after the pageview, in order; later ones too', async () => {
    const { page, events, pageErrors } = await visitor({
      before: queueStub([['signup', { plan: 'pro' }], ['newsletter_optin']]),
    });
    await page.goto(shop.url('/'));
    let bodies = await events.waitFor(3);
    assert.deepEqual(
      bodies.map((b) => b.name),
      ['pageview', 'signup', 'newsletter_optin'],
    );
    assert.deepEqual(bodies[1].props, { plan: 'pro' });
    assert.equal('props' in bodies[2], false, 'no props given, none sent');
    await page.evaluate(() => window.faurya('checkout_started', { plan: 'pro', seats: 3 }));
    bodies = await events.waitFor(4);
    assert.equal(bodies[3].name, 'checkout_started');
    assert.deepEqual(bodies[3].props, { plan: 'pro', seats: 3 });
    assert.deepEqual(pageErrors, []);

    const sid = bodies[0].session_id;
    const session = await sessionWhen(app, sid, (s) => s.events.length === 4, 'four events');
    assert.equal(session.pageviews, 1, 'goals are not pageviews');
    const signup = session.events.find((e) => e.name === 'signup');
    assert.deepEqual(signup.props, { plan: 'pro' });
    assert.equal(signup.path, '/');
    assert.deepEqual(session.events.find((e) => e.name === 'checkout_started').props, { plan: 'pro', seats: 3 });
    assert.ok(session.events.some((e) => e.name === 'newsletter_optin'));
  });

  test('collector unreachable: events wait in localStorage with their time and go first on the next load', async () => {
    const { page, events } = await visitor();
    await page.route(eventUrl, (route) => route.abort('internetdisconnected'));
    const t0 = Date.now();
    await page.goto(shop.url('/'));
    await page.evaluate(() => window.faurya('signup', { plan: 'pro' }));
    const kept = await until(
      async () => {
        const q = await storedQueue(page);
        return q.length === 2 && q;
      },
      { message: 'two events in faurya_queue' },
    );
    const ids = await windowIds(page);
    assert.deepEqual(
      kept.map((e) => e.name),
      ['pageview', 'signup'],
    );
    for (const e of kept) {
      assert.equal(e.site, siteId);
      assert.equal(e.session_id, ids.session);
      assert.equal(e.visitor_id, ids.visitor);
      assert.ok(e.ts >= t0 - 1000 && e.ts <= Date.now(), `${e.name} keeps the time it happened`);
    }
    assert.deepEqual(kept[1].props, { plan: 'pro' });
    assert.equal(ids.token ?? null, null, 'no answer, no token');

    await sleep(1500); // the delivery comes measurably later than the events
    await page.unroute(eventUrl);
    const mark = events.count();
    const t1 = Date.now();
    await page.reload();
    const bodies = (await events.waitFor(mark + 3)).slice(mark);
    assert.deepEqual(bodies.slice(0, 2), kept, 'the kept events first, unchanged (their original ts)');
    assert.equal(bodies[2].name, 'pageview');
    assert.ok(bodies[2].ts >= t1);
    await until(
      async () =>
        (await storedQueue(page)).length === 0 && (await page.evaluate(() => window.__FAURYA_ATTRIBUTION_TOKEN__)),
      {
        message: 'an empty queue and a token',
      },
    );

    const session = await sessionWhen(app, ids.session, (s) => s.events.length === 3, 'three events');
    assert.equal(session.pageviews, 2);
    // Recorded at the time they happened, not when delivered. (The kept events and the new
    // pageview leave at once, so which one reaches the server first is not asserted.)
    const times = session.events.map((e) => [e.name, Date.parse(e.at)]);
    const near = (name, ts) => times.some(([n, at]) => n === name && Math.abs(at - ts) < 1000);
    assert.ok(near('pageview', kept[0].ts), `the kept pageview at ${kept[0].ts}: ${JSON.stringify(session.events)}`);
    assert.ok(near('signup', kept[1].ts), `the kept signup at ${kept[1].ts}: ${JSON.stringify(session.events)}`);
    assert.ok(kept[1].ts < t1 - 1000);
    assert.ok(near('pageview', bodies[2].ts), 'and the new pageview');
  });

  test('the queue: 4xx dropped, 5xx and 429 kept, at most the newest 50', async () => {
    const { page, events } = await visitor();
    let mode = 400;
    await page.route(eventUrl, (route) =>
      mode === 'abort'
        ? route.abort('internetdisconnected')
        : route.fulfill({
            status: mode,
            contentType: 'application/json',
            headers: { 'access-control-allow-origin': '*' },
            body: JSON.stringify({ error: { code: 'test', message: `answered ${mode} by the test` } }),
          }),
    );
    const answered = page.waitForResponse((r) => r.url() === eventUrl && r.status() === 400);
    await page.goto(shop.url('/'));
    await answered;
    await sleep(300);
    assert.deepEqual(await storedQueue(page), [], 'a 400 means a bad event: dropped, not retried');

    mode = 503;
    await page.evaluate(() => window.faurya('during_outage'));
    await until(async () => (await storedQueue(page)).length === 1, { message: 'the 503 event kept' });
    mode = 429;
    await page.evaluate(() => window.faurya('rate_limited'));
    await until(async () => (await storedQueue(page)).length === 2, { message: 'the 429 event kept' });
    assert.deepEqual(
      (await storedQueue(page)).map((e) => e.name),
      ['during_outage', 'rate_limited'],
    );

    mode = 'abort';
    const before = events.count();
    await page.evaluate(() => {
      for (let i = 0; i < 60; i++) window.faurya(`tick_${i}`, { i });
    });
    await events.waitFor(before + 60);
    const queue = await until(
      async () => {
        const q = await storedQueue(page);
        return q.at(-1)?.name === 'tick_59' && q;
      },
      { message: 'the last tick kept' },
    );
    await sleep(300);
    const final = await storedQueue(page);
    assert.equal(final.length, 50, `at most 50 kept, got ${queue.length}`);
    assert.equal(final[0].name, 'tick_10', 'the oldest ones dropped');
    assert.equal(final[49].name, 'tick_59');
  });

  test('data-api sends the events to another endpoint (a first-party proxy)', async () => {
    const { page, events } = await visitor({ attrs: { 'data-api': '/collect' } });
    const proxied = [];
    page.on('request', (r) => r.url().endsWith('/collect') && proxied.push(r));
    const before = shop.collected.length;
    await page.goto(shop.url('/'));
    await until(() => shop.collected.length > before, { message: 'an event at /collect' });
    assert.equal(shop.collected.at(-1).name, 'pageview');
    assert.equal(shop.collected.at(-1).site, siteId);
    assert.equal(proxied[0].url(), shop.url('/collect'));
    assert.equal(await until(() => page.evaluate(() => window.__FAURYA_ATTRIBUTION_TOKEN__)), 'tok_from_proxy');
    assert.equal(events.count(), 0, 'nothing to the default endpoint');
  });

  // Each opt-out: nothing sent, no cookie, window.faurya a harmless no-op, one warning saying why.
  const optOuts = [
    {
      name: 'localStorage.faurya_ignore',
      init: [() => localStorage.setItem('faurya_ignore', 'true')],
      why: /faurya_ignore/,
    },
    {
      name: 'data-respect-dnt with Do Not Track on',
      attrs: { 'data-respect-dnt': true },
      init: [() => Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1', configurable: true })],
      why: /Do Not Track/,
    },
    {
      name: 'automation (navigator.webdriver)',
      init: [() => Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => true, configurable: true })],
      why: /automat/,
    },
    {
      name: 'automation (window.Cypress)',
      init: [() => (window.Cypress = {})],
      why: /automat/,
    },
    { name: 'a localhost page', host: 'localhost', why: /localhost/ },
    { name: 'a 127.0.0.1 page', host: '127.0.0.1', why: /localhost/ },
  ];

  for (const c of optOuts) {
    test(`sends nothing and sets no cookie: ${c.name}`, async () => {
      const { context, page, events, warnings, pageErrors } = await visitor({
        attrs: c.attrs,
        init: c.init,
        before: queueStub([['early_goal']]),
      });
      await page.goto(shop.url('/', c.host));
      await page.evaluate(() => window.faurya('signup', { plan: 'pro' }));
      await sleep(500);
      assert.equal(events.count(), 0, 'no request to /api/event');
      assert.deepEqual(await fauryaCookies(context), []);
      assert.equal(await page.evaluate(() => typeof window.faurya), 'function');
      const ids = await windowIds(page);
      assert.deepEqual(ids, { visitor: undefined, session: undefined, token: undefined });
      assert.equal(await page.evaluate(() => localStorage.getItem('faurya_queue')), null);
      assert.equal(warnings.length, 1, `one warning, got ${JSON.stringify(warnings)}`);
      assert.match(warnings[0], c.why);
      assert.deepEqual(pageErrors, []);
    });
  }

  test('the opt-outs are what stopped it: Do Not Track alone, data-respect-dnt alone, localhost allowed', async () => {
    const dntOn = () =>
      Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1', configurable: true });
    const cases = [
      { name: 'Do Not Track without data-respect-dnt', init: [dntOn] },
      { name: 'data-respect-dnt without Do Not Track', attrs: { 'data-respect-dnt': true } },
      { name: 'localhost with data-allow-localhost', attrs: { 'data-allow-localhost': true }, host: 'localhost' },
    ];
    for (const c of cases) {
      const { context, page, events, warnings } = await visitor(c);
      await page.goto(shop.url('/', c.host));
      await events.waitFor(1, `a pageview (${c.name})`);
      assert.deepEqual(warnings, [], c.name);
      assert.equal((await fauryaCookies(context)).length, 2, `${c.name}: cookies set`);
      await context.close();
    }
  });
});
