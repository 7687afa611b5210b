// An in-memory stand-in for the admin listener, answering in the shapes of docs/API.md, serving
// the built UI from ui/dist. ui-contract.test.mjs uses it for what the real backend cannot be
// made to answer on demand (a build without the later endpoints, a 422 field error, the tunnel
// settings before they land); support/preview.mjs uses its sample data to render every page
// without Rust. Everything else is tested against the real backend.
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

const ALL_FEATURES = ['settings', 'connections', 'events', 'payments', 'stream', 'tunnel'];

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

/** Build a signed-looking delivery the way a provider would send it. */
export function makeDelivery(state, { provider = 'whop', type = 'payment.succeeded', status = 'processed', at = Date.now(), amount = 1043, currency = 'USD', attributed = true, error = null, connectionId } = {}) {
  const n = ++state.seq;
  const isRejected = status === 'rejected';
  const id = isRejected ? `r_${n}` : `d_${n}`;
  const deliveryId = provider === 'whop' ? `msg_${createHash('sha1').update(String(n)).digest('hex').slice(0, 24)}` : `evt_01h${n}x${n}k`;
  const payId = provider === 'whop' ? `pay_${n}Zx${n}` : `txn_01h${n}q${n}`;
  const meta = attributed ? { faurya_visitor_id: `v_${n}a7c2`, faurya_session_id: `s_${n}b91e` } : {};
  const body =
    provider === 'whop'
      ? { id: deliveryId, api_version: 'v1', type, timestamp: iso(at), data: { id: payId, status: 'paid', currency: currency.toLowerCase(), total: Number(amount) / 100, metadata: meta, user: { email: `buyer${n}@example.com` } } }
      : { event_id: deliveryId, event_type: type, occurred_at: iso(at), notification_id: `ntf_${n}`, data: { id: payId, status: 'completed', currency_code: currency, custom_data: attributed ? { faVisitorId: `v_${n}a7c2`, faSessionId: `s_${n}b91e`, orderId: `ord_${n}` } : null, details: { totals: { total: String(amount) } } } };
  const bodyText = JSON.stringify(body);
  const conn = connectionId ?? state.connections.find((c) => c.provider === provider)?.id ?? `con_${provider}0000`;
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
      id: state.payments.length + 1,
      provider,
      connection_id: conn,
      provider_payment_id: payId,
      amount_minor: amount,
      currency,
      status: 'succeeded',
      refunded_minor: 0,
      net_minor: amount,
      visitor_id: attributed ? `v_${n}a7c2` : null,
      session_id: attributed ? `s_${n}b91e` : null,
      attribution_token: null,
      order_id: provider === 'paddle' && attributed ? `ord_${n}` : null,
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
    connection_id: conn,
    delivery_id: deliveryId,
    event_type: type,
    received_at: iso(at),
    verdict: isRejected ? 'rejected' : 'verified',
    status,
    error: error ?? (isRejected ? 'the v1 signature in the webhook-signature header does not match this delivery' : status === 'failed' ? '`data.total`: 19.999 has more decimals than USD allows (2)' : null),
    note: status === 'ignored' ? `${type}: not an event Faurya records revenue from` : revenue ? `payment ${payId} recorded` : null,
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

/** Sample history: a month of payments in three currencies, refunds, failures, rejections. */
export function seed(state, now = Date.now()) {
  state.settings.public_url = 'https://quiet-river.trycloudflare.com';
  state.settings.public_url_source = state.settings.tunnel ? 'tunnel' : 'settings';
  if (state.settings.tunnel)
    Object.assign(state.settings.tunnel, { backend: 'cloudflared', state: 'up', url: state.settings.public_url, updated_at: iso(now - 3600e3) });
  const whop = addConnection(state, { provider: 'whop', api_key: 'apik_live_8f2c19ab3f9a', company_id: 'biz_Qm4Lx2Vn8', environment: 'production' }, now - 32 * 86400e3);
  const paddle = addConnection(state, { provider: 'paddle', api_key: 'pdl_sdbx_apikey_01h7k2c4d1e7', environment: 'sandbox' }, now - 20 * 86400e3);
  whop.last_delivery_at = iso(now - 3 * 60e3);
  paddle.last_delivery_at = iso(now - 5 * 3600e3);
  const day = 86400e3;
  const plan = [
    // [days ago, provider, amount minor, currency, attributed]
    [29, 'whop', 4900, 'USD', true], [27, 'whop', 4900, 'USD', false], [26, 'paddle', 1900, 'EUR', true],
    [24, 'whop', 9900, 'USD', true], [22, 'whop', 4900, 'USD', true], [21, 'paddle', 3000, 'JPY', true],
    [19, 'whop', 19900, 'USD', true], [18, 'whop', 4900, 'USD', false], [16, 'paddle', 1900, 'EUR', true],
    [14, 'whop', 9900, 'USD', true], [13, 'whop', 4900, 'USD', true], [12, 'whop', 4900, 'USD', true],
    [10, 'paddle', 4900, 'EUR', false], [9, 'whop', 14900, 'USD', true], [8, 'whop', 4900, 'USD', true],
    [7, 'whop', 9900, 'USD', true], [6, 'paddle', 1250, 'KWD', true], [5, 'whop', 4900, 'USD', true],
    [4, 'whop', 24900, 'USD', true], [3, 'whop', 4900, 'USD', false], [2, 'paddle', 1900, 'EUR', true],
    [1, 'whop', 9900, 'USD', true], [0.2, 'whop', 4900, 'USD', true],
  ];
  for (const [ago, provider, amount, currency, attributed] of plan) {
    makeDelivery(state, { provider, amount, currency, attributed, at: now - ago * day - 3600e3 * (ago % 5) });
    if (ago === 22) makeDelivery(state, { provider, type: 'payment.pending', status: 'ignored', at: now - ago * day + 60e3, amount, currency });
  }
  // A refund on one payment.
  const refunded = state.payments.find((p) => p.amount_minor === 19900);
  refunded.refunded_minor = 5000;
  refunded.net_minor = 14900;
  refunded.status = 'partially_refunded';
  refunded.refunds.push({ provider_refund_id: 'rfnd_7Kp2', amount_minor: 5000, status: 'succeeded', created_at: iso(now - 17 * day) });
  const rf = makeDelivery(state, { provider: 'whop', type: 'refund.created', status: 'processed', at: now - 17 * day, amount: 5000, currency: 'USD' });
  rf.payment = refunded;
  rf.payment_id = refunded.id;
  const dup = makeDelivery(state, { provider: 'whop', type: 'payment.succeeded', status: 'duplicate', at: now - 4 * day + 90e3, amount: 24900 });
  state.payments.shift(); // a duplicate creates no payment
  dup.payment = null;
  dup.payment_id = null;
  dup.duplicate_of = state.events.find((e) => e.amount_minor === 24900 && e.status === 'processed')?.id ?? null;
  dup.note = `repeat of ${dup.duplicate_of}: same delivery id, not processed again`;
  dup.amount_minor = null;
  dup.currency = null;
  makeDelivery(state, { provider: 'whop', type: 'payment.succeeded', status: 'failed', at: now - 2 * day, amount: 1999 });
  makeDelivery(state, { provider: 'whop', type: 'payment.succeeded', status: 'rejected', at: now - 1 * day });
  makeDelivery(state, { provider: 'whop', type: 'membership.went_valid', status: 'ignored', at: now - 0.5 * day });
  makeDelivery(state, { provider: 'whop', type: 'payment.succeeded', status: 'processed', at: now - 3 * 60e3, amount: 4900, attributed: true });
  state.events.sort((a, b) => (a.received_at < b.received_at ? 1 : -1));
  for (const c of state.connections) c.deliveries = state.events.filter((e) => e.connection_id === c.id).length;
  state.payments.sort((a, b) => (a.paid_at < b.paid_at ? 1 : -1));
}

function addConnection(state, { provider, api_key, company_id, environment }, at = Date.now()) {
  const id = 'con_' + randomBytes(8).toString('hex');
  const conn = {
    id,
    provider,
    environment,
    account_id: provider === 'whop' ? company_id : null,
    masked_key: masked(api_key),
    webhook_id: provider === 'whop' ? 'hook_' + randomBytes(6).toString('hex') : 'ntfset_01h' + randomBytes(6).toString('hex'),
    webhook_url: `${state.settings.public_url}/webhooks/${provider}/${id}`,
    created_at: iso(at),
    last_delivery_at: null,
    deliveries: 0,
    sync: { state: 'ok', error: null, updated_at: iso(at) },
  };
  state.connections.unshift(conn);
  return conn;
}

function summary(e) {
  const { headers: _h, body_text: _t, body_base64: _b, body_size: _s, body_truncated: _bt, payment: _p, webhook_url: _w, ...rest } = e;
  return rest;
}

/** GET /api/revenue/summary over the sample payments (UTC days, as the backend does). */
function revenueSummary(payments, days) {
  const dayMs = 86400e3;
  const since = (Math.floor(Date.now() / dayMs) - (days - 1)) * dayMs;
  const totals = (list) => {
    const map = new Map();
    for (const p of list) {
      const t = map.get(p.currency) ?? { currency: p.currency, payments: 0, attributed: 0, gross_minor: 0, refunded_minor: 0, net_minor: 0 };
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
    daily.set(key, { day, currency: p.currency, net_minor: (daily.get(key)?.net_minor ?? 0) + p.amount_minor - p.refunded_minor });
  }
  return { days, since: new Date(since).toISOString().replace('.000Z', 'Z'), all_time: totals(payments), window: totals(inWindow), daily: [...daily.values()].sort((a, b) => (a.day < b.day ? -1 : 1)) };
}

function page(list, url, map = (x) => x) {
  const limit = Math.min(200, Math.max(1, Number(url.searchParams.get('limit') ?? 50)));
  const offset = Number(url.searchParams.get('cursor') ?? 0) || 0;
  const items = list.slice(offset, offset + limit).map(map);
  return { items, next: offset + limit < list.length ? String(offset + limit) : null };
}

/**
 * @param {{ features?: string[], auth?: boolean, token?: string, seed?: boolean, port?: number,
 *   failDeleteFor?: string[] }} [opts]
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
        ? { tunnel: { backend: 'none', state: 'off', url: null, error: null, updated_at: iso(Date.now() - 3600e3), cloudflared: { installed: true, path: '/usr/bin/cloudflared', install_hint: 'Install cloudflared with Homebrew: `brew install cloudflared`.' }, ngrok: { authtoken_set: false, masked_authtoken: null, domain: null }, bore: { host: null, port: 0, secret_set: false, public_url: null } } }
        : {}),
    },
    connections: [],
    events: [],
    payments: [],
    requests: [],
    failDelete: new Set(opts.failDeleteFor ?? []),
  };
  if (opts.seed) seed(state);
  const streams = new Set();

  /** Like the backend: the data is a bare id (or empty), not JSON. */
  function emit(topic, data = '') {
    for (const res of streams) res.write(`event: ${topic}\ndata: ${data}\n\n`);
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

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const p = url.pathname;
    state.requests.push(`${req.method} ${p}${url.search}`);
    try {
      if (p === '/login') {
        if (url.searchParams.get('token') !== token) return apiError(res, 401, 'unauthorized', 'Wrong admin token.');
        res.writeHead(303, { location: '/', 'set-cookie': `faurya_admin=${token}; HttpOnly; SameSite=Strict; Path=/` });
        return res.end();
      }
      if (p === '/logout' && req.method === 'POST') {
        res.writeHead(204, { 'set-cookie': 'faurya_admin=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0' });
        return res.end();
      }
      if (!p.startsWith('/api/')) return serveStatic(req, res, url);
      if (opts.auth && !(req.headers.cookie ?? '').includes(`faurya_admin=${token}`))
        return apiError(res, 401, 'unauthorized', 'Open the admin login URL again.');

      if (p === '/api/health') return json(res, 200, { ok: true, version: state.settings.version });

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
            if (!u || !/^https?:$/.test(u.protocol) || u.search || u.hash) fields.public_url = 'Enter an absolute http(s) URL without query or fragment.';
          }
          if ('signature_tolerance_secs' in b && !(Number.isInteger(b.signature_tolerance_secs) && b.signature_tolerance_secs >= 1 && b.signature_tolerance_secs <= 3600))
            fields.signature_tolerance_secs = 'Use 1 to 3600 seconds.';
          if (Object.keys(fields).length) return apiError(res, 422, 'invalid_input', 'Some fields need attention.', fields);
          const t = state.settings.tunnel;
          // The tunnel, roughly as the backend does it (docs/API.md "Tunnel"): absent keeps,
          // null clears; ngrok needs an authtoken, bore a host, manual a URL.
          const backend = b.tunnel?.backend ?? t?.backend;
          const tokenSet = b.tunnel?.ngrok && 'authtoken' in b.tunnel.ngrok ? !!b.tunnel.ngrok.authtoken : !!t?.ngrok.authtoken_set;
          const boreHost = b.tunnel?.bore && 'host' in b.tunnel.bore ? b.tunnel.bore.host || null : t?.bore.host;
          if (b.tunnel && t) {
            if (backend === 'ngrok' && !tokenSet) fields['tunnel.ngrok.authtoken'] = 'Paste your ngrok authtoken (dashboard.ngrok.com → Your Authtoken): ngrok cannot start without it.';
            if (backend === 'bore' && !boreHost) fields['tunnel.bore.host'] = 'Enter the host name of your bore server, e.g. bore.example.com.';
            if (backend === 'bore' && b.tunnel.bore?.port === 7835) fields['tunnel.bore.port'] = "7835 is bore's control port.";
            if (backend === 'manual' && !(b.public_url ?? (state.settings.public_url_source === 'settings' ? state.settings.public_url : null)))
              fields.public_url = 'The manual tunnel uses the Public URL: enter the https address that reaches this app.';
          }
          if (Object.keys(fields).length) return apiError(res, 422, 'invalid_input', 'Some fields need fixing.', fields);
          if ('public_url' in b) {
            state.settings.public_url = b.public_url ? b.public_url.replace(/\/+$/, '') : null;
            state.settings.public_url_source = b.public_url ? 'settings' : null;
          }
          if ('signature_tolerance_secs' in b) state.settings.signature_tolerance_secs = b.signature_tolerance_secs;
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
                masked_authtoken: 'authtoken' in n ? (n.authtoken ? masked(n.authtoken) : null) : t.ngrok.masked_authtoken,
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

      if (p === '/api/tunnel/test' && features.has('tunnel') && req.method === 'POST')
        return json(res, 200, { ok: true, url: `${state.settings.public_url}/healthz`, status: 200, rtt_ms: 182, error: null });

      if (p === '/api/connections' && features.has('connections') && req.method === 'GET')
        return json(res, 200, { connections: state.connections });

      const connect = p.match(/^\/api\/connections\/(whop|paddle)$/);
      if (connect && features.has('connections') && req.method === 'POST') {
        const provider = connect[1];
        const b = await readBody(req);
        const fields = {};
        if (!b.api_key?.trim()) fields.api_key = 'Paste the API key.';
        if (provider === 'whop' && !String(b.company_id ?? '').startsWith('biz_')) fields.company_id = 'A Whop Company ID starts with biz_.';
        if (b.api_key === 'server-says-no') fields.api_key = 'This key has the wrong format for Whop.';
        if (Object.keys(fields).length) return apiError(res, 422, 'invalid_input', 'Some fields need attention.', fields);
        if (!state.settings.public_url) return apiError(res, 412, 'public_url_missing', 'Connecting needs a public URL first.');
        if (b.api_key === 'bad-key') return apiError(res, 502, 'provider_unauthorized', 'Whop rejected the key; check it is a Company API Key from the same environment (sandbox vs production).');
        if (state.connections.some((c) => c.account_id && c.account_id === b.company_id)) return apiError(res, 409, 'already_connected', `Company ${b.company_id} is connected already.`);
        await new Promise((r) => setTimeout(r, 300)); // the provider round trip
        const conn = addConnection(state, { provider, ...b });
        emit('connection', conn.id);
        return json(res, 201, conn);
      }

      const del = p.match(/^\/api\/connections\/(con_[\w]+)$/);
      if (del && features.has('connections') && req.method === 'DELETE') {
        const conn = state.connections.find((c) => c.id === del[1]);
        if (!conn) return apiError(res, 404, 'not_found', 'No such connection.');
        const force = url.searchParams.get('force') === 'true';
        if (state.failDelete.has(conn.id) || state.failDelete.has('*')) {
          if (!force) return apiError(res, 504, 'provider_timeout', 'Whop did not answer in time (api.whop.com). The connection is kept.');
          state.connections = state.connections.filter((c) => c !== conn);
          emit('connection', conn.id);
          return json(res, 200, { removed: true, webhook_deleted: false, warning: `The webhook ${conn.webhook_id} is still registered at Whop; delete it in the Whop dashboard.` });
        }
        state.connections = state.connections.filter((c) => c !== conn);
        emit('connection', conn.id);
        return json(res, 200, { removed: true, webhook_deleted: true });
      }

      if (p === '/api/events' && features.has('events')) {
        const f = Object.fromEntries(url.searchParams);
        const list = state.events.filter(
          (e) =>
            (!f.provider || e.provider === f.provider) &&
            (!f.status || e.status === f.status) &&
            (!f.type || e.event_type === f.type) &&
            (!f.q || e.body_text.includes(f.q)),
        );
        const r = page(list, url, summary);
        return json(res, 200, { events: r.items, next_cursor: r.next });
      }
      if (p === '/api/events/types' && features.has('events'))
        return json(res, 200, { types: [...new Set(state.events.map((e) => e.event_type).filter(Boolean))].sort() });
      const ev = p.match(/^\/api\/events\/([dr]_\d+)(\/raw|\/reprocess)?$/);
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
          return json(res, 200, e);
        }
        return json(res, 200, e);
      }

      if (p === '/api/payments' && features.has('payments')) {
        const prov = url.searchParams.get('provider');
        const r = page(state.payments.filter((x) => !prov || x.provider === prov), url);
        return json(res, 200, { payments: r.items, next_cursor: r.next });
      }

      const pay = p.match(/^\/api\/payments\/(\d+)$/);
      if (pay && features.has('payments')) {
        const found = state.payments.find((x) => x.id === Number(pay[1]));
        return found ? json(res, 200, found) : apiError(res, 404, 'not_found', 'No such payment.');
      }

      if (p === '/api/revenue/summary' && features.has('payments')) {
        const days = Number(url.searchParams.get('days') ?? 30);
        if (!(Number.isInteger(days) && days >= 1 && days <= 366)) return apiError(res, 422, 'invalid_input', 'Some fields need attention.', { days: 'Use 1 to 366 days.' });
        return json(res, 200, revenueSummary(state.payments, days));
      }

      if (p === '/api/stream' && features.has('stream')) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
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
    /** Record a new delivery as if a provider just sent it, and tell the stream. */
    deliver(opts2) {
      const e = makeDelivery(state, opts2);
      emit('delivery', e.id);
      if (e.payment) emit('payment', String(e.payment.id));
      return e;
    },
    async stop() {
      for (const res of streams) res.end();
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}
