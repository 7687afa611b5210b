// An in-memory stand-in for the admin listener, answering in the shapes of docs/API.md, serving
// the built UI from ui/dist. ui-contract.test.mjs, first-run.test.mjs and
// test-payments-forwarding.test.mjs use it for what the real backend cannot be made to answer on
// demand (a build without the later endpoints, a 422 field error, a tunnel in a given state, a
// forward target that answers 500, the desktop app's settings); support/preview.mjs uses its
// sample data to render every page without Rust. Everything else is tested against the real backend.
//
// Tracking (sites, sessions, traffic, live visitors, install) follows the admin API contract of
// the tracking work: several sites, ~200 sessions of the main site over 30 days with a believable
// channel mix (a Hacker News launch day among them), all relative to Date.now().
//
// Attribution (issue 11): the seeded payments come from buyer journeys (a Google search, then a
// typed-in return visit that pays; a Reddit thread, the newsletter, then Direct…), so first
// touch, last touch and last non-direct credit different channels. Most carry a verified token,
// some only plain ids, a few a token that was not trusted (expired, altered, another site's); a
// few came through the revenue API, one from a backfill, one is a test. Models, journeys, visitor
// pages, the attribution report, its comparison and the CSV exports are computed on request.
//
// Test payments, forwarding and the desktop switches (issue 13): POST
// /api/connections/{id}/test-payment runs the steps the backend runs
// (crates/faurya/src/test_payment.rs) and answers the TestRun, also when a step fails: no public
// URL stops at "Public URL", a public URL that does not answer (`state.tunnelTest.ok === false`)
// at "Sent through the public URL" with "The tunnel is unreachable: …"; a passing run records a
// delivery and a `source: "test"` payment ($49.00), and becomes the connection's `last_test`.
// GET /api/payments?source=…, DELETE /api/payments/{id} (test payments only, 409 `not_a_test`)
// and DELETE /api/payments?source=test. PATCH /api/connections/{id} sets `forward_url`; every
// verified delivery of such a connection is then forwarded (answers from `state.forwardAnswers`,
// else 200), a failed automatic attempt queues the next one (10 s, 30 s, 2 min … 3 h, 8 in all);
// events carry `forward`, the detail `forwards`, `forward_state` and `next_retry_at`; POST
// /api/events/{id}/forward sends one by hand (409 `not_forwardable` for rejected attempts and
// backfills, `no_target` without a URL). GET /api/settings has `desktop` (`available` only with
// the `desktop` option, as in the desktop app). The seeded Whop account forwards to
// http://localhost:3000/api/webhooks/whop (its newest delivery waiting for a retry) and its last
// test payment passed.
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { uiDist } from './paths.mjs';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

// `backup` (issue 12): /api/health reports the store (`store.writable`…) and GET /api/backup answers.
// Issue 13: `test_payments` (POST …/test-payment, `last_test`, removing test payments), `forwarding`
// (`forward_url`, `forward`/`forwards`, POST /api/events/{id}/forward), `desktop` (settings.desktop).
const ALL_FEATURES = [
  'settings',
  'connections',
  'events',
  'payments',
  'stream',
  'tunnel',
  'sites',
  'attribution',
  'backup',
  'test_payments',
  'forwarding',
  'desktop',
];

/**
 * The `from` (inclusive) and `to` (exclusive) query of GET /api/events and /api/payments as a
 * test on an RFC 3339 time, or null after answering 422 for a bad value, as the backend does:
 * `{"error": {"code": "invalid_input", "message": …, "fields": {"from": …}}}`.
 */
function timeRange(res, url) {
  const bounds = {};
  for (const name of ['from', 'to']) {
    const raw = url.searchParams.get(name);
    if (raw === null) continue;
    const ok =
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(raw) && !Number.isNaN(Date.parse(raw));
    if (!ok) {
      json(res, 422, {
        error: {
          code: 'invalid_input',
          message: 'Some fields need fixing.',
          fields: { [name]: 'Use an RFC 3339 time such as 2026-12-01T00:00:00Z.' },
        },
      });
      return null;
    }
    bounds[name] = Date.parse(raw);
  }
  return (iso) => {
    const t = Date.parse(iso);
    return (bounds.from === undefined || t >= bounds.from) && (bounds.to === undefined || t < bounds.to);
  };
}

/** The store as /api/health reports it while it refuses writes (the disk is full). */
export const DISK_FULL = { writable: false, error: 'database or disk is full', since: null };

/** A tiny file that starts like a SQLite database: what GET /api/backup answers here. */
function backupFile() {
  const head = Buffer.alloc(100);
  head.write('SQLite format 3\0', 0, 'latin1');
  head.writeUInt16BE(4096, 16);
  return Buffer.concat([head, Buffer.from('faurya fake backup\n')]);
}

function backupName(d = new Date()) {
  const p = (n) => String(n).padStart(2, '0');
  return `faurya-backup-${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}.db`;
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function apiError(res, status, code, message, fields) {
  json(res, status, { error: { code, message, ...(fields ? { fields } : {}) } });
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

function masked(key) {
  return '••••••••' + key.slice(-4);
}

const iso = (d) => new Date(d).toISOString();

/** A payment id never used before (test payments can be removed, so not the list's length). */
function nextPaymentId(state) {
  return state.payments.reduce((m, x) => Math.max(m, x.id), 0) + 1;
}

/** Build a signed-looking delivery the way a provider would send it. */
export function makeDelivery(
  state,
  {
    provider = 'whop',
    type = 'payment.succeeded',
    status = 'processed',
    at = Date.now(),
    amount = 1043,
    currency = 'USD',
    attributed = true,
    error = null,
    connectionId,
    visit = null,
    attribution = null,
  } = {},
) {
  const n = ++state.seq;
  const visitorId = visit?.visitor_id ?? `v_${n}a7c2`;
  const sessionId = attribution?.sessionId ?? visit?.id ?? `s_${n}b91e`;
  const token = attributed ? (attribution?.token ?? null) : null;
  const isRejected = status === 'rejected';
  const id = isRejected ? `r_${n}` : `d_${n}`;
  const deliveryId =
    provider === 'whop'
      ? `msg_${createHash('sha1').update(String(n)).digest('hex').slice(0, 24)}`
      : `evt_01h${n}x${n}k`;
  const payId = provider === 'whop' ? `pay_${n}Zx${n}` : `txn_01h${n}q${n}`;
  const meta = attributed
    ? {
        faurya_visitor_id: visitorId,
        faurya_session_id: sessionId,
        ...(token ? { faurya_attribution_token: token } : {}),
      }
    : {};
  const body =
    provider === 'whop'
      ? {
          id: deliveryId,
          api_version: 'v1',
          type,
          timestamp: iso(at),
          data: {
            id: payId,
            status: 'paid',
            currency: currency.toLowerCase(),
            total: Number(amount) / 100,
            metadata: meta,
            user: { email: `buyer${n}@example.com` },
          },
        }
      : {
          event_id: deliveryId,
          event_type: type,
          occurred_at: iso(at),
          notification_id: `ntf_${n}`,
          data: {
            id: payId,
            status: 'completed',
            currency_code: currency,
            custom_data: attributed
              ? {
                  faVisitorId: visitorId,
                  faSessionId: sessionId,
                  ...(token ? { faAttributionToken: token } : {}),
                  orderId: `ord_${n}`,
                }
              : null,
            details: { totals: { total: String(amount) } },
          },
        };
  const bodyText = JSON.stringify(body);
  const conn = connectionId ?? state.connections.find((c) => c.provider === provider)?.id ?? `con_${provider}0000`;
  const siteId = state.connections.find((c) => c.id === conn)?.site_id ?? state.sites[0]?.id ?? null;
  const headers =
    provider === 'whop'
      ? [
          ['host', 'quiet-river.trycloudflare.com'],
          ['user-agent', 'Svix-Webhooks/1.0'],
          ['content-type', 'application/json'],
          ['content-length', String(Buffer.byteLength(bodyText))],
          ['webhook-id', deliveryId],
          ['webhook-timestamp', String(Math.floor(at / 1000))],
          ['webhook-signature', 'v1,' + randomBytes(32).toString('base64')],
          ['x-forwarded-for', '44.228.126.217'],
        ]
      : [
          ['host', 'quiet-river.trycloudflare.com'],
          ['user-agent', 'Paddle'],
          ['content-type', 'application/json'],
          ['content-length', String(Buffer.byteLength(bodyText))],
          ['paddle-signature', `ts=${Math.floor(at / 1000)};h1=${randomBytes(32).toString('hex')}`],
        ];
  let payment = null;
  const revenue = status === 'processed' && /payment\.succeeded|transaction\.(completed|paid)/.test(type);
  if (revenue) {
    payment = {
      id: nextPaymentId(state),
      provider,
      site_id: siteId,
      connection_id: conn,
      provider_payment_id: payId,
      amount_minor: amount,
      currency,
      status: 'succeeded',
      refunded_minor: 0,
      net_minor: amount,
      visitor_id: attributed ? visitorId : null,
      session_id: attributed ? sessionId : null,
      attribution_token: token,
      order_id: provider === 'paddle' && attributed ? `ord_${n}` : null,
      source: 'webhook',
      ...(attribution?.status ? { attribution_status: attribution.status } : {}),
      ...(attribution?.note ? { attribution_note: attribution.note } : {}),
      customer_email: `buyer${n}@example.com`,
      paid_at: iso(at),
      created_at: iso(at),
      delivery_id: id,
      refunds: [],
    };
    state.payments.unshift(payment);
  }
  const event = {
    id,
    provider,
    site_id: siteId,
    connection_id: conn,
    delivery_id: deliveryId,
    event_type: type,
    received_at: iso(at),
    verdict: isRejected ? 'rejected' : 'verified',
    status,
    error:
      error ??
      (isRejected
        ? 'the v1 signature in the webhook-signature header does not match this delivery'
        : status === 'failed'
          ? '`data.total`: 19.999 has more decimals than USD allows (2)'
          : null),
    note:
      status === 'ignored'
        ? `${type}: not an event Faurya records revenue from`
        : revenue
          ? `payment ${payId} recorded`
          : null,
    ...(isRejected ? { http_status: 401, reason_code: 'bad_signature' } : {}),
    amount_minor: revenue || /refund/.test(type) ? amount : null,
    currency: revenue || /refund/.test(type) ? currency : null,
    payment_id: payment?.id ?? null,
    headers,
    body_text: bodyText,
    body_base64: Buffer.from(bodyText).toString('base64'),
    body_size: Buffer.byteLength(bodyText),
    body_truncated: false,
    duplicate_of: null,
    payment,
    webhook_url: `${state.settings.public_url}/webhooks/${provider}/${conn}`,
  };
  state.events.unshift(event);
  return event;
}

// ---- tracking: sites, sessions, traffic ----------------------------------------------------

const DAY = 86400e3;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/;

/** A small seeded PRNG (mulberry32), so the sample data and the screenshots are stable. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789';
function randomId(rand, n = 16) {
  let out = '';
  for (let i = 0; i < n; i++) out += ID_CHARS[Math.floor(rand() * ID_CHARS.length)];
  return out;
}

function maskedWriteKey(key) {
  return 'fw_…' + key.slice(-4);
}

export function makeSite(state, { id, name, domains = [], at = Date.now(), writeKey } = {}) {
  const key = writeKey ?? 'fw_' + randomBytes(16).toString('hex');
  const site = {
    id: id ?? 'site_' + randomBytes(6).toString('hex'),
    name,
    domains,
    write_key: key,
    created_at: iso(at),
  };
  state.sites.push(site);
  return site;
}

/** A site as the API shows it: the key masked, first and last event from its sessions. */
function siteView(state, site) {
  const own = state.sessions.filter((x) => x.site_id === site.id);
  const first = own.reduce((m, x) => (!m || x.started_at < m ? x.started_at : m), null);
  const last = own.reduce((m, x) => (!m || x.last_seen_at > m ? x.last_seen_at : m), null);
  const { write_key, ...rest } = site;
  return { ...rest, masked_write_key: maskedWriteKey(write_key), first_event_at: first, last_event_at: last };
}

function summaryOfSession(x) {
  const { events: _e, ...rest } = x;
  return rest;
}

/** Where a visit came from: channel, source, referrer, UTM, click id, and where it lands. */
const ORIGINS = [
  {
    w: 27,
    channel: 'Organic Search',
    source: 'Google',
    referrer: 'https://www.google.com/',
    landing: ['/', '/', '/blog/markdown-notes-offline', '/blog/obsidian-vs-lumen', '/pricing', '/features/sync'],
  },
  {
    w: 4,
    channel: 'Organic Search',
    source: 'Bing',
    referrer: 'https://www.bing.com/',
    landing: ['/', '/blog/markdown-notes-offline'],
  },
  {
    w: 3,
    channel: 'Organic Search',
    source: 'DuckDuckGo',
    referrer: 'https://duckduckgo.com/',
    landing: ['/', '/blog/obsidian-vs-lumen'],
  },
  { w: 21, channel: 'Direct', source: null, referrer: null, landing: ['/', '/', '/pricing', '/login', '/changelog'] },
  {
    w: 4,
    channel: 'Referral',
    source: 'Hacker News',
    referrer: 'https://news.ycombinator.com/item?id=41873209',
    landing: ['/blog/why-local-first', '/'],
  },
  {
    w: 3,
    channel: 'Referral',
    source: 'Indie Hackers',
    referrer: 'https://www.indiehackers.com/post/lumen-notes-1k-mrr-8d2c1f',
    landing: ['/', '/blog/first-1000-mrr'],
  },
  {
    w: 2,
    channel: 'Referral',
    source: 'Product Hunt',
    referrer: 'https://www.producthunt.com/posts/lumen-notes',
    landing: ['/'],
  },
  {
    w: 5,
    channel: 'Organic Social',
    source: 'Reddit',
    referrer: 'https://www.reddit.com/r/ObsidianMD/comments/1g4k2p/',
    landing: ['/blog/obsidian-vs-lumen', '/'],
  },
  { w: 4, channel: 'Organic Social', source: 'X', referrer: 'https://t.co/', landing: ['/', '/changelog'] },
  { w: 2, channel: 'Organic Social', source: 'LinkedIn', referrer: 'https://www.linkedin.com/', landing: ['/'] },
  {
    w: 6,
    channel: 'Paid Search',
    source: 'Google',
    referrer: 'https://www.google.com/',
    utm: { utm_source: 'google', utm_medium: 'cpc', utm_campaign: 'notes-app-search', utm_term: 'offline notes app' },
    click: 'gclid',
    landing: ['/', '/pricing'],
  },
  {
    w: 6,
    channel: 'Email',
    source: 'Newsletter',
    referrer: null,
    utm: { utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'march-update' },
    landing: ['/changelog', '/blog/why-local-first'],
  },
  {
    w: 5,
    channel: 'AI Assistants',
    source: 'ChatGPT',
    referrer: 'https://chatgpt.com/',
    landing: ['/', '/features/sync'],
  },
  { w: 2, channel: 'AI Assistants', source: 'Perplexity', referrer: 'https://www.perplexity.ai/', landing: ['/'] },
  {
    w: 3,
    channel: 'Paid Social',
    source: 'Facebook',
    referrer: 'https://l.facebook.com/',
    utm: { utm_source: 'facebook', utm_medium: 'paid_social', utm_campaign: 'spring-launch', utm_content: 'video-a' },
    click: 'fbclid',
    landing: ['/', '/pricing'],
  },
  {
    w: 2,
    channel: 'Organic Video',
    source: 'YouTube',
    referrer: 'https://www.youtube.com/',
    landing: ['/', '/features/sync'],
  },
  {
    w: 1,
    channel: 'Affiliates',
    source: 'Notetools',
    referrer: 'https://notetools.io/best-markdown-apps',
    utm: { utm_source: 'notetools', utm_medium: 'affiliate', utm_campaign: 'partner' },
    landing: ['/pricing'],
  },
];
const HN = ORIGINS[4];
const NEXT_PAGES = [
  '/pricing',
  '/features',
  '/features/sync',
  '/docs/getting-started',
  '/changelog',
  '/blog/why-local-first',
  '/signup',
  '/pricing',
];
const DOCS_ORIGINS = [
  {
    w: 10,
    channel: 'Direct',
    source: null,
    referrer: null,
    landing: ['/docs/getting-started', '/docs/sync', '/docs/shortcuts'],
  },
  {
    w: 8,
    channel: 'Referral',
    source: 'lumennotes.app',
    referrer: 'https://lumennotes.app/',
    landing: ['/docs/getting-started'],
  },
  {
    w: 8,
    channel: 'Organic Search',
    source: 'Google',
    referrer: 'https://www.google.com/',
    landing: ['/docs/sync', '/docs/import-from-obsidian', '/docs/shortcuts'],
  },
  {
    w: 2,
    channel: 'AI Assistants',
    source: 'ChatGPT',
    referrer: 'https://chatgpt.com/',
    landing: ['/docs/import-from-obsidian'],
  },
];
const DOCS_NEXT = ['/docs/sync', '/docs/shortcuts', '/docs/themes', '/docs/getting-started', '/docs/faq'];

function pick(rand, list) {
  return list[Math.floor(rand() * list.length)];
}
function weighted(rand, list) {
  const total = list.reduce((n, x) => n + x.w, 0);
  let r = rand() * total;
  for (const x of list) if ((r -= x.w) < 0) return x;
  return list[list.length - 1];
}

/** One visit with its pageviews (and now and then a goal), entry fields frozen at the first. */
export function makeSession(
  state,
  { site, at, origin, rand = Math.random, host, pages, nextPages = NEXT_PAGES, visitorId, endAt },
) {
  const landing = pages?.[0] ?? pick(rand, origin.landing);
  const count = pages?.length ?? (rand() < 0.44 ? 1 : 2 + Math.floor(rand() * rand() * 7));
  const path = [landing];
  while (path.length < count) {
    let next = pick(rand, nextPages);
    if (next === path[path.length - 1]) next = '/';
    path.push(pages?.[path.length] ?? next);
  }
  const query = origin.utm ? '?' + new URLSearchParams(Object.entries(origin.utm)).toString() : '';
  const clickId = origin.click ? `${origin.click}=${randomId(rand, 22)}` : null;
  const events = [];
  let t = at;
  path.forEach((p, i) => {
    if (i > 0) t += 8e3 + Math.floor(rand() * rand() * 170e3);
    const url = `https://${host}${p}${i === 0 ? query + (clickId ? (query ? '&' : '?') + clickId : '') : ''}`;
    events.push({ name: 'pageview', url, path: p, at: iso(t), props: null });
  });
  if (path.includes('/signup') && rand() < 0.6) {
    t += 30e3 + Math.floor(rand() * 60e3);
    events.push({
      name: 'signup',
      url: `https://${host}/signup`,
      path: '/signup',
      at: iso(t),
      props: { plan: rand() < 0.5 ? 'pro' : 'free' },
    });
  }
  const session = {
    id: randomId(rand, 16),
    visitor_id: visitorId ?? randomId(rand, 16),
    site_id: site.id,
    started_at: iso(at),
    last_seen_at: iso(endAt ?? t),
    landing_page: landing,
    landing_url: events[0].url,
    referrer: origin.referrer,
    source: origin.source,
    utm_source: origin.utm?.utm_source ?? null,
    utm_medium: origin.utm?.utm_medium ?? null,
    utm_campaign: origin.utm?.utm_campaign ?? null,
    utm_term: origin.utm?.utm_term ?? null,
    utm_content: origin.utm?.utm_content ?? null,
    // The backend keeps the click id parameter's name (gclid, fbclid…), not its value.
    click_id: origin.click ?? null,
    channel: origin.channel,
    pageviews: path.length,
    events,
  };
  state.sessions.push(session);
  return session;
}

/** A month of visits: the main site's ~200 (a launch on Hacker News 12 days ago), the docs' 40. */
export function seedTracking(state, now = Date.now()) {
  const rand = prng(20260311);
  const [main] = state.sites;
  Object.assign(main, {
    id: 'site_7Hq2xLm9Kd',
    name: 'Lumen Notes',
    domains: ['lumennotes.app', 'getlumen.com'],
    created_at: iso(now - 34 * DAY),
    write_key: 'fw_3c1f9a7e52b04d18a6e0c2b7f91da1b2',
  });
  const docs = makeSite(state, {
    id: 'site_Pz4vN8cW2r',
    name: 'Lumen Docs',
    domains: ['docs.lumennotes.app'],
    at: now - 21 * DAY,
    writeKey: 'fw_8e2a41c07bd9e5f3a61c2d40b7e9c5d3',
  });
  makeSite(state, {
    id: 'site_Bx9kT3mQ7s',
    name: 'Tiny Forms',
    domains: ['tinyforms.dev'],
    at: now - 2 * DAY,
    writeKey: 'fw_a4d0e6b19c2f7835e1d4c0a6b2f9e7c8',
  });

  const visitors = [];
  const startOfDay = (ago) => Math.floor((now - ago * DAY) / DAY) * DAY;
  const hourMs = () => {
    // Most visits in European and American daytime (UTC 7–23), a few at night.
    const h = rand() < 0.85 ? 7 + rand() * 16 : rand() * 7;
    return Math.floor(h * 3600e3);
  };
  const place = (site, list, { ago, origin, nextPages, host }) => {
    let at = startOfDay(ago) + hourMs();
    if (at > now - 15 * 60e3) at = now - 15 * 60e3 - Math.floor(rand() * 6 * 3600e3);
    const returning = list.length > 8 && rand() < 0.16;
    const s = makeSession(state, {
      site,
      at,
      origin,
      rand,
      host,
      nextPages,
      visitorId: returning ? pick(rand, list) : undefined,
    });
    if (!returning) list.push(s.visitor_id);
    // Some come back the same day, typing the address: a second session, one more visitor-day not.
    const again = at + 40 * 60e3 + Math.floor(rand() * 4 * 3600e3);
    if (rand() < 0.14 && again < now - 15 * 60e3 && new Date(again).getUTCDate() === new Date(at).getUTCDate())
      makeSession(state, { site, at: again, origin: ORIGINS[3], rand, host, nextPages, visitorId: s.visitor_id });
    return s;
  };

  // Main site: growing from ~4 to ~9 visits a day, quieter at weekends.
  for (let ago = 29; ago >= 0; ago--) {
    const weekday = new Date(now - ago * DAY).getUTCDay();
    const base = 3.9 + ((29 - ago) / 29) * 4.1;
    const n = Math.max(1, Math.round(base * (weekday === 0 || weekday === 6 ? 0.65 : 1) + (rand() - 0.5) * 2));
    for (let i = 0; i < n; i++) place(main, visitors, { ago, origin: weighted(rand, ORIGINS), host: 'lumennotes.app' });
    if (ago === 12) for (let i = 0; i < 24; i++) place(main, visitors, { ago, origin: HN, host: 'lumennotes.app' });
  }
  // On the site right now.
  const live = [
    [ORIGINS[0], ['/', '/pricing']],
    [ORIGINS[3], ['/pricing']],
    [ORIGINS[12], ['/features/sync', '/blog/why-local-first']],
  ];
  live.forEach(([origin, pages], i) => {
    const at = now - (9 - i * 3) * 60e3;
    const s = makeSession(state, {
      site: main,
      at,
      origin,
      rand,
      host: 'lumennotes.app',
      pages,
      endAt: now - (2 - i * 0.6) * 60e3,
    });
    s.events[s.events.length - 1].at = s.last_seen_at;
  });

  const docsVisitors = [];
  for (let ago = 20; ago >= 0; ago--) {
    const n = rand() < 0.3 ? 1 : rand() < 0.8 ? 2 : 3;
    for (let i = 0; i < n; i++)
      place(docs, docsVisitors, {
        ago,
        origin: weighted(rand, DOCS_ORIGINS),
        host: 'docs.lumennotes.app',
        nextPages: DOCS_NEXT,
      });
  }
  state.sessions.sort((a, b) => (a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : 0));
}

/** A visit of the main site that could have led to a payment at `at`. */
function visitBefore(state, at) {
  const siteId = state.sites[0]?.id;
  return (
    state.sessions.find(
      (x) =>
        x.site_id === siteId && Date.parse(x.started_at) < at - 20 * 60e3 && Date.parse(x.started_at) > at - 3 * DAY,
    ) ?? null
  );
}

// ---- attribution: buyer journeys, the three models, reports ---------------------------------

const MIN = 60e3;
const HOUR = 3600e3;
/** Visits of one buyer before paying: [channel, source, how long before the payment, pages]. */
const JOURNEYS = {
  searchThenDirect: [
    ['Organic Search', 'Google', 6 * DAY, ['/blog/markdown-notes-offline', '/features/sync', '/pricing']],
    ['Direct', null, 2 * HOUR, ['/pricing', '/signup']],
  ],
  googleSame: [['Organic Search', 'Google', 35 * MIN, ['/', '/features', '/pricing', '/signup']]],
  redditEmailDirect: [
    ['Organic Social', 'Reddit', 12 * DAY, ['/blog/obsidian-vs-lumen', '/']],
    ['Email', 'Newsletter', 3 * DAY, ['/changelog', '/features/sync']],
    ['Direct', null, 30 * MIN, ['/pricing', '/signup']],
  ],
  chatgptDirect: [
    ['AI Assistants', 'ChatGPT', 4 * DAY, ['/', '/features/sync']],
    ['Direct', null, 1 * DAY, ['/pricing']],
    ['Direct', null, 20 * MIN, ['/pricing', '/signup']],
  ],
  youtubeGoogleDirect: [
    ['Organic Video', 'YouTube', 20 * DAY, ['/features/sync']],
    ['Organic Search', 'Google', 6 * DAY, ['/blog/obsidian-vs-lumen', '/pricing']],
    ['Direct', null, 30 * MIN, ['/pricing', '/signup']],
  ],
  paidThenOrganic: [
    ['Paid Search', 'Google', 9 * DAY, ['/pricing', '/features']],
    ['Organic Search', 'Google', 40 * MIN, ['/', '/pricing', '/signup']],
  ],
  xDirect: [
    ['Organic Social', 'X', 5 * DAY, ['/changelog']],
    ['Direct', null, 1 * HOUR, ['/pricing', '/signup']],
  ],
  fbEmail: [
    ['Paid Social', 'Facebook', 15 * DAY, ['/', '/pricing']],
    ['Email', 'Newsletter', 35 * MIN, ['/changelog', '/pricing', '/signup']],
  ],
  newsletterSame: [['Email', 'Newsletter', 30 * MIN, ['/blog/why-local-first', '/pricing', '/signup']]],
  hnSame: [['Referral', 'Hacker News', 25 * MIN, ['/blog/why-local-first', '/', '/pricing', '/signup']]],
  hnThenDirect: [
    ['Referral', 'Hacker News', 2 * DAY, ['/blog/why-local-first', '/features']],
    ['Direct', null, 45 * MIN, ['/pricing', '/signup']],
  ],
  affiliateDirect: [
    ['Affiliates', 'Notetools', 3 * DAY, ['/pricing']],
    ['Direct', null, 25 * MIN, ['/pricing', '/signup']],
  ],
  directOnly: [
    ['Direct', null, 2 * DAY, ['/']],
    ['Direct', null, 15 * MIN, ['/pricing', '/signup']],
  ],
  phEmail: [
    ['Referral', 'Product Hunt', 25 * DAY, ['/']],
    ['Organic Search', 'Bing', 8 * DAY, ['/blog/markdown-notes-offline']],
    ['Email', 'Newsletter', 2 * HOUR, ['/changelog', '/pricing', '/signup']],
  ],
  perplexitySame: [['AI Assistants', 'Perplexity', 40 * MIN, ['/', '/pricing', '/signup']]],
  upgrade: [
    ['Email', 'Newsletter', 4 * DAY, ['/changelog', '/features/sync']],
    ['Direct', null, 25 * MIN, ['/login', '/pricing', '/checkout']],
  ],
};

function originFor(channel, source) {
  return ORIGINS.find((o) => o.channel === channel && o.source === source) ?? ORIGINS[3];
}

/** The visits of a new buyer ending before `payAt`; `last` is the one that started checkout. */
export function makeJourney(state, rand, site, name, payAt, returning = null) {
  const visitorId = returning ?? randomId(rand, 16);
  const sessions = JOURNEYS[name].map(([channel, source, before, pages]) =>
    makeSession(state, {
      site,
      at: payAt - before - Math.floor(rand() * 5 * MIN),
      origin: originFor(channel, source),
      rand,
      host: site.domains[0] ?? 'example.com',
      pages,
      visitorId,
    }),
  );
  return { visitorId, sessions, last: sessions[sessions.length - 1] };
}

function fakeToken(rand) {
  return `fat1.${randomId(rand, 43)}.${randomId(rand, 22)}`;
}

/** How a seeded payment was tied to its visit: the token, the status and the server's note. */
function attributionOf(how, rand) {
  switch (how) {
    case 'verified':
      return { status: 'verified', token: fakeToken(rand) };
    case 'expired':
      return {
        status: 'unverified',
        token: fakeToken(rand),
        note: 'the attribution token expired (31 days old; a token is valid for 30 days), so the plain visitor and session ids were used',
      };
    case 'forged':
      return {
        status: 'unverified',
        token: fakeToken(rand),
        note: "the attribution token's signature does not match: it was altered or made elsewhere, so the plain visitor and session ids were used",
      };
    case 'othersite':
      return {
        status: 'unverified',
        token: fakeToken(rand),
        note: 'the attribution token was issued for another site (Lumen Docs), so the plain visitor and session ids were used',
      };
    case 'nosession':
      return {
        status: 'ids',
        sessionId: randomId(rand, 16),
        note: 'visitor known, session unknown: credited to their last visit before the payment',
      };
    default:
      return { status: 'ids' };
  }
}

/** A payment that came without a delivery: the revenue API, a backfill, a test payment. */
export function makePayment(
  state,
  {
    provider = 'stripe',
    amount,
    currency = 'USD',
    at = Date.now(),
    source = 'api',
    visit = null,
    attribution = null,
    connectionId = null,
    orderId,
  } = {},
) {
  const n = ++state.seq;
  const payment = {
    id: nextPaymentId(state),
    provider,
    site_id: visit?.site_id ?? state.sites[0]?.id ?? null,
    connection_id: connectionId,
    provider_payment_id:
      provider === 'stripe'
        ? `pi_3P${n}kQ${randomBytes(5).toString('hex')}`
        : provider === 'whop'
          ? `pay_${n}Bf${n}`
          : `txn_01h${n}b${n}`,
    amount_minor: amount,
    currency,
    status: source === 'test' ? 'paid' : 'succeeded',
    refunded_minor: 0,
    net_minor: amount,
    visitor_id: visit?.visitor_id ?? null,
    session_id: attribution?.sessionId ?? visit?.id ?? null,
    attribution_token: attribution?.token ?? null,
    order_id: orderId ?? (source === 'api' ? `ord_${4400 + n}` : null),
    customer_email: source === 'test' ? null : `buyer${n}@example.com`,
    paid_at: iso(at),
    created_at: iso(at),
    delivery_id: null,
    refunds: [],
    source,
    ...(attribution?.status ? { attribution_status: attribution.status } : {}),
    ...(attribution?.note ? { attribution_note: attribution.note } : {}),
  };
  state.payments.unshift(payment);
  return payment;
}

const paidAt = (p) => p.paid_at ?? p.created_at;

function touchOf(s) {
  return {
    session_id: s.id,
    channel: s.channel,
    source: s.source,
    campaign: s.utm_campaign,
    landing_page: s.landing_page,
    referrer: s.referrer,
    started_at: s.started_at,
  };
}

/** The visitor's sessions on the payment's site up to the payment, oldest first. */
function sessionsBefore(state, p) {
  const visitorId = p.visitor_id ?? state.sessions.find((x) => x.id === p.session_id)?.visitor_id;
  if (!visitorId) return [];
  const at = Date.parse(paidAt(p));
  return state.sessions
    .filter(
      (x) => x.visitor_id === visitorId && (!p.site_id || x.site_id === p.site_id) && Date.parse(x.started_at) <= at,
    )
    .sort((a, b) => (a.started_at < b.started_at ? -1 : 1));
}

/** First touch, last touch (the checkout's session, else the last before paying), last non-direct. */
function modelsOf(state, p) {
  const list = sessionsBefore(state, p);
  if (!list.length) return { first_touch: null, last_touch: null, last_non_direct: null };
  const i = list.findIndex((x) => x.id === p.session_id);
  const upto = i >= 0 ? list.slice(0, i + 1) : list;
  const last = upto[upto.length - 1];
  const nonDirect = [...upto].reverse().find((x) => x.channel !== 'Direct') ?? last;
  return { first_touch: touchOf(upto[0]), last_touch: touchOf(last), last_non_direct: touchOf(nonDirect) };
}

/** A payment as the API answers it (attribution fields when the build has them). */
function paymentView(state, p, features) {
  if (!p) return p;
  const attributed = !!(p.visitor_id || p.session_id || p.attribution_token);
  const base = { ...p, attributed };
  if (!features.has('attribution')) {
    const { source: _s, attribution_status: _a, attribution_note: _n, ...old } = base;
    return old;
  }
  return {
    ...base,
    source: p.source ?? 'webhook',
    attribution_status: p.attribution_status ?? (attributed ? 'ids' : 'none'),
    attribution_note: p.attribution_note ?? null,
    models: modelsOf(state, p),
  };
}

function journeyOf(state, p, features) {
  const list = sessionsBefore(state, p);
  const models = modelsOf(state, p);
  return {
    payment: paymentView(state, p, features),
    visitor_id: p.visitor_id ?? list[0]?.visitor_id ?? null,
    sessions: list.map((x) => ({
      ...summaryOfSession(x),
      pages: x.events.map(({ name, path, at }) => ({ name, path, at })),
      touches: Object.entries(models)
        .filter(([, t]) => t?.session_id === x.id)
        .map(([m]) => m),
    })),
  };
}

/** Payments that count as revenue (a test payment does not). */
function revenuePayments(state, siteId) {
  return state.payments.filter((x) => x.source !== 'test' && (!siteId || x.site_id === siteId));
}

const MODELS = ['first_touch', 'last_touch', 'last_non_direct'];
const BYS = ['channel', 'source', 'campaign', 'landing_page', 'referrer'];

/** As the backend keys rows: what a session did not have (a campaign, a referrer) is `(none)`. */
function keyOf(t, by) {
  if (by === 'referrer') return (t.referrer ? hostOf(t.referrer) : null) ?? '(none)';
  return t[by] ?? '(none)';
}

/** Payments of the range and the currency picked (or the one with most revenue), with the visits. */
function attributionBase(state, siteId, days, currency) {
  const from = since(days);
  const inRange = revenuePayments(state, siteId).filter((x) => Date.parse(paidAt(x)) >= from);
  const net = new Map();
  for (const x of inRange) net.set(x.currency, (net.get(x.currency) ?? 0) + x.amount_minor - x.refunded_minor);
  const currencies = [...net].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([c]) => c);
  const cur = currency ?? currencies[0] ?? 'USD';
  const sessions = state.sessions.filter((x) => (!siteId || x.site_id === siteId) && Date.parse(x.started_at) >= from);
  return { from, currencies, currency: cur, payments: inRange.filter((x) => x.currency === cur), sessions };
}

function rate(payments, visitors) {
  return visitors > 0 ? Math.min(1, payments / visitors) : null;
}

function perVisitor(net, visitors) {
  return visitors > 0 ? Math.round(net / visitors) : null;
}

/** GET /api/attribution */
function attributionReport(state, siteId, { days, currency, model, by }) {
  const b = attributionBase(state, siteId, days, currency);
  const groups = new Map();
  const group = (key) => {
    const k = key ?? '\u0000';
    if (!groups.has(k)) groups.set(k, { key, sessions: [], payments: 0, net_minor: 0 });
    return groups.get(k);
  };
  for (const x of b.sessions) group(keyOf(touchOf(x), by)).sessions.push(x);
  const unattributed = { payments: 0, net_minor: 0 };
  for (const p of b.payments) {
    const t = modelsOf(state, p)[model];
    const net = p.amount_minor - p.refunded_minor;
    if (!t) {
      unattributed.payments += 1;
      unattributed.net_minor += net;
      continue;
    }
    const g = group(keyOf(t, by));
    g.payments += 1;
    g.net_minor += net;
  }
  const rows = [...groups.values()]
    .map((g) => {
      const visitors = visitorDays(g.sessions);
      return {
        key: g.key,
        visitors,
        payments: g.payments,
        net_minor: g.net_minor,
        currency: b.currency,
        conversion_rate: rate(g.payments, visitors),
        revenue_per_visitor_minor: perVisitor(g.net_minor, visitors),
      };
    })
    // As the backend answers: the keys payments are credited to (visits without a payment are in Traffic).
    .filter((r) => r.payments > 0)
    .sort((x, y) => y.net_minor - x.net_minor || y.visitors - x.visitors)
    .slice(0, 50);
  const visitors = visitorDays(b.sessions);
  const payments = b.payments.length;
  const net = b.payments.reduce((n, p) => n + p.amount_minor - p.refunded_minor, 0);
  return {
    model,
    by,
    currency: b.currency,
    currencies: b.currencies,
    days,
    since: new Date(b.from).toISOString().replace('.000Z', 'Z'),
    rows,
    totals: {
      visitors,
      payments,
      net_minor: net,
      conversion_rate: rate(payments, visitors),
      revenue_per_visitor_minor: perVisitor(net, visitors),
    },
    unattributed,
  };
}

/** GET /api/attribution/compare */
function compareReport(state, siteId, { days, currency, by }) {
  const reports = Object.fromEntries(
    MODELS.map((m) => [m, attributionReport(state, siteId, { days, currency, model: m, by })]),
  );
  const keys = new Map();
  for (const m of MODELS)
    for (const r of reports[m].rows) {
      const k = r.key ?? '\u0000';
      const row = keys.get(k) ?? {
        key: r.key,
        visitors: r.visitors,
        first_touch: { payments: 0, net_minor: 0 },
        last_touch: { payments: 0, net_minor: 0 },
        last_non_direct: { payments: 0, net_minor: 0 },
      };
      row[m] = { payments: r.payments, net_minor: r.net_minor };
      keys.set(k, row);
    }
  const base = reports.last_touch;
  const rows = [...keys.values()].sort(
    (x, y) =>
      Math.max(y.first_touch.net_minor, y.last_touch.net_minor, y.last_non_direct.net_minor) -
        Math.max(x.first_touch.net_minor, x.last_touch.net_minor, x.last_non_direct.net_minor) ||
      y.visitors - x.visitors,
  );
  const unattributed = Object.fromEntries(MODELS.map((m) => [m, reports[m].unattributed]));
  return { by, currency: base.currency, currencies: base.currencies, days, since: base.since, rows, unattributed };
}

const DIGITS = { JPY: 0, KRW: 0, KWD: 3, BHD: 3, OMR: 3, JOD: 3, TND: 3 };
function decimal(minor, currency) {
  const d = DIGITS[currency] ?? 2;
  const neg = minor < 0;
  const abs = String(Math.abs(minor)).padStart(d + 1, '0');
  return (neg ? '-' : '') + (d ? abs.slice(0, -d) + '.' + abs.slice(-d) : abs);
}

function csv(rows) {
  const cell = (v) => {
    const t = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
  };
  return rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

function sendCsv(res, name, rows) {
  res.writeHead(200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${name}"`,
  });
  res.end(csv(rows));
}

function ratio(v) {
  return v === null || v === undefined ? '' : v.toFixed(4);
}

function since(days, now = Date.now()) {
  return (Math.floor(now / DAY) - (days - 1)) * DAY;
}

/** Visitors as the backend's daily rollups count them: once a day each, the days added up. */
function visitorDays(list) {
  return new Set(list.map((x) => `${x.started_at.slice(0, 10)} ${x.visitor_id}`)).size;
}

function top(list, keyOf) {
  const groups = new Map();
  for (const x of list) {
    const key = keyOf(x) ?? null;
    if (key === null) continue;
    const g = groups.get(key) ?? { key, list: [] };
    g.list.push(x);
    groups.set(key, g);
  }
  return [...groups.values()]
    .map((g) => ({ key: g.key, visitors: visitorDays(g.list), sessions: g.list.length }))
    .sort((a, b) => b.visitors - a.visitors || b.sessions - a.sessions)
    .slice(0, 10);
}

function hostOf(url) {
  try {
    return new URL(url).hostname.replace(/^www\./, '');
  } catch {
    return null;
  }
}

/** GET /api/traffic over the sample sessions (UTC days). */
function trafficReport(state, siteId, days) {
  const from = since(days);
  const list = state.sessions.filter((x) => (!siteId || x.site_id === siteId) && Date.parse(x.started_at) >= from);
  const daily = new Map();
  for (let d = from; d <= Date.now(); d += DAY)
    daily.set(new Date(d).toISOString().slice(0, 10), { visitors: new Set(), sessions: 0, pageviews: 0 });
  for (const x of list) {
    const day = daily.get(x.started_at.slice(0, 10));
    if (!day) continue;
    day.visitors.add(x.visitor_id);
    day.sessions += 1;
    day.pageviews += x.pageviews;
  }
  return {
    days,
    since: new Date(from).toISOString().replace('.000Z', 'Z'),
    visitors: visitorDays(list),
    sessions: list.length,
    pageviews: list.reduce((n, x) => n + x.pageviews, 0),
    bounce_rate: list.length ? list.filter((x) => x.pageviews === 1).length / list.length : null,
    daily: [...daily].map(([day, d]) => ({
      day,
      visitors: d.visitors.size,
      sessions: d.sessions,
      pageviews: d.pageviews,
    })),
    channels: top(list, (x) => x.channel),
    sources: top(list, (x) => x.source ?? 'Direct'),
    campaigns: top(list, (x) => x.utm_campaign),
    landing_pages: top(list, (x) => x.landing_page),
    referrers: top(list, (x) => (x.referrer ? hostOf(x.referrer) : null)),
  };
}

function liveReport(state, siteId) {
  const cut = Date.now() - 5 * 60e3;
  const active = state.sessions.filter((x) => (!siteId || x.site_id === siteId) && Date.parse(x.last_seen_at) >= cut);
  const pages = new Map();
  for (const x of active) {
    const p = x.events[x.events.length - 1]?.path ?? x.landing_page;
    pages.set(p, (pages.get(p) ?? new Set()).add(x.visitor_id));
  }
  return {
    visitors: new Set(active.map((x) => x.visitor_id)).size,
    pages: [...pages].map(([path, v]) => ({ path, visitors: v.size })).sort((a, b) => b.visitors - a.visitors),
  };
}

const QUICK_TUNNEL_NOTE =
  'A Cloudflare quick tunnel gets a new address each time Faurya starts, and the script tag on your site would stop working. Use a reserved ngrok domain, a named Cloudflare tunnel or your own domain, or proxy /js/script.js and /api/event through your own site (data-api).';
const NO_URL_NOTE = 'Faurya has no public URL yet: choose a tunnel or enter your own URL in Settings.';

function installInfo(state, site) {
  const url = state.settings.public_url;
  const own = state.sessions.filter((x) => x.site_id === site.id);
  const first = own.reduce((m, x) => (!m || x.started_at < m.started_at ? x : m), null);
  const lastAt = own.reduce((m, x) => (!m || x.last_seen_at > m ? x.last_seen_at : m), null);
  const quick = state.settings.tunnel?.backend === 'cloudflared' && state.settings.public_url_source === 'tunnel';
  const stable = state.publicUrlStable ?? !quick;
  return {
    script_url: url ? `${url}/js/script.js` : null,
    snippet: url ? `<script defer src="${url}/js/script.js" data-site="${site.id}"></script>` : null,
    public_url: url,
    public_url_stable: url ? stable : false,
    public_url_note: !url
      ? NO_URL_NOTE
      : !stable
        ? quick
          ? QUICK_TUNNEL_NOTE
          : 'This public URL may change when Faurya restarts.'
        : null,
    event_url: url ? `${url}/api/event` : null,
    first_event: first ? { at: first.events[0].at, url: first.events[0].url, name: first.events[0].name } : null,
    last_event_at: lastAt,
  };
}

/** As the backend does: the host of a pasted URL, no port, no leading www. */
function cleanDomain(raw) {
  let v = String(raw).trim().toLowerCase();
  v = v
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, '')
    .replace(/[/?#].*$/, '')
    .replace(/:\d*$/, '')
    .replace(/\.$/, '');
  return v.startsWith('www.') ? v.slice(4) : v;
}

/** The API's 422 for a site body, or null. */
function siteFields(b, { partial = false } = {}) {
  const fields = {};
  if (!partial || 'name' in b) {
    if (typeof b.name !== 'string' || !b.name.trim()) fields.name = 'Give the site a name.';
    else if (b.name.trim().length > 80) fields.name = 'Keep the name under 80 characters.';
  }
  if (!partial || 'domains' in b) {
    if (!Array.isArray(b.domains)) fields.domains = 'Send the domains as a list.';
    else {
      const bad = b.domains.find(
        (d) => typeof d !== 'string' || !(HOSTNAME.test(cleanDomain(d)) || cleanDomain(d) === 'localhost'),
      );
      if (bad !== undefined) fields.domains = `${JSON.stringify(bad)} is not a domain name like example.com.`;
    }
  }
  if (b.name === 'server-says-no') fields.name = 'A site with this name exists already.';
  return Object.keys(fields).length ? fields : null;
}

/** Sample history: a month of payments in three currencies, refunds, failures, rejections. */
export function seed(state, now = Date.now()) {
  if (state.sites.length) seedTracking(state, now);
  state.settings.public_url = 'https://quiet-river.trycloudflare.com';
  state.settings.public_url_source = state.settings.tunnel ? 'tunnel' : 'settings';
  if (state.settings.tunnel)
    Object.assign(state.settings.tunnel, {
      backend: 'cloudflared',
      state: 'up',
      url: state.settings.public_url,
      updated_at: iso(now - 3600e3),
    });
  const whop = addConnection(
    state,
    { provider: 'whop', api_key: 'apik_live_8f2c19ab3f9a', company_id: 'biz_Qm4Lx2Vn8', environment: 'production' },
    now - 32 * 86400e3,
  );
  const paddle = addConnection(
    state,
    { provider: 'paddle', api_key: 'pdl_sdbx_apikey_01h7k2c4d1e7', environment: 'sandbox' },
    now - 20 * 86400e3,
  );
  whop.last_delivery_at = iso(now - 3 * 60e3);
  paddle.last_delivery_at = iso(now - 5 * 3600e3);
  const day = 86400e3;
  const rand = prng(4242);
  const main = state.sites[0] ?? null;
  // [days ago, provider, amount minor, currency, journey (null: unattributed), how it was attributed]
  const plan = [
    [29, 'whop', 4900, 'USD', 'searchThenDirect', 'verified'],
    [27, 'whop', 4900, 'USD', null],
    [26, 'paddle', 1900, 'EUR', 'googleSame', 'ids'],
    [24, 'whop', 9900, 'USD', 'redditEmailDirect', 'verified'],
    [22, 'whop', 4900, 'USD', 'chatgptDirect', 'verified'],
    [21, 'paddle', 3000, 'JPY', 'youtubeGoogleDirect', 'ids'],
    [19, 'whop', 19900, 'USD', 'paidThenOrganic', 'verified'],
    [18, 'whop', 4900, 'USD', null],
    [16, 'paddle', 1900, 'EUR', 'xDirect', 'expired'],
    [14, 'whop', 9900, 'USD', 'fbEmail', 'verified'],
    [13, 'whop', 4900, 'USD', 'newsletterSame', 'verified'],
    [12, 'whop', 4900, 'USD', 'hnSame', 'verified'],
    [11.8, 'whop', 9900, 'USD', 'hnThenDirect', 'verified'],
    [11, 'whop', 4900, 'USD', 'hnSame', 'ids'],
    [10, 'paddle', 4900, 'EUR', null],
    [9, 'whop', 14900, 'USD', 'again:0', 'verified'],
    [8, 'whop', 4900, 'USD', 'affiliateDirect', 'forged'],
    [7, 'whop', 9900, 'USD', 'chatgptDirect', 'verified'],
    [6, 'paddle', 1250, 'KWD', 'googleSame', 'ids'],
    [5, 'whop', 4900, 'USD', 'directOnly', 'verified'],
    [4, 'whop', 24900, 'USD', 'phEmail', 'verified'],
    [3, 'whop', 4900, 'USD', null],
    [2, 'paddle', 1900, 'EUR', 'redditEmailDirect', 'othersite'],
    [1, 'whop', 9900, 'USD', 'perplexitySame', 'verified'],
    [0.2, 'whop', 4900, 'USD', 'searchThenDirect', 'nosession'],
  ];
  const buyers = [];
  for (const [ago, provider, amount, currency, journey, how] of plan) {
    const at = now - ago * day - 3600e3 * (ago % 5);
    // `again:N`: the buyer of plan[N] comes back (a newsletter, then a typed-in visit) and upgrades.
    const again = journey?.startsWith('again:') ? buyers[Number(journey.slice(6))] : null;
    const buyer =
      again && main
        ? makeJourney(state, rand, main, 'upgrade', at, again.visitorId)
        : journey && main
          ? makeJourney(state, rand, main, journey, at)
          : null;
    buyers.push(buyer);
    makeDelivery(state, {
      provider,
      amount,
      currency,
      attributed: !!journey,
      at,
      visit: buyer?.last ?? null,
      attribution: journey ? attributionOf(how, rand) : null,
    });
    if (ago === 22)
      makeDelivery(state, {
        provider,
        type: 'payment.pending',
        status: 'ignored',
        at: now - ago * day + 60e3,
        amount,
        currency,
      });
  }
  // Sent by the founder's server to POST /api/revenue (a Stripe checkout), found by a backfill, and a test.
  const others = [
    [15, 'stripe', 2900, 'USD', 'newsletterSame', 'verified', 'api'],
    [6.5, 'stripe', 2900, 'USD', 'googleSame', 'ids', 'api'],
    [1.5, 'stripe', 4900, 'EUR', 'paidThenOrganic', 'verified', 'api'],
    [17, 'whop', 4900, 'USD', 'xDirect', 'verified', 'backfill'],
    [0.6, 'whop', 4900, 'USD', null, null, 'test'],
  ];
  for (const [ago, provider, amount, currency, journey, how, source] of others) {
    const at = now - ago * day - 3600e3 * (ago % 5);
    const buyer = journey && main ? makeJourney(state, rand, main, journey, at) : null;
    makePayment(state, {
      provider,
      amount,
      currency,
      at,
      source,
      visit: buyer?.last ?? null,
      attribution: journey ? attributionOf(how, rand) : null,
      connectionId: provider === 'whop' ? whop.id : null,
    });
  }
  state.sessions.sort((a, b) => (a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : 0));
  // A refund on one payment.
  const refunded = state.payments.find((p) => p.amount_minor === 19900);
  refunded.refunded_minor = 5000;
  refunded.net_minor = 14900;
  // Like the backend, the status stays the provider's; the UI reads the refund from the amounts.
  refunded.status = 'succeeded';
  refunded.refunds.push({
    provider_refund_id: 'rfnd_7Kp2',
    amount_minor: 5000,
    status: 'succeeded',
    created_at: iso(now - 17 * day),
  });
  const rf = makeDelivery(state, {
    provider: 'whop',
    type: 'refund.created',
    status: 'processed',
    at: now - 17 * day,
    amount: 5000,
    currency: 'USD',
  });
  rf.payment = refunded;
  rf.payment_id = refunded.id;
  const dup = makeDelivery(state, {
    provider: 'whop',
    type: 'payment.succeeded',
    status: 'duplicate',
    at: now - 4 * day + 90e3,
    amount: 24900,
  });
  // A duplicate creates no payment (makeDelivery records payments for processed deliveries only).
  dup.payment = null;
  dup.payment_id = null;
  dup.duplicate_of = state.events.find((e) => e.amount_minor === 24900 && e.status === 'processed')?.id ?? null;
  dup.note = `repeat of ${dup.duplicate_of}: same delivery id, not processed again`;
  dup.amount_minor = null;
  dup.currency = null;
  makeDelivery(state, {
    provider: 'whop',
    type: 'payment.succeeded',
    status: 'failed',
    at: now - 2 * day,
    amount: 1999,
  });
  makeDelivery(state, { provider: 'whop', type: 'payment.succeeded', status: 'rejected', at: now - 1 * day });
  makeDelivery(state, { provider: 'whop', type: 'membership.went_valid', status: 'ignored', at: now - 0.5 * day });
  const lastBuyer = main ? makeJourney(state, rand, main, 'chatgptDirect', now - 3 * 60e3) : null;
  makeDelivery(state, {
    provider: 'whop',
    type: 'payment.succeeded',
    status: 'processed',
    at: now - 3 * 60e3,
    amount: 4900,
    attributed: true,
    visit: lastBuyer?.last ?? visitBefore(state, now - 3 * 60e3),
    attribution: attributionOf('verified', rand),
  });
  state.sessions.sort((a, b) => (a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : 0));
  state.events.sort((a, b) => (a.received_at < b.received_at ? 1 : -1));
  for (const c of state.connections) c.deliveries = state.events.filter((e) => e.connection_id === c.id).length;
  state.payments.sort((a, b) => (a.paid_at < b.paid_at ? 1 : -1));

  // Issue 13: the Whop account forwards to a local handler (down just now: a retry is queued);
  // its last test payment passed.
  whop.forward_url = 'http://localhost:3000/api/webhooks/whop';
  const recent = state.events.filter(
    (e) => e.connection_id === whop.id && e.verdict === 'verified' && e.received_at > iso(now - 3 * day),
  );
  const answers = [
    [{ status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>', ms: 3 }],
    [{ status: 200, body: '{"received":true}', ms: 41 }],
    [{ error: 'connection refused' }, { status: 200, body: '{"received":true}', ms: 37 }],
  ];
  recent.slice(0, answers.length).forEach((e, i) => {
    state.forwardAnswers = [...answers[i]];
    const at = Date.parse(e.received_at);
    answers[i].forEach((_, n) => {
      forwardDelivery(state, e, whop.forward_url);
      const sent = e.forwards.find((a) => a.sent !== false);
      sent.at = iso(at + 50 + n * 10e3);
    });
    const queued = e.forwards.find((a) => a.sent === false);
    if (queued) queued.next_retry_at = iso(now + 2 * 60e3);
  });
  const test = state.payments.find((x) => x.source === 'test');
  if (test) {
    const run = finishRun(
      {
        id: 'test_5c1e0f9a2b7d4e6f',
        connection_id: whop.id,
        provider: 'whop',
        via: 'faurya',
        ok: false,
        started_at: test.created_at,
        finished_at: null,
        failed_step: null,
        message: null,
        steps: testSteps('whop', 'faurya'),
        delivery_id: null,
        payment_id: test.id,
      },
      {
        public_url: state.settings.public_url,
        sign: 'payment.succeeded, $49.00',
        send: 'Faurya answered 200',
        verify: 'stored',
        process: 'test payment recorded',
      },
    );
    run.finished_at = iso(Date.parse(test.created_at) + 900);
    whop.last_test = run;
  }
}

// ---- issue 13: test payments, forwarding ------------------------------------------------------

/** The steps of a test payment, in order, as the backend labels them (crates/faurya/src/test_payment.rs). */
function testSteps(provider, via) {
  const name = provider === 'whop' ? 'Whop' : 'Paddle';
  const middle =
    via === 'provider'
      ? [
          [
            'ask_provider',
            provider === 'whop' ? 'Asked Whop to send a test' : "Asked Paddle's simulator to send a test",
          ],
          ['send', `${name}'s servers reached the public URL`],
        ]
      : [
          ['sign', "Signed with this connection's secret"],
          ['send', 'Sent through the public URL'],
        ];
  return [
    ['public_url', 'Public URL'],
    ...middle,
    ['verify', 'Signature verified and stored'],
    ['process', 'Parsed into a test payment'],
  ].map(([key, label]) => ({ key, label, state: 'skipped', detail: null }));
}

/** A finished run: every step up to `failAt` passed (with its detail), that one failed, the rest skipped. */
function finishRun(run, details, failAt = null, message = null) {
  let failed = false;
  for (const step of run.steps) {
    if (failed) continue;
    if (step.key === failAt) {
      step.state = 'failed';
      step.detail = details[step.key] ?? null;
      failed = true;
    } else {
      step.state = 'ok';
      step.detail = details[step.key] ?? null;
    }
  }
  run.ok = !failAt;
  run.failed_step = failAt;
  run.message = message;
  run.finished_at = iso(Date.now());
  return run;
}

/** As the backend checks a forward target: http(s), a host, no credentials, no fragment; else the field's message. */
function forwardTargetProblem(text) {
  const v = String(text ?? '').trim();
  if (!v) return 'Give a URL such as http://localhost:3000/api/webhooks/whop.';
  let u;
  try {
    u = new URL(v);
  } catch {
    return 'That is not a URL; use e.g. http://localhost:3000/api/webhooks.';
  }
  if (!/^https?:$/.test(u.protocol)) return `Use an http:// or https:// URL, not ${u.protocol}//.`;
  if (u.username || u.password)
    return "Leave credentials out of the URL; Faurya passes the provider's signature headers instead.";
  if (v.includes('#')) return 'Leave the #fragment out: it is never sent to a server.';
  return null;
}

/** Waits before the 2nd … 8th automatic attempt (10 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h). */
const FORWARD_BACKOFF = [10e3, 30e3, 120e3, 600e3, 1800e3, 3600e3, 10800e3];

/**
 * One send of a delivery to `url`, answered from `state.forwardAnswers` (a queue of
 * `{status, body}` or `{error}`; empty: 200 `{"received":true}`). An automatic one that fails
 * queues the next (a row with `sent: false`) per the back-off, until the 8th.
 */
export function forwardDelivery(state, e, url, { manual = false } = {}) {
  e.forwards ??= [];
  const answer = state.forwardAnswers?.length
    ? state.forwardAnswers.shift()
    : { status: 200, body: '{"received":true}' };
  const body = answer.error ? null : (answer.body ?? '');
  const cut = body !== null && Buffer.byteLength(body) > 2048;
  const ok = !answer.error && answer.status >= 200 && answer.status < 300;
  let attempt;
  if (manual) {
    attempt = { id: ++state.forwardSeq, url, attempt: e.forwards.filter((a) => a.manual).length + 1, manual: true };
  } else {
    // The queued retry (if any) is the one sent now.
    const queued = e.forwards.find((a) => !a.manual && a.sent === false);
    attempt = queued ?? {
      id: ++state.forwardSeq,
      url,
      attempt: e.forwards.filter((a) => !a.manual).length + 1,
      manual: false,
    };
    if (queued) e.forwards = e.forwards.filter((a) => a !== queued);
  }
  Object.assign(attempt, {
    at: iso(Date.now()),
    sent: true,
    status_code: answer.error ? null : answer.status,
    duration_ms: answer.error ? null : (answer.ms ?? 12),
    response_body: cut ? Buffer.from(body).subarray(0, 2048).toString('utf8') : body,
    response_truncated: cut,
    error: answer.error ?? null,
    ok,
    next_retry_at: null,
  });
  e.forwards.unshift(attempt);
  if (!manual && !ok && attempt.attempt < 8) {
    const next = {
      id: ++state.forwardSeq,
      url,
      attempt: attempt.attempt + 1,
      manual: false,
      at: iso(Date.now()),
      sent: false,
      status_code: null,
      duration_ms: null,
      response_body: null,
      response_truncated: false,
      error: null,
      ok: false,
      next_retry_at: iso(Date.now() + FORWARD_BACKOFF[attempt.attempt - 1]),
    };
    e.forwards.unshift(next);
  }
  return attempt;
}

/** The delivery's forwarding as the list shows it (the backend's `state_of`), or null. */
function forwardStateOf(e) {
  const list = e.forwards ?? [];
  if (!list.length) return null;
  const sent = list.filter((a) => a.sent !== false);
  const status_code = sent[0]?.status_code ?? null;
  const auto = list.find((a) => !a.manual);
  let state;
  if (auto) {
    if (auto.sent === false) state = auto.attempt > 1 ? 'retrying' : 'pending';
    else if (auto.ok) state = 'delivered';
    else state = auto.attempt >= 8 ? 'failed' : 'retrying';
  } else state = status_code !== null && status_code >= 200 && status_code < 300 ? 'delivered' : 'failed';
  return { state, status_code, attempts: sent.length };
}

/** Whether a delivery may be forwarded: verified, from a provider (not a backfill, not the revenue API). */
function forwardable(e) {
  return e.verdict === 'verified' && !String(e.delivery_id ?? '').startsWith('backfill:') && e.provider !== 'api';
}

function addConnection(state, { provider, api_key, company_id, environment, site_id }, at = Date.now()) {
  const id = 'con_' + randomBytes(8).toString('hex');
  const conn = {
    id,
    provider,
    site_id: site_id ?? state.sites[0]?.id ?? null,
    environment,
    account_id: provider === 'whop' ? company_id : null,
    masked_key: masked(api_key),
    webhook_id:
      provider === 'whop' ? 'hook_' + randomBytes(6).toString('hex') : 'ntfset_01h' + randomBytes(6).toString('hex'),
    webhook_url: `${state.settings.public_url}/webhooks/${provider}/${id}`,
    created_at: iso(at),
    last_delivery_at: null,
    deliveries: 0,
    sync: { state: 'ok', error: null, updated_at: iso(at) },
    last_test: null,
    forward_url: null,
  };
  state.connections.unshift(conn);
  // As the backend does: Start at login turns on with the first provider, unless the founder chose.
  const d = state.settings.desktop;
  if (d && !d.start_at_login_set) d.start_at_login = true;
  return conn;
}

function summary(e) {
  const {
    headers: _h,
    body_text: _t,
    body_base64: _b,
    body_size: _s,
    body_truncated: _bt,
    payment: _p,
    webhook_url: _w,
    forwards: _f,
    ...rest
  } = e;
  return rest;
}

/** GET /api/revenue/summary over the sample payments (UTC days, as the backend does). */
function revenueSummary(payments, days) {
  const dayMs = 86400e3;
  const since = (Math.floor(Date.now() / dayMs) - (days - 1)) * dayMs;
  const totals = (list) => {
    const map = new Map();
    for (const p of list) {
      const t = map.get(p.currency) ?? {
        currency: p.currency,
        payments: 0,
        attributed: 0,
        gross_minor: 0,
        refunded_minor: 0,
        net_minor: 0,
      };
      t.payments += 1;
      t.attributed += p.visitor_id || p.session_id ? 1 : 0;
      t.gross_minor += p.amount_minor;
      t.refunded_minor += p.refunded_minor;
      t.net_minor += p.amount_minor - p.refunded_minor;
      map.set(p.currency, t);
    }
    return [...map.values()].sort((a, b) => b.gross_minor - a.gross_minor);
  };
  const inWindow = payments.filter((p) => Date.parse(p.paid_at ?? p.created_at) >= since);
  const daily = new Map();
  for (const p of inWindow) {
    const day = new Date(p.paid_at ?? p.created_at).toISOString().slice(0, 10);
    const key = `${day} ${p.currency}`;
    daily.set(key, {
      day,
      currency: p.currency,
      net_minor: (daily.get(key)?.net_minor ?? 0) + p.amount_minor - p.refunded_minor,
    });
  }
  return {
    days,
    since: new Date(since).toISOString().replace('.000Z', 'Z'),
    all_time: totals(payments),
    window: totals(inWindow),
    daily: [...daily.values()].sort((a, b) => (a.day < b.day ? -1 : 1)),
  };
}

function page(list, url, map = (x) => x) {
  const limit = Math.min(200, Math.max(1, Number(url.searchParams.get('limit') ?? 50)));
  const offset = Number(url.searchParams.get('cursor') ?? 0) || 0;
  const items = list.slice(offset, offset + limit).map(map);
  return { items, next: offset + limit < list.length ? String(offset + limit) : null };
}

/**
 * `store` sets what /api/health says of the database at start (e.g. `DISK_FULL`; `since` defaults
 * to 12 minutes ago); `setStore` and `POST /__fake/store?writable=false&error=…` change it later.
 * `tokenFromEnv` makes a bad sign-in link say the token comes from FAURYA_ADMIN_TOKEN (else the
 * token file in the data dir). `setTunnel` changes the tunnel's state as the backend would report it.
 * `desktop: true` answers as the desktop app does (`settings.desktop.available`); by default it is
 * false, as under `faurya serve`.
 *
 * Issue 13 hooks on `state`: `forwardAnswers` (a queue of `{status, body, ms}` or `{error}` the
 * forward target answers, then 200), `tunnelTest` with `ok: false` (the public URL does not
 * answer: a test payment fails at "Sent through the public URL" with its error),
 * `providerTestRefusal` (the provider refuses to send a test: the message), `testDelayMs` (how
 * long a test payment takes, 400 ms by default). `runDueForwards()` sends queued retries now.
 * @param {{ features?: string[], auth?: boolean, token?: string, seed?: boolean, port?: number, tokenFromEnv?: boolean,
 *   failDeleteFor?: string[], store?: { writable: boolean, error?: string | null, since?: string | null },
 *   desktop?: boolean }} [opts]
 */
export async function startFakeAdmin(opts = {}) {
  const features = new Set(opts.features ?? ALL_FEATURES);
  const token = opts.token ?? 'test-token';
  const state = {
    seq: 0,
    settings: {
      public_url: null,
      public_url_source: null,
      data_dir: '/home/founder/.local/share/faurya',
      public_addr: '127.0.0.1:8787',
      admin_addr: '127.0.0.1:8788',
      version: '0.1.0',
      signature_tolerance_secs: 300,
      ...(features.has('tunnel')
        ? {
            tunnel: {
              backend: 'none',
              state: 'off',
              url: null,
              error: null,
              updated_at: iso(Date.now() - 3600e3),
              cloudflared: {
                installed: true,
                path: '/usr/bin/cloudflared',
                install_hint: 'Install cloudflared with Homebrew: `brew install cloudflared`.',
              },
              ngrok: { authtoken_set: false, masked_authtoken: null, domain: null },
              bore: { host: null, port: 0, secret_set: false, public_url: null },
            },
          }
        : {}),
      ...(features.has('desktop')
        ? {
            desktop: {
              available: !!opts.desktop,
              notify_payments: true,
              notify_test_payments: false,
              start_at_login: false,
              start_at_login_set: false,
            },
          }
        : {}),
    },
    connections: [],
    events: [],
    payments: [],
    sites: [],
    sessions: [],
    requests: [],
    failDelete: new Set(opts.failDeleteFor ?? []),
    store: { writable: true, error: null, since: null },
    backups: 0,
    forwardSeq: 0,
    forwardAnswers: [],
  };
  // A fresh install has one site, "My site", with no domains.
  if (features.has('sites')) makeSite(state, { name: 'My site', domains: [] });
  if (opts.seed) seed(state);
  const streams = new Set();

  /** What /api/health says of the store; a failing one gets a reason and a start by default. */
  function setStore(next, { resync = true } = {}) {
    const writable = next?.writable !== false;
    state.store = writable
      ? { writable: true, error: null, since: null }
      : { writable: false, error: next.error ?? DISK_FULL.error, since: next.since ?? iso(Date.now() - 12 * 60e3) };
    // The UI checks /api/health again on a resync (and every 15 s anyway).
    if (resync) emit('resync');
  }
  if (opts.store) setStore(opts.store, { resync: false });

  /** Like the backend: the data is a bare id (or empty), not JSON. */
  function emit(topic, data = '') {
    for (const res of streams) res.write(`event: ${topic}\ndata: ${data}\n\n`);
  }

  /** A test payment goes with its deliveries. */
  function removePayment(x) {
    state.payments = state.payments.filter((y) => y !== x);
    const gone = state.events.filter((e) => e.payment_id === x.id || e.id === x.delivery_id);
    state.events = state.events.filter((e) => !gone.includes(e));
    for (const c of state.connections) c.deliveries = state.events.filter((e) => e.connection_id === c.id).length;
  }

  /** A connection as the API answers it: issue 13's fields only in a build that has them. */
  function connectionView(c) {
    const { last_test, forward_url, ...rest } = c;
    return {
      ...rest,
      ...(features.has('test_payments') ? { last_test } : {}),
      ...(features.has('forwarding') ? { forward_url } : {}),
    };
  }

  /** A delivery in the list (`forward`) or in full (`forwards`, `forward_state`, `next_retry_at`). */
  function eventView(e, full) {
    const base = full ? { ...e, payment: paymentView(state, e.payment, features) } : summary(e);
    if (!features.has('forwarding')) {
      const { forwards: _f, ...old } = base;
      return old;
    }
    const forward = forwardStateOf(e);
    if (!full) return { ...base, forward };
    const list = e.forwards ?? [];
    return {
      ...base,
      forwards: list,
      forward: forward,
      forward_state: forward,
      next_retry_at: list.find((a) => a.sent === false)?.next_retry_at ?? null,
    };
  }

  /** Forward a new delivery of a connection that has a target, as the backend's queue does. */
  function autoForward(e) {
    const conn = state.connections.find((c) => c.id === e.connection_id);
    if (!features.has('forwarding') || !conn?.forward_url || !forwardable(e)) return;
    forwardDelivery(state, e, conn.forward_url);
  }

  /** POST /api/connections/{id}/test-payment, as crates/faurya/src/test_payment.rs runs it. */
  async function runTestPayment(conn, via) {
    const name = conn.provider === 'whop' ? 'Whop' : 'Paddle';
    const run = {
      id: 'test_' + randomBytes(8).toString('hex'),
      connection_id: conn.id,
      provider: conn.provider,
      via,
      ok: false,
      started_at: iso(Date.now()),
      finished_at: null,
      failed_step: null,
      message: null,
      steps: testSteps(conn.provider, via),
      delivery_id: null,
      payment_id: null,
    };
    await new Promise((r) => setTimeout(r, state.testDelayMs ?? 400));
    const url = state.settings.public_url;
    const details = { public_url: url };
    if (!url) {
      const why =
        state.settings.tunnel?.state === 'down'
          ? `A test payment needs a public URL, and the tunnel is down (${state.settings.tunnel.error ?? 'it stopped'}). Fix it in Settings, then try again.`
          : 'A test payment needs a public URL: choose a tunnel in Settings, then try again.';
      details.public_url = why;
      return finishRun(run, details, 'public_url', why);
    }
    if (via === 'provider') {
      if (state.providerTestRefusal) {
        details.ask_provider = state.providerTestRefusal;
        return finishRun(run, details, 'ask_provider', `${name} refused: ${state.providerTestRefusal}`);
      }
      details.ask_provider =
        conn.provider === 'whop'
          ? 'test webhook requested'
          : `simulation run ntfsimrun_01h${randomBytes(4).toString('hex')}`;
    } else {
      details.sign = `${conn.provider === 'whop' ? 'payment.succeeded' : 'transaction.completed'}, $49.00`;
    }
    if (state.tunnelTest && state.tunnelTest.ok === false) {
      const err = state.tunnelTest.error ?? 'connection refused';
      details.send = err;
      const sender = via === 'provider' ? `${name}'s servers could not reach ${url}` : `${url} did not answer`;
      return finishRun(
        run,
        details,
        'send',
        `The tunnel is unreachable: ${sender} (${err}). Start the tunnel in Settings, then try again.`,
      );
    }
    details.send = 'Faurya answered 200';
    const e = makeDelivery(state, {
      provider: conn.provider,
      connectionId: conn.id,
      amount: 4900,
      currency: 'USD',
      attributed: false,
    });
    Object.assign(e.payment, {
      source: 'test',
      status: 'paid',
      customer_email: 'test@faurya.invalid',
      provider_payment_id: (conn.provider === 'whop' ? 'pay_test' : 'txn_test') + randomBytes(5).toString('hex'),
    });
    e.note = `test payment ${e.payment.provider_payment_id} recorded`;
    conn.deliveries += 1;
    conn.last_delivery_at = e.received_at;
    details.verify = e.id;
    details.process = e.note;
    run.delivery_id = e.id;
    run.payment_id = e.payment.id;
    finishRun(
      run,
      details,
      null,
      `The test payment went all the way: ${via === 'provider' ? `${name}'s test delivery` : 'the signed delivery'} reached Faurya, was verified, stored and recorded as a test. Test payments never count in revenue.`,
    );
    autoForward(e);
    emit('delivery', e.id);
    emit('payment', String(e.payment.id));
    return run;
  }

  async function serveStatic(req, res, url) {
    let file = path.join(uiDist, path.normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, ''));
    if (url.pathname === '/' || !path.extname(file)) file = path.join(uiDist, 'index.html');
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      apiError(res, 404, 'not_found', 'No such file.');
    }
  }

  /** The attribution endpoints (issue 11); false when the path is not one of them. */
  function attributionRoute(req, res, url, p, siteQ) {
    if (req.method !== 'GET') return false;
    if (siteQ && !state.sites.some((x) => x.id === siteQ))
      return apiError(res, 404, 'not_found', 'There is no such site.');
    if (p === '/api/payments.csv') {
      const list = state.payments
        .filter((x) => !siteQ || x.site_id === siteQ)
        .map((x) => paymentView(state, x, features));
      return sendCsv(res, 'faurya-payments.csv', [
        [
          'id',
          'paid_at',
          'provider',
          'source',
          'provider_payment_id',
          'order_id',
          'status',
          'currency',
          'amount',
          'refunded',
          'net',
          'visitor_id',
          'session_id',
          'attribution_status',
          'attribution_note',
          'first_touch_channel',
          'last_touch_channel',
          'last_non_direct_channel',
        ],
        ...list.map((x) => [
          x.id,
          paidAt(x),
          x.provider,
          x.source,
          x.provider_payment_id,
          x.order_id,
          x.status,
          x.currency,
          decimal(x.amount_minor, x.currency),
          decimal(x.refunded_minor, x.currency),
          decimal(x.net_minor, x.currency),
          x.visitor_id,
          x.session_id,
          x.attribution_status,
          x.attribution_note,
          x.models.first_touch?.channel,
          x.models.last_touch?.channel,
          x.models.last_non_direct?.channel,
        ]),
      ]);
    }
    const vis = p.match(/^\/api\/visitors\/([\w-]+)$/);
    if (vis) {
      const sessions = state.sessions.filter((x) => x.visitor_id === vis[1] && (!siteQ || x.site_id === siteQ));
      const payments = state.payments.filter(
        (x) =>
          (x.visitor_id === vis[1] || sessions.some((s) => s.id === x.session_id)) && (!siteQ || x.site_id === siteQ),
      );
      if (!sessions.length && !payments.length)
        return apiError(res, 404, 'not_found', 'There is no such visitor on this site.');
      const first = sessions.reduce((m, x) => (!m || x.started_at < m ? x.started_at : m), null);
      return json(res, 200, {
        visitor_id: vis[1],
        site_id: siteQ ?? sessions[0]?.site_id ?? payments[0]?.site_id,
        first_seen: first,
        sessions: sessions.map(summaryOfSession),
        payments: payments.sort((a, b) => (paidAt(a) < paidAt(b) ? 1 : -1)).map((x) => paymentView(state, x, features)),
      });
    }
    const m = p.match(/^\/api\/attribution(\/compare)?(\.csv)?$/);
    if (!m) return false;
    const q = url.searchParams;
    const fields = {};
    const days = Number(q.get('days') ?? 30);
    if (!(Number.isInteger(days) && days >= 1 && days <= 366)) fields.days = 'Use 1 to 366 days.';
    const model = q.get('model') ?? 'last_touch';
    if (!m[1] && !MODELS.includes(model)) fields.model = 'Use first_touch, last_touch or last_non_direct.';
    const by = q.get('by') ?? 'channel';
    if (!BYS.includes(by)) fields.by = 'Use channel, source, campaign, landing_page or referrer.';
    const currency = q.get('currency') || null;
    if (currency && !/^[A-Z]{3}$/.test(currency)) fields.currency = 'Use an upper-case ISO 4217 code such as USD.';
    if (Object.keys(fields).length) return apiError(res, 422, 'invalid_input', 'Some fields need attention.', fields);
    const label = (key) =>
      key ?? (by === 'campaign' ? '(no campaign)' : by === 'channel' ? '(none)' : '(direct / none)');
    if (!m[1]) {
      const r = attributionReport(state, siteQ, { days, currency, model, by });
      if (!m[2]) return json(res, 200, r);
      return sendCsv(
        res,
        `faurya-revenue-by-${by.replace('_', '-')}-${model.replace(/_/g, '-')}-${days}d-${r.currency}.csv`,
        [
          [by, 'visitors', 'payments', 'net', 'currency', 'conversion_rate', 'revenue_per_visitor'],
          ...r.rows.map((x) => [
            label(x.key),
            x.visitors,
            x.payments,
            decimal(x.net_minor, r.currency),
            r.currency,
            ratio(x.conversion_rate),
            x.revenue_per_visitor_minor === null ? '' : decimal(x.revenue_per_visitor_minor, r.currency),
          ]),
          [
            '(unattributed)',
            '',
            r.unattributed.payments,
            decimal(r.unattributed.net_minor, r.currency),
            r.currency,
            '',
            '',
          ],
          [
            '(total)',
            r.totals.visitors,
            r.totals.payments,
            decimal(r.totals.net_minor, r.currency),
            r.currency,
            ratio(r.totals.conversion_rate),
            r.totals.revenue_per_visitor_minor === null ? '' : decimal(r.totals.revenue_per_visitor_minor, r.currency),
          ],
        ],
      );
    }
    const c = compareReport(state, siteQ, { days, currency, by });
    if (!m[2]) return json(res, 200, c);
    return sendCsv(res, `faurya-models-by-${by.replace('_', '-')}-${days}d-${c.currency}.csv`, [
      [
        by,
        'visitors',
        'first_touch_payments',
        'first_touch_net',
        'last_touch_payments',
        'last_touch_net',
        'last_non_direct_payments',
        'last_non_direct_net',
        'currency',
      ],
      ...c.rows.map((x) => [
        label(x.key),
        x.visitors,
        x.first_touch.payments,
        decimal(x.first_touch.net_minor, c.currency),
        x.last_touch.payments,
        decimal(x.last_touch.net_minor, c.currency),
        x.last_non_direct.payments,
        decimal(x.last_non_direct.net_minor, c.currency),
        c.currency,
      ]),
    ]);
  }

  /** The tracking endpoints; false when the path is not one of them. */
  async function trackingRoute(req, res, url, p) {
    const findSite = (id) => state.sites.find((x) => x.id === id);
    const days = () => {
      const d = Number(url.searchParams.get('days') ?? 30);
      return Number.isInteger(d) && d >= 1 && d <= 366 ? d : null;
    };
    const siteParam = () => {
      const id = url.searchParams.get('site');
      if (id && !findSite(id)) {
        apiError(res, 404, 'not_found', 'There is no such site.');
        return undefined;
      }
      return id;
    };

    if (p === '/api/sites' && req.method === 'GET')
      return json(res, 200, { sites: state.sites.map((x) => siteView(state, x)) });
    if (p === '/api/sites' && req.method === 'POST') {
      const b = await readBody(req);
      const fields = siteFields(b);
      if (fields) return apiError(res, 422, 'invalid_input', 'Some fields need attention.', fields);
      const site = makeSite(state, { name: b.name.trim(), domains: [...new Set(b.domains.map(cleanDomain))] });
      return json(res, 201, { ...siteView(state, site), write_key: site.write_key });
    }
    const one = p.match(/^\/api\/sites\/([\w-]+)(\/write-key|\/install)?$/);
    if (one) {
      const site = findSite(one[1]);
      if (!site) return apiError(res, 404, 'not_found', 'There is no such site.');
      if (!one[2] && req.method === 'GET') return json(res, 200, siteView(state, site));
      if (!one[2] && req.method === 'PATCH') {
        const b = await readBody(req);
        const fields = siteFields(b, { partial: true });
        if (fields) return apiError(res, 422, 'invalid_input', 'Some fields need attention.', fields);
        if ('name' in b) site.name = b.name.trim();
        if ('domains' in b) site.domains = [...new Set(b.domains.map(cleanDomain))];
        return json(res, 200, siteView(state, site));
      }
      if (one[2] === '/write-key' && req.method === 'GET') return json(res, 200, { write_key: site.write_key });
      if (one[2] === '/write-key' && req.method === 'POST') {
        site.write_key = 'fw_' + randomBytes(16).toString('hex');
        return json(res, 200, { write_key: site.write_key });
      }
      if (one[2] === '/install' && req.method === 'GET') return json(res, 200, installInfo(state, site));
      return apiError(res, 405, 'method_not_allowed', 'Not allowed.');
    }

    if (p === '/api/sessions' && req.method === 'GET') {
      const site = siteParam();
      if (site === undefined) return;
      const d = days();
      if (d === null)
        return apiError(res, 422, 'invalid_input', 'Some fields need attention.', { days: 'Use 1 to 366 days.' });
      const channel = url.searchParams.get('channel');
      const limit = Math.min(200, Math.max(1, Number(url.searchParams.get('limit') ?? 50)));
      const before = url.searchParams.get('before');
      const from = since(d);
      let list = state.sessions.filter(
        (x) => (!site || x.site_id === site) && (!channel || x.channel === channel) && Date.parse(x.started_at) >= from,
      );
      if (before) {
        const [at, id] = Buffer.from(before, 'base64url').toString('utf8').split('|');
        list = list.filter((x) => x.started_at < at || (x.started_at === at && x.id < id));
      }
      const items = list.slice(0, limit);
      const last = items[items.length - 1];
      const next = list.length > limit ? Buffer.from(`${last.started_at}|${last.id}`).toString('base64url') : null;
      return json(res, 200, { sessions: items.map(summaryOfSession), next });
    }
    const ses = p.match(/^\/api\/sessions\/([\w-]+)$/);
    if (ses && req.method === 'GET') {
      const scope = url.searchParams.get('site');
      const found = state.sessions.find((x) => x.id === ses[1] && (!scope || x.site_id === scope));
      return found ? json(res, 200, found) : apiError(res, 404, 'not_found', 'There is no such session.');
    }
    if (p === '/api/traffic' && req.method === 'GET') {
      const site = siteParam();
      if (site === undefined) return;
      const d = days();
      if (d === null)
        return apiError(res, 422, 'invalid_input', 'Some fields need attention.', { days: 'Use 1 to 366 days.' });
      return json(res, 200, trafficReport(state, site, d));
    }
    if (p === '/api/live' && req.method === 'GET') {
      const site = siteParam();
      if (site === undefined) return;
      return json(res, 200, liveReport(state, site));
    }
    return false;
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const p = url.pathname;
    state.requests.push(`${req.method} ${p}${url.search}`);
    try {
      if (p === '/login') {
        // As the backend does: a wrong token goes back to the sign-in card, which says where the
        // token is (the file's path, or nothing when it came from FAURYA_ADMIN_TOKEN).
        if (url.searchParams.get('token') !== token) {
          const file = opts.tokenFromEnv ? '' : `${state.settings.data_dir}/admin-token`;
          res.writeHead(303, { location: `/?signin=invalid&token_file=${encodeURIComponent(file)}` });
          return res.end();
        }
        res.writeHead(303, { location: '/', 'set-cookie': `faurya_admin=${token}; HttpOnly; SameSite=Strict; Path=/` });
        return res.end();
      }
      if (p === '/logout' && req.method === 'POST') {
        res.writeHead(204, { 'set-cookie': 'faurya_admin=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0' });
        return res.end();
      }
      // Test hook (no auth): make the store refuse writes or take them again, e.g.
      // POST /__fake/store?writable=false&error=database%20or%20disk%20is%20full
      if (p === '/__fake/store') {
        if (req.method === 'POST') {
          const q = url.searchParams;
          setStore({ writable: q.get('writable') !== 'false', error: q.get('error'), since: q.get('since') });
        }
        return json(res, 200, state.store);
      }
      if (!p.startsWith('/api/')) return serveStatic(req, res, url);
      if (opts.auth && !(req.headers.cookie ?? '').includes(`faurya_admin=${token}`))
        return apiError(res, 401, 'unauthorized', 'Open the admin login URL again.');

      if (p === '/api/health')
        return json(res, 200, {
          ok: true,
          version: state.settings.version,
          ...(features.has('backup') ? { store: state.store } : {}),
        });

      if (p === '/api/backup' && req.method === 'GET' && features.has('backup')) {
        state.backups += 1;
        const body = backupFile();
        res.writeHead(200, {
          'content-type': 'application/vnd.sqlite3',
          'content-disposition': `attachment; filename="${backupName()}"`,
          'content-length': String(body.length),
          'cache-control': 'no-store',
        });
        return res.end(body);
      }

      if (p === '/api/settings' && features.has('settings')) {
        if (req.method === 'GET') return json(res, 200, state.settings);
        if (req.method === 'PUT') {
          const b = await readBody(req);
          state.lastSettingsPut = JSON.stringify(b);
          const fields = {};
          if ('public_url' in b && b.public_url !== null) {
            let u = null;
            try {
              u = new URL(b.public_url);
            } catch {
              /* invalid */
            }
            if (!u || !/^https?:$/.test(u.protocol) || u.search || u.hash)
              fields.public_url = 'Enter an absolute http(s) URL without query or fragment.';
          }
          if (
            'signature_tolerance_secs' in b &&
            !(
              Number.isInteger(b.signature_tolerance_secs) &&
              b.signature_tolerance_secs >= 1 &&
              b.signature_tolerance_secs <= 3600
            )
          )
            fields.signature_tolerance_secs = 'Use 1 to 3600 seconds.';
          for (const key of ['notify_payments', 'notify_test_payments', 'start_at_login'])
            if (key in b && (!state.settings.desktop || typeof b[key] !== 'boolean'))
              fields[key] = 'Use true or false.';
          if (Object.keys(fields).length)
            return apiError(res, 422, 'invalid_input', 'Some fields need attention.', fields);
          const t = state.settings.tunnel;
          // The tunnel, roughly as the backend does it (docs/API.md "Tunnel"): absent keeps,
          // null clears; ngrok needs an authtoken, bore a host, manual a URL.
          const backend = b.tunnel?.backend ?? t?.backend;
          const tokenSet =
            b.tunnel?.ngrok && 'authtoken' in b.tunnel.ngrok ? !!b.tunnel.ngrok.authtoken : !!t?.ngrok.authtoken_set;
          const boreHost = b.tunnel?.bore && 'host' in b.tunnel.bore ? b.tunnel.bore.host || null : t?.bore.host;
          if (b.tunnel && t) {
            if (backend === 'ngrok' && !tokenSet)
              fields['tunnel.ngrok.authtoken'] =
                'Paste your ngrok authtoken (dashboard.ngrok.com → Your Authtoken): ngrok cannot start without it.';
            if (backend === 'bore' && !boreHost)
              fields['tunnel.bore.host'] = 'Enter the host name of your bore server, e.g. bore.example.com.';
            if (backend === 'bore' && b.tunnel.bore?.port === 7835)
              fields['tunnel.bore.port'] = "7835 is bore's control port.";
            if (
              backend === 'manual' &&
              !(b.public_url ?? (state.settings.public_url_source === 'settings' ? state.settings.public_url : null))
            )
              fields.public_url =
                'The manual tunnel uses the Public URL: enter the https address that reaches this app.';
          }
          if (Object.keys(fields).length)
            return apiError(res, 422, 'invalid_input', 'Some fields need fixing.', fields);
          if ('public_url' in b) {
            state.settings.public_url = b.public_url ? b.public_url.replace(/\/+$/, '') : null;
            state.settings.public_url_source = b.public_url ? 'settings' : null;
          }
          if ('signature_tolerance_secs' in b) state.settings.signature_tolerance_secs = b.signature_tolerance_secs;
          for (const key of ['notify_payments', 'notify_test_payments', 'start_at_login'])
            if (key in b) state.settings.desktop[key] = b[key];
          if ('start_at_login' in b) state.settings.desktop.start_at_login_set = true;
          if (b.tunnel && t) {
            const n = b.tunnel.ngrok ?? {};
            const bo = b.tunnel.bore ?? {};
            state.settings.tunnel = {
              ...t,
              backend,
              state: backend === 'none' ? 'off' : backend === 'manual' ? 'up' : 'starting',
              url: backend === 'manual' ? state.settings.public_url : null,
              error: null,
              updated_at: iso(Date.now()),
              ngrok: {
                authtoken_set: tokenSet,
                masked_authtoken:
                  'authtoken' in n ? (n.authtoken ? masked(n.authtoken) : null) : t.ngrok.masked_authtoken,
                domain: 'domain' in n ? n.domain || null : t.ngrok.domain,
              },
              bore: {
                host: boreHost,
                port: 'port' in bo ? bo.port : t.bore.port,
                secret_set: 'secret' in bo ? !!bo.secret : t.bore.secret_set,
                public_url: 'public_url' in bo ? bo.public_url || null : t.bore.public_url,
              },
            };
            if (backend !== 'manual' && state.settings.public_url_source !== 'flag') {
              state.settings.public_url = null;
              state.settings.public_url_source = null;
            }
            emit('tunnel', state.settings.tunnel.state);
          }
          emit('settings', 'settings');
          return json(res, 200, state.settings);
        }
      }

      if (p === '/api/tunnel/test' && features.has('tunnel') && req.method === 'POST') {
        if (!state.settings.public_url)
          return apiError(
            res,
            412,
            'public_url_missing',
            'Testing the delivery path needs a public URL: choose a tunnel in Settings.',
          );
        const target = `${state.settings.public_url}/healthz`;
        // `state.tunnelTest` sets the answer (e.g. a refused connection); by default a loopback
        // URL answers at once, as this computer reaching itself does, and any other in 182 ms.
        const local = /^https?:\/\/(127\.|localhost|\[::1\])/.test(target);
        return json(res, 200, {
          ok: true,
          url: target,
          status: 200,
          rtt_ms: local ? 1 : 182,
          error: null,
          ...(state.tunnelTest ?? {}),
        });
      }

      const siteQ = url.searchParams.get('site');
      if (p === '/api/connections' && features.has('connections') && req.method === 'GET')
        return json(res, 200, {
          connections: state.connections.filter((c) => !siteQ || c.site_id === siteQ).map(connectionView),
        });

      const connect = p.match(/^\/api\/connections\/(whop|paddle)$/);
      if (connect && features.has('connections') && req.method === 'POST') {
        const provider = connect[1];
        const b = await readBody(req);
        const fields = {};
        if (!b.api_key?.trim()) fields.api_key = 'Paste the API key.';
        if (provider === 'whop' && !String(b.company_id ?? '').startsWith('biz_'))
          fields.company_id = 'A Whop Company ID starts with biz_.';
        if (b.api_key === 'server-says-no') fields.api_key = 'This key has the wrong format for Whop.';
        if (b.site_id !== undefined && !state.sites.some((x) => x.id === b.site_id))
          fields.site_id = 'There is no such site.';
        if (Object.keys(fields).length)
          return apiError(res, 422, 'invalid_input', 'Some fields need attention.', fields);
        if (!state.settings.public_url)
          return apiError(res, 412, 'public_url_missing', 'Connecting needs a public URL first.');
        if (b.api_key === 'bad-key')
          return apiError(
            res,
            422,
            'provider_unauthorized',
            'Whop rejected the key; check it is a Company API Key from the same environment (sandbox vs production).',
          );
        if (state.connections.some((c) => c.account_id && c.account_id === b.company_id))
          return apiError(res, 409, 'already_connected', `Company ${b.company_id} is connected already.`);
        await new Promise((r) => setTimeout(r, 300)); // the provider round trip
        const conn = addConnection(state, { provider, ...b });
        emit('connection', conn.id);
        return json(res, 201, connectionView(conn));
      }

      const testPay = p.match(/^\/api\/connections\/(con_[\w]+)\/test-payment$/);
      if (testPay && features.has('test_payments') && req.method === 'POST') {
        const conn = state.connections.find((c) => c.id === testPay[1]);
        if (!conn) return apiError(res, 404, 'not_found', 'No such connection (it may have been removed already).');
        const b = await readBody(req);
        const via = b.via ?? 'faurya';
        if (via !== 'faurya' && via !== 'provider')
          return apiError(res, 422, 'invalid_input', 'Some fields need attention.', {
            via: 'Use "faurya" or "provider".',
          });
        if (conn.sync && conn.sync.state !== 'ok')
          return apiError(
            res,
            409,
            'conflict',
            `This connection is not active yet: its webhook ${conn.sync.state === 'pending' ? 'is being updated' : 'could not be updated'} at ${conn.provider === 'whop' ? 'Whop' : 'Paddle'}. Try again once it is in sync.`,
          );
        const run = await runTestPayment(conn, via);
        conn.last_test = run;
        emit('connection', conn.id);
        return json(res, 200, run);
      }

      const patchConn = p.match(/^\/api\/connections\/(con_[\w]+)$/);
      if (patchConn && features.has('forwarding') && req.method === 'PATCH') {
        const conn = state.connections.find((c) => c.id === patchConn[1]);
        if (!conn) return apiError(res, 404, 'not_found', 'No such connection (it may have been removed already).');
        const b = await readBody(req);
        if (!('forward_url' in b))
          return apiError(res, 422, 'invalid_input', 'Some fields need attention.', {
            forward_url: 'Give forward_url: a URL, or null to stop forwarding.',
          });
        const raw = b.forward_url === null ? '' : String(b.forward_url).trim();
        const problem = raw ? forwardTargetProblem(raw) : null;
        if (problem)
          return apiError(res, 422, 'invalid_input', 'Some fields need attention.', { forward_url: problem });
        conn.forward_url = raw || null;
        emit('connection', conn.id);
        return json(res, 200, connectionView(conn));
      }

      // "Check for missed payments": nothing missed, unless `state.missed` says how many.
      const backfill = p.match(/^\/api\/connections\/(con_[\w]+)\/backfill$/);
      if (backfill && features.has('connections') && req.method === 'POST') {
        const conn = state.connections.find((c) => c.id === backfill[1]);
        if (!conn) return apiError(res, 404, 'not_found', 'No such connection (it may have been removed already).');
        const found = state.missed ?? 0;
        const total = (conn.backfill?.recovered_total ?? 0) + found;
        conn.backfill = {
          checked_at: Date.now(),
          recovered_last: found,
          recovered_total: total,
          error: null,
          attempted_at: Date.now(),
        };
        emit('connection', conn.id);
        return json(res, 200, conn.backfill);
      }

      const del = p.match(/^\/api\/connections\/(con_[\w]+)$/);
      if (del && features.has('connections') && req.method === 'DELETE') {
        const conn = state.connections.find((c) => c.id === del[1]);
        if (!conn) return apiError(res, 404, 'not_found', 'No such connection.');
        const force = url.searchParams.get('force') === 'true';
        if (state.failDelete.has(conn.id) || state.failDelete.has('*')) {
          if (!force)
            return apiError(
              res,
              504,
              'provider_timeout',
              'Whop did not answer in time (api.whop.com). The connection is kept.',
            );
          state.connections = state.connections.filter((c) => c !== conn);
          emit('connection', conn.id);
          return json(res, 200, {
            removed: true,
            webhook_deleted: false,
            warning: `The webhook ${conn.webhook_id} is still registered at Whop; delete it in the Whop dashboard.`,
          });
        }
        state.connections = state.connections.filter((c) => c !== conn);
        emit('connection', conn.id);
        return json(res, 200, { removed: true, webhook_deleted: true });
      }

      if (p === '/api/events' && features.has('events')) {
        const f = Object.fromEntries(url.searchParams);
        const when = timeRange(res, url);
        if (!when) return;
        const list = state.events.filter(
          (e) =>
            (!f.site || e.site_id === f.site) &&
            (!f.provider || e.provider === f.provider) &&
            (!f.status || e.status === f.status) &&
            (!f.type || e.event_type === f.type) &&
            (!f.q || e.body_text.includes(f.q)) &&
            when(e.received_at),
        );
        const r = page(list, url, (e) => eventView(e, false));
        return json(res, 200, { events: r.items, next_cursor: r.next });
      }
      if (p === '/api/events/types' && features.has('events'))
        return json(res, 200, { types: [...new Set(state.events.map((e) => e.event_type).filter(Boolean))].sort() });
      const ev = p.match(/^\/api\/events\/([dr]_\d+)(\/raw|\/reprocess|\/forward)?$/);
      if (ev && features.has('events')) {
        const e = state.events.find((x) => x.id === ev[1]);
        if (!e) return apiError(res, 404, 'not_found', 'No such delivery.');
        if (ev[2] === '/raw') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          return res.end(Buffer.from(e.body_base64, 'base64'));
        }
        if (ev[2] === '/reprocess' && req.method === 'POST') {
          if (e.status === 'failed') {
            e.status = 'processed';
            e.error = null;
          }
          return json(res, 200, eventView(e, true));
        }
        if (ev[2] === '/forward') {
          if (!features.has('forwarding') || req.method !== 'POST')
            return apiError(res, 404, 'not_found', 'No such route.');
          const b = await readBody(req);
          if (!forwardable(e))
            return apiError(
              res,
              409,
              'not_forwardable',
              'Only deliveries that came from the provider can be forwarded: this one was rejected, or made by Faurya (a backfill or a revenue API call), so there is no signed original to pass on.',
            );
          let target;
          if (b.url !== undefined && b.url !== null && b.url !== '') {
            const problem = forwardTargetProblem(b.url);
            if (problem) return apiError(res, 422, 'invalid_input', 'Some fields need attention.', { url: problem });
            target = String(b.url).trim();
          } else {
            target = state.connections.find((c) => c.id === e.connection_id)?.forward_url;
            if (!target)
              return apiError(
                res,
                409,
                'no_target',
                'This connection forwards nowhere: set a forward URL on its card, or give one here.',
              );
          }
          const attempt = forwardDelivery(state, e, target, { manual: true });
          emit('delivery', e.id);
          return json(res, 200, attempt);
        }
        return json(res, 200, eventView(e, true));
      }

      if (
        p === '/api/payments' &&
        features.has('payments') &&
        req.method === 'DELETE' &&
        features.has('test_payments')
      ) {
        if (url.searchParams.get('source') !== 'test')
          return apiError(res, 422, 'invalid_input', 'Some fields need attention.', {
            source: 'Only test payments can be removed in bulk: use source=test.',
          });
        const gone = state.payments.filter((x) => x.source === 'test' && (!siteQ || x.site_id === siteQ));
        for (const x of gone) removePayment(x);
        if (gone.length) emit('payment', '');
        return json(res, 200, { removed: gone.length });
      }
      if (p === '/api/payments' && features.has('payments')) {
        const prov = url.searchParams.get('provider');
        const source = url.searchParams.get('source');
        if (source && !['test', 'webhook', 'api', 'backfill'].includes(source))
          return apiError(res, 422, 'invalid_input', 'Some fields need attention.', {
            source: 'Use test, webhook, api or backfill.',
          });
        const when = timeRange(res, url);
        if (!when) return;
        const r = page(
          state.payments.filter(
            (x) =>
              (!prov || x.provider === prov) &&
              (!source || (x.source ?? 'webhook') === source) &&
              (!siteQ || x.site_id === siteQ) &&
              when(paidAt(x)),
          ),
          url,
          (x) => paymentView(state, x, features),
        );
        return json(res, 200, { payments: r.items, next_cursor: r.next });
      }

      const pay = p.match(/^\/api\/payments\/(\d+)(\/journey)?$/);
      if (pay && features.has('payments') && (!pay[2] || features.has('attribution'))) {
        const found = state.payments.find((x) => x.id === Number(pay[1]));
        if (!found) return apiError(res, 404, 'not_found', 'There is no such payment.');
        if (req.method === 'DELETE' && !pay[2] && features.has('test_payments')) {
          if (found.source !== 'test')
            return apiError(
              res,
              409,
              'not_a_test',
              'Only test payments can be removed; real payments are the record of your revenue.',
            );
          removePayment(found);
          emit('payment', String(found.id));
          res.writeHead(204);
          return res.end();
        }
        return json(res, 200, pay[2] ? journeyOf(state, found, features) : paymentView(state, found, features));
      }

      if (features.has('attribution')) {
        const handled = attributionRoute(req, res, url, p, siteQ);
        if (handled !== false) return;
      }

      if (p === '/api/revenue/summary' && features.has('payments')) {
        const days = Number(url.searchParams.get('days') ?? 30);
        if (!(Number.isInteger(days) && days >= 1 && days <= 366))
          return apiError(res, 422, 'invalid_input', 'Some fields need attention.', { days: 'Use 1 to 366 days.' });
        return json(
          res,
          200,
          revenueSummary(
            state.payments.filter((x) => x.source !== 'test' && (!siteQ || x.site_id === siteQ)),
            days,
          ),
        );
      }

      if (features.has('sites')) {
        const handled = await trackingRoute(req, res, url, p);
        if (handled !== false) return;
      }

      if (p === '/api/stream' && features.has('stream')) {
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          connection: 'keep-alive',
        });
        res.write(': hello\n\n');
        streams.add(res);
        req.on('close', () => streams.delete(res));
        return;
      }

      return apiError(res, 404, 'not_found', 'No such route.');
    } catch (e) {
      return apiError(res, 500, 'internal', String(e));
    }
  });

  await new Promise((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address();
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    loginUrl: `${url}/login?token=${token}`,
    state,
    emit,
    /**
     * A pageview on a site as the script would send it: it continues the visitor's session when
     * one is under way (or starts one), and tells the stream.
     */
    pageview(siteId = state.sites[0]?.id, { path = '/', referrer = null, visitorId } = {}) {
      const site = state.sites.find((x) => x.id === siteId);
      if (!site) throw new Error(`no site ${siteId}`);
      const host = site.domains[0] ?? 'example.com';
      const now = Date.now();
      const ongoing = state.sessions.find(
        (x) =>
          x.site_id === site.id &&
          (!visitorId || x.visitor_id === visitorId) &&
          now - Date.parse(x.last_seen_at) < 30 * 60e3 &&
          (visitorId || Math.random() < 0.5),
      );
      if (ongoing) {
        ongoing.events.push({ name: 'pageview', url: `https://${host}${path}`, path, at: iso(now), props: null });
        ongoing.pageviews += 1;
        ongoing.last_seen_at = iso(now);
      } else {
        const origin = referrer
          ? { channel: 'Referral', source: hostOf(referrer), referrer, landing: [path] }
          : { channel: 'Direct', source: null, referrer: null, landing: [path] };
        makeSession(state, { site, at: now, origin, host, pages: [path], visitorId });
        state.sessions.sort((a, b) => (a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : 0));
      }
      emit('pageview', site.id);
    },
    setStore,
    /** Change the tunnel (state, error, url…) and tell the stream, as the backend does. */
    setTunnel(patch) {
      const t = state.settings.tunnel;
      Object.assign(t, { updated_at: iso(Date.now()) }, patch);
      if ('url' in patch || patch.state) {
        const url = t.state === 'up' ? (t.url ?? state.settings.public_url) : null;
        if (state.settings.public_url_source !== 'flag' && t.backend !== 'manual') {
          state.settings.public_url = url;
          state.settings.public_url_source = url ? 'tunnel' : null;
        }
      }
      emit('tunnel', t.state);
    },
    /** Mark a connection's webhook sync (e.g. failed with an error) and tell the stream. */
    setSync(id, sync) {
      const c = state.connections.find((x) => x.id === id);
      c.sync = { state: 'ok', error: null, updated_at: iso(Date.now()), ...sync };
      emit('connection', c.id);
    },
    /** Connect a provider as POST /api/connections/{provider} would (no deliveries yet). */
    connect(
      provider = 'whop',
      {
        environment = 'production',
        api_key = provider === 'whop' ? 'apik_live_8f2c19ab3f9a' : 'pdl_live_apikey_01h7k2c4d1e7',
        company_id = 'biz_Qm4Lx2Vn8',
      } = {},
    ) {
      const conn = addConnection(state, { provider, api_key, company_id, environment });
      emit('connection', conn.id);
      return conn;
    },
    /** Record a new delivery as if a provider just sent it, and tell the stream. */
    deliver(opts2) {
      const e = makeDelivery(state, opts2);
      autoForward(e);
      emit('delivery', e.id);
      if (e.payment) emit('payment', String(e.payment.id));
      return e;
    },
    /** Send the queued automatic forward retries now (as if their time had come), and tell the stream. */
    runDueForwards() {
      for (const e of state.events) {
        const queued = e.forwards?.find((a) => a.sent === false);
        if (!queued) continue;
        forwardDelivery(state, e, queued.url);
        emit('delivery', e.id);
      }
    },
    async stop() {
      for (const res of streams) res.end();
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}
