#!/usr/bin/env node
// Crash test (issue 12, item 1): "nothing acknowledged is lost", checked by killing the server.
//
// `faurya serve` takes a load of signed Whop and Paddle deliveries (payments, refunds, repeats)
// and revenue API calls from several concurrent senders, while a killer SIGKILLs it at random
// moments and restarts it on the same data dir and ports. Senders behave like providers: whatever
// got no 2xx (an error status, a refused or cut connection) is sent again, same bytes and ids,
// after a short back-off, until it gets a 2xx. After a last clean restart the store is compared
// with the senders' ledger: every acknowledged delivery stored byte-exact, none left unprocessed,
// no payment or refund counted twice, revenue totals equal to the expected sums.
//
//   node tests/crash/crash.mjs          (see tests/crash/README.md for the settings)
//
// Exits 0 when every check holds, 1 when one fails (each failure is printed with its evidence),
// 2 when the test itself could not run (binary missing, server would not start, watchdog).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  createWriteStream,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../e2e/support/paths.mjs';

// ---- settings ---------------------------------------------------------------------------------

const envInt = (name, fallback) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${v} is not a non-negative number`);
  return n;
};

const resolveBin = (p) => (path.isAbsolute(p) ? p : path.resolve(process.cwd(), p));
const FAURYA_BIN = resolveBin(process.env.FAURYA_BIN || path.join(repoRoot, 'target', 'release', 'faurya'));
// The fakes come from the same build as the server unless told otherwise.
process.env.FAURYA_FAKES_BIN = resolveBin(
  process.env.FAURYA_FAKES_BIN || path.join(path.dirname(FAURYA_BIN), 'faurya-fakes'),
);

const CONFIG = {
  senders: envInt('CRASH_SENDERS', 8),
  loadMs: envInt('CRASH_SECONDS', 45) * 1000,
  minKills: envInt('CRASH_MIN_KILLS', 5),
  // Up-time before each kill, measured from the moment the restarted server is ready.
  killMinMs: envInt('CRASH_KILL_MIN_MS', 4000),
  killMaxMs: envInt('CRASH_KILL_MAX_MS', 9000),
  // Share of kills that come again while the restarted server is still starting up.
  startupKillRate: Number(process.env.CRASH_STARTUP_KILL_RATE ?? 0.25),
  // How long the server stays down after a kill (random up to this), while senders retry.
  maxDowntimeMs: envInt('CRASH_MAX_DOWNTIME_MS', 1500),
  seed: envInt('CRASH_SEED', Math.floor(Math.random() * 2 ** 31)),
  keep: process.env.CRASH_KEEP === '1',
  // A delivery that cannot get a 2xx for this long counts as refused for good.
  giveUpMs: 90_000,
  watchdogMs: envInt('CRASH_WATCHDOG_SECONDS', 300) * 1000,
  verbose: process.env.CRASH_VERBOSE === '1',
};

const { startFakeProviders, fakesBin } = await import('../e2e/support/fake-providers.mjs');
const { newId, paddleRefund, paddleSignature, paddleTransaction, rawJson, whopPayment, whopRefund, whopSignature } =
  await import('../e2e/support/deliveries.mjs');

// ---- small tools ------------------------------------------------------------------------------

/** mulberry32: the senders' choices and amounts follow CRASH_SEED (the timing cannot). */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rng = seeded(CONFIG.seed);
const int = (lo, hi) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = (items) => items[Math.floor(rng() * items.length)];
const chance = (p) => rng() < p;
const t0 = Date.now();
const clock = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s`;
const log = (...args) => console.log(clock(), ...args);
const debug = (...args) => CONFIG.verbose && console.log(clock(), ...args);

const EXPONENT = { USD: 2, EUR: 2, GBP: 2, JPY: 0 };

/** Minor units as the shortest decimal text of the major amount, as Whop's JSON numbers read. */
function majorText(minor, currency) {
  const exp = EXPONENT[currency.toUpperCase()];
  if (exp === 0) return String(minor);
  const digits = String(minor).padStart(exp + 1, '0');
  const whole = digits.slice(0, -exp);
  const frac = digits.slice(-exp).replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : whole;
}

const attributionId = (prefix) => prefix + randomBytes(9).toString('base64url');

async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      await new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', resolve);
      });
      servers.push(s);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

// ---- the server, restartable on the same data dir and ports ------------------------------------

class Serve {
  constructor({ bin, dataDir, logDir, publicPort, adminPort, env }) {
    Object.assign(this, { bin, dataDir, logDir, publicPort, adminPort, env });
    this.publicUrl = `http://127.0.0.1:${publicPort}`;
    this.adminUrl = `http://127.0.0.1:${adminPort}`;
    this.generation = 0;
    this.current = null;
    this.startMs = [];
  }

  /** One process; `ready` resolves once it printed its URLs, rejects if it exits first. */
  spawnOnce() {
    const generation = ++this.generation;
    const file = createWriteStream(path.join(this.logDir, `serve-${String(generation).padStart(2, '0')}.log`));
    const args = [
      'serve',
      '--data-dir',
      this.dataDir,
      '--public-addr',
      `127.0.0.1:${this.publicPort}`,
      '--admin-addr',
      `127.0.0.1:${this.adminPort}`,
      '--public-url',
      this.publicUrl,
    ];
    const spawnedAt = Date.now();
    const child = spawn(this.bin, args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail = [];
    const remember = (line) => {
      file.write(line + '\n');
      tail.push(line);
      if (tail.length > 60) tail.shift();
    };
    readline.createInterface({ input: child.stderr }).on('line', remember);
    const inst = { generation, child, tail, exited: false, exitInfo: null, spawnedAt };
    inst.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        inst.exited = true;
        inst.exitInfo = { code, signal };
        file.end();
        resolve(inst.exitInfo);
      }),
    );
    child.once('error', (e) => remember(`spawn error: ${e.message}`));
    inst.ready = new Promise((resolve, reject) => {
      let login = false;
      let pub = false;
      const timer = setTimeout(
        () => reject(new Error(`faurya serve (#${generation}) printed no URLs within 30 s`)),
        30_000,
      );
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        // The login URL carries the admin token: kept out of the log file.
        remember(line.replace(/token=\S+/, 'token=…'));
        login ||= /Admin login URL:\s*http:\/\//.test(line);
        pub ||= /Public listener:\s*http:\/\//.test(line);
        if (login && pub) {
          clearTimeout(timer);
          this.startMs.push(Date.now() - spawnedAt);
          resolve();
        }
      });
      inst.exit.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`faurya serve (#${generation}) exited before it was ready (code ${code}, signal ${signal})`));
      });
    });
    inst.ready.catch(() => {});
    this.current = inst;
    return inst;
  }

  /** Starts and waits until ready; a start that fails is retried a few times, then fatal. */
  async start() {
    let last;
    for (let attempt = 1; attempt <= 4; attempt++) {
      const inst = this.spawnOnce();
      try {
        await inst.ready;
        return inst;
      } catch (e) {
        last = e;
        if (!inst.exited) {
          process.kill(inst.child.pid, 'SIGKILL');
          await inst.exit;
        }
        log(`start failed (${e.message}); its output:\n    ${inst.tail.join('\n    ')}`);
        await sleep(300 * attempt);
      }
    }
    throw new Fatal(`faurya serve would not start again on the same data dir: ${last.message}`);
  }

  /** SIGKILL: no chance to flush, close or say goodbye. */
  async kill() {
    const inst = this.current;
    if (!inst || inst.exited) return null;
    process.kill(inst.child.pid, 'SIGKILL');
    return inst.exit;
  }

  /** SIGTERM and wait (a clean stop); answers how it ended and how long it took. */
  async stop(timeoutMs = 15_000) {
    const inst = this.current;
    if (!inst || inst.exited) return null;
    const began = Date.now();
    inst.child.kill('SIGTERM');
    const timer = setTimeout(() => !inst.exited && process.kill(inst.child.pid, 'SIGKILL'), timeoutMs);
    const info = await inst.exit;
    clearTimeout(timer);
    return { ...info, ms: Date.now() - began, tail: inst.tail };
  }

  async api(method, p, body, retried = false) {
    const res = await fetch(this.adminUrl + p, {
      method,
      headers: {
        Authorization: `Bearer ${this.env.FAURYA_ADMIN_TOKEN}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    }).catch((e) => {
      // A kept-alive connection the server closed while idle (its header deadline, or while this
      // process was busy checking and did not notice): HTTP/1.1 lets a server do that at any
      // time, and a client sends an idempotent request again on a new connection.
      if (method === 'GET' && !retried && ['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE'].includes(e.cause?.code))
        return null;
      // Say which call and why (undici hides the socket error in `cause`).
      throw new Error(`${method} ${p}: ${e.message} (${e.cause?.code ?? e.cause?.message ?? 'no cause'})`);
    });
    if (res === null) return this.api(method, p, body, true);
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, json };
  }

  async mustApi(method, p, body, expected = 200) {
    const r = await this.api(method, p, body);
    if (r.status !== expected)
      throw new Fatal(`${method} ${p}: HTTP ${r.status} (expected ${expected}): ${JSON.stringify(r.json)}`);
    return r.json;
  }

  async raw(id) {
    const res = await fetch(`${this.adminUrl}/api/events/${id}/raw`, {
      headers: { Authorization: `Bearer ${this.env.FAURYA_ADMIN_TOKEN}` },
      signal: AbortSignal.timeout(30_000),
    });
    if (res.status !== 200) return { status: res.status, body: null };
    return { status: 200, body: Buffer.from(await res.arrayBuffer()) };
  }
}

class Fatal extends Error {}

// ---- the ledger: what the senders sent and what got a 2xx -------------------------------------

/**
 * A delivery (or revenue API call) as a provider keeps it: exact bytes and headers, sent again
 * unchanged until it gets a 2xx. `expect` is the set of statuses its first stored row may end
 * with; every later row with the same delivery id must be a `duplicate` of that one.
 */
class Delivery {
  constructor({ provider, deliveryId, url, headers, body, what, expect, sender }) {
    Object.assign(this, { provider, deliveryId, url, headers, body, what, expect, sender });
    this.key = `${provider}|${deliveryId}`;
    this.attempts = 0; // requests sent
    this.sends = 0; // times a sender set out to deliver it (1 + repeats)
    this.acks = []; // {status, id} per 2xx
    this.noAck = []; // what the attempts without a 2xx got
    this.refused = null; // why it never got a 2xx
    this.createdAt = Date.now();
  }
}

const ledger = {
  deliveries: new Map(), // key → Delivery
  payments: new Map(), // key → expected payment
  stats: {
    requests: 0,
    acks: 0,
    retries: 0,
    repeats: 0,
    byWhat: {},
    noAckReasons: {},
    // HTTP answers other than 2xx and 503 (the documented "retry later"): a valid delivery should
    // never get one, even while the server recovers from a kill.
    badAnswers: [],
  },
  inflight: 0,
};

function expectPayment(p) {
  // p: {key, provider, ppid, orderId, currency, amount, status?}
  if (ledger.payments.has(p.key)) throw new Error(`ledger: payment ${p.key} twice`);
  ledger.payments.set(p.key, { ...p, refunds: new Map() });
}

function expectRefund(paymentKey, refund) {
  // refund: {id (provider_refund_id), amount, counts}
  ledger.payments.get(paymentKey).refunds.set(refund.id, refund);
}

let loadRunning = true;
const downtimes = [];

/** Sends until a 2xx, like a provider: same bytes, same ids, short back-off. */
async function deliver(d) {
  if (!ledger.deliveries.has(d.key)) ledger.deliveries.set(d.key, d);
  d.sends++;
  ledger.stats.byWhat[d.what] = (ledger.stats.byWhat[d.what] ?? 0) + 1;
  const began = Date.now();
  let backoff = 40;
  let refusals = 0;
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) {
      ledger.stats.retries++;
      await sleep(backoff * (0.5 + rng()));
      backoff = Math.min(backoff * 2, 800);
    }
    d.attempts++;
    ledger.stats.requests++;
    ledger.inflight++;
    let res = null;
    let text = null;
    let error = null;
    try {
      res = await fetch(d.url, {
        method: 'POST',
        headers: d.headers,
        body: d.body,
        signal: AbortSignal.timeout(20_000),
      });
      // A 2xx whose body is cut off by a kill is still a 2xx: the provider stops there.
      text = await res.text().catch(() => null);
    } catch (e) {
      error = e;
    } finally {
      ledger.inflight--;
    }
    if (res && res.status >= 200 && res.status < 300) {
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {}
      d.acks.push({ status: res.status, id: typeof json?.id === 'string' ? json.id : null, at: Date.now() });
      ledger.stats.acks++;
      return { status: res.status, json };
    }
    const reason = res ? `HTTP ${res.status}` : describeError(error);
    ledger.stats.noAckReasons[reason] = (ledger.stats.noAckReasons[reason] ?? 0) + 1;
    d.noAck.push(reason);
    if (res && res.status !== 503) {
      ledger.stats.badAnswers.push({
        what: d.what,
        deliveryId: d.deliveryId,
        status: res.status,
        body: String(text).slice(0, 300),
      });
    }
    if (res && res.status >= 400 && res.status < 500) {
      // A valid delivery should never be refused; retry a little, then stop.
      refusals++;
      if (refusals >= 8) {
        d.refused = `HTTP ${res.status}: ${String(text).slice(0, 300)}`;
        return null;
      }
    }
    if (Date.now() - began > CONFIG.giveUpMs) {
      d.refused = `no 2xx within ${CONFIG.giveUpMs / 1000} s (last: ${reason})`;
      return null;
    }
  }
}

function describeError(e) {
  if (!e) return 'no answer';
  if (e.name === 'TimeoutError') return 'timeout';
  const code = e.cause?.code ?? e.cause?.name ?? e.code ?? e.name;
  return `connection: ${code}`;
}

// ---- what the senders send ----------------------------------------------------------------------

function whopDelivery(hook, value, what, expect, sender) {
  // A trailing newline now and then: the stored body must keep it.
  const body = Buffer.from(rawJson(value) + (chance(0.2) ? '\n' : ''));
  const webhookId = value.id; // Whop's message id is the webhook-id header
  const timestamp = Math.floor(Date.now() / 1000);
  return new Delivery({
    provider: 'whop',
    deliveryId: webhookId,
    url: hook.url,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Svix-Webhooks/1.0 (crash test)',
      'webhook-id': webhookId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': whopSignature(hook.secret, webhookId, timestamp, body),
    },
    body,
    what,
    expect,
    sender,
  });
}

function paddleDelivery(hook, event, what, expect, sender) {
  const body = Buffer.from(chance(0.5) ? JSON.stringify(event, null, 2) : JSON.stringify(event));
  const ts = Math.floor(Date.now() / 1000);
  return new Delivery({
    provider: 'paddle',
    deliveryId: event.event_id,
    url: hook.url,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Paddle',
      'paddle-signature': paddleSignature(hook.secret, ts, body),
    },
    body,
    what,
    expect,
    sender,
  });
}

function apiDelivery(ctx, call, what, expect, sender) {
  const body = Buffer.from(JSON.stringify(call));
  const key = call.event === 'purchase' ? `purchase:${call.orderId}` : `refund:${call.orderId}:${call.refundId}`;
  return new Delivery({
    provider: 'api',
    deliveryId: `${ctx.site.id}:${key}`,
    url: `${ctx.serve.publicUrl}/api/revenue`,
    headers: {
      'content-type': 'application/json',
      'x-faurya-site-id': ctx.site.id,
      'x-faurya-write-key': ctx.site.writeKey,
    },
    body,
    what,
    expect,
    sender,
  });
}

class Sender {
  constructor(n, ctx) {
    this.n = n;
    this.ctx = ctx;
    this.sent = []; // acknowledged deliveries, for repeats
    this.refundable = []; // payments without a refund yet
  }

  async run() {
    while (loadRunning) {
      const r = rng();
      if (r < 0.27) await this.whopPayment();
      else if (r < 0.5) await this.paddlePayment();
      else if (r < 0.62) await this.apiPurchase();
      else if (r < 0.67) await this.crossPayment();
      else if (r < 0.85 && this.refundable.length) await this.refund();
      else if (this.sent.length) await this.repeat();
      else await this.whopPayment();
    }
  }

  async send(d) {
    const done = await deliver(d);
    if (done) this.sent.push(d);
    return done;
  }

  whopBody(currency, orderId) {
    const exp = EXPONENT[currency];
    const minor = exp === 0 ? int(300, 30_000) : int(99, 60_000);
    const metadata = {};
    if (chance(0.6))
      Object.assign(metadata, { faurya_visitor_id: attributionId('v_'), faurya_session_id: attributionId('s_') });
    if (orderId) metadata.faurya_order_id = orderId;
    if (chance(0.2)) metadata.note = 'Zoë ☕ — crash test';
    const value = whopPayment({
      total: majorText(minor, currency),
      currency: currency.toLowerCase(),
      metadata: Object.keys(metadata).length ? metadata : null,
      email: `buyer${int(1, 9999)}@example.com`,
    });
    value.company_id = 'biz_crash';
    return { value, minor };
  }

  async whopPayment() {
    const currency = pick(['USD', 'USD', 'EUR', 'JPY']);
    const { value, minor } = this.whopBody(currency);
    const d = whopDelivery(this.ctx.whop, value, 'whop payment.succeeded', ['processed'], this.n);
    if (!(await this.send(d))) return;
    const key = `whop:${value.data.id}`;
    expectPayment({ key, provider: 'whop', ppid: value.data.id, currency, amount: minor, status: 'succeeded' });
    this.refundable.push({ kind: 'whop', key, ppid: value.data.id, currency, amount: minor });
  }

  async paddlePayment() {
    const currency = pick(['EUR', 'USD', 'GBP']);
    const amount = int(100, 90_000);
    const customData = chance(0.6) ? { faVisitorId: attributionId('v_'), faSessionId: attributionId('s_') } : null;
    const txnId = newId('txn_');
    // Paddle sends transaction.paid, then transaction.completed for the same transaction.
    let paidAcked = false;
    if (chance(0.4)) {
      const paid = paddleTransaction({ type: 'paid', txnId, total: amount, currency, customData });
      if (
        !(await this.send(
          paddleDelivery(this.ctx.paddle, paid.event, 'paddle transaction.paid', ['processed'], this.n),
        ))
      )
        return;
      paidAcked = true;
    }
    const completed = paddleTransaction({ type: 'completed', txnId, total: amount, currency, customData });
    const key = `paddle:${txnId}`;
    const d = paddleDelivery(this.ctx.paddle, completed.event, 'paddle transaction.completed', ['processed'], this.n);
    if (!(await this.send(d))) {
      // Never acknowledged (reported as such); transaction.paid alone recorded the payment.
      if (paidAcked) expectPayment({ key, provider: 'paddle', ppid: txnId, currency, amount, status: 'paid' });
      return;
    }
    expectPayment({ key, provider: 'paddle', ppid: txnId, currency, amount, status: 'completed' });
    this.refundable.push({ kind: 'paddle', key, ppid: txnId, currency, amount });
  }

  async apiPurchase() {
    const currency = pick(['USD', 'EUR']);
    const amount = int(100, 40_000);
    const orderId = newId('ord_');
    const call = {
      event: 'purchase',
      amount,
      currency: chance(0.3) ? currency.toLowerCase() : currency,
      orderId,
      attribution: chance(0.6)
        ? { faVisitorId: attributionId('v_'), faSessionId: attributionId('s_'), faAttributionToken: null }
        : undefined,
    };
    const d = apiDelivery(this.ctx, call, 'revenue api purchase', ['processed'], this.n);
    if (!(await this.send(d))) return;
    const key = `api:${orderId}`;
    expectPayment({ key, provider: 'api', ppid: `order:${orderId}`, orderId, currency, amount, status: 'succeeded' });
    this.refundable.push({ kind: 'api', key, orderId, currency, amount });
  }

  /** One order reported twice: by the revenue API (order id) and by a Whop webhook naming it. */
  async crossPayment() {
    const currency = pick(['USD', 'EUR']);
    const orderId = newId('ord_');
    const { value, minor } = this.whopBody(currency, orderId);
    const call = { event: 'purchase', amount: minor, currency, orderId };
    const hook = whopDelivery(
      this.ctx.whop,
      value,
      'whop payment.succeeded (order also via api)',
      ['processed'],
      this.n,
    );
    const api = apiDelivery(this.ctx, call, 'revenue api purchase (order also via whop)', ['processed'], this.n);
    // Whichever comes second names a payment that is recorded already: it must not count again.
    const apiFirst = chance(0.5);
    if (apiFirst) {
      hook.expect = ['processed', 'duplicate'];
      if (!(await this.send(api))) return;
      if (!(await this.send(hook))) return;
    } else {
      // The webhook may have been acknowledged in a burst and processed in the background after
      // the API call (which is applied at once): then the API call records the payment and the
      // webhook adds to it. Either way it counts once (checked on the payments below).
      api.expect = ['duplicate', 'processed'];
      hook.expect = ['processed', 'duplicate'];
      if (!(await this.send(hook))) return;
      if (!(await this.send(api))) return;
    }
    const key = `cross:${orderId}`;
    expectPayment({
      key,
      provider: 'whop',
      ppid: value.data.id,
      orderId,
      currency,
      amount: minor,
      status: 'succeeded',
    });
    this.refundable.push({ kind: 'whop', key, ppid: value.data.id, currency, amount: minor });
  }

  async refund() {
    const i = Math.floor(rng() * this.refundable.length);
    const [p] = this.refundable.splice(i, 1);
    // Whole or partial, as founders do.
    const amount = chance(0.25) || p.amount < 2 ? p.amount : int(1, p.amount - 1);
    if (p.kind === 'whop') {
      const value = whopRefund({
        paymentId: p.ppid,
        amount: majorText(amount, p.currency),
        currency: p.currency.toLowerCase(),
      });
      const d = whopDelivery(this.ctx.whop, value, 'whop refund.created', ['processed'], this.n);
      if (!(await this.send(d))) return;
      expectRefund(p.key, { id: value.data.id, amount, counts: true });
    } else if (p.kind === 'paddle') {
      const adjId = newId('adj_');
      // Often created pending first (not deducted), then approved (deducted once).
      if (chance(0.5)) {
        const pending = paddleRefund({
          type: 'created',
          adjId,
          txnId: p.ppid,
          amount,
          currency: p.currency,
          status: 'pending_approval',
        });
        const d = paddleDelivery(
          this.ctx.paddle,
          pending.event,
          'paddle adjustment.created (pending)',
          ['processed'],
          this.n,
        );
        if (!(await this.send(d))) return;
        expectRefund(p.key, { id: adjId, amount, counts: false });
      }
      const approved = paddleRefund({ type: 'updated', adjId, txnId: p.ppid, amount, currency: p.currency });
      const d = paddleDelivery(
        this.ctx.paddle,
        approved.event,
        'paddle adjustment.updated (approved)',
        ['processed'],
        this.n,
      );
      if (!(await this.send(d))) return;
      expectRefund(p.key, { id: adjId, amount, counts: true });
    } else {
      const refundId = newId('re_');
      const call = { event: 'refund', amount, currency: p.currency, orderId: p.orderId, refundId };
      const d = apiDelivery(this.ctx, call, 'revenue api refund', ['processed'], this.n);
      if (!(await this.send(d))) return;
      expectRefund(p.key, { id: `api:${refundId}`, amount, counts: true });
    }
  }

  /** The same delivery again (a provider's retry after a lost answer, or a replay). */
  async repeat() {
    // Mostly recent ones, sometimes old; never so old that its signed timestamp is out of the
    // server's tolerance (300 s), which would make the repeat a stale one.
    const fresh = this.sent.filter((x) => Date.now() - x.createdAt < 180_000);
    if (!fresh.length) return this.whopPayment();
    const d = chance(0.7) ? pick(fresh.slice(-20)) : pick(fresh);
    ledger.stats.repeats++;
    await deliver(d);
  }
}

// ---- the killer ----------------------------------------------------------------------------------

async function killer(serve, kills) {
  const loadEnds = Date.now() + CONFIG.loadMs;
  for (;;) {
    await sleep(int(CONFIG.killMinMs, CONFIG.killMaxMs));
    if (Date.now() >= loadEnds && kills.length >= CONFIG.minKills) break;
    const inflight = ledger.inflight;
    const gen = serve.current.generation;
    await serve.kill();
    kills.push({ at: Date.now() - t0, generation: gen, inflight, during: 'load' });
    debug(`SIGKILL #${kills.length} (server #${gen}, ${inflight} requests in flight)`);
    if (chance(CONFIG.startupKillRate)) {
      // Once more while it starts: opening the store, recovering the WAL, binding the ports.
      const inst = serve.spawnOnce();
      await sleep(int(20, 400));
      const wasReady = await Promise.race([
        inst.ready.then(
          () => true,
          () => false,
        ),
        sleep(0).then(() => false),
      ]);
      if (!inst.exited) {
        await serve.kill();
        kills.push({
          at: Date.now() - t0,
          generation: inst.generation,
          inflight: ledger.inflight,
          during: wasReady ? 'just after start' : 'startup',
        });
        debug(`SIGKILL #${kills.length} (server #${inst.generation} while ${wasReady ? 'just ready' : 'starting'})`);
      }
    }
    const down = int(0, CONFIG.maxDowntimeMs);
    downtimes.push(down);
    await sleep(down);
    await serve.start();
    debug(`restarted (server #${serve.current.generation}) after ${down} ms down`);
  }
  loadRunning = false;
}

// ---- the checks ----------------------------------------------------------------------------------

async function pages(serve, p, field) {
  const all = [];
  let cursor = null;
  for (let page = 0; page < 100_000; page++) {
    const sep = p.includes('?') ? '&' : '?';
    const json = await serve.mustApi(
      'GET',
      `${p}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    all.push(...json[field]);
    cursor = json.next_cursor;
    if (!cursor) return all;
  }
  throw new Fatal(`${p}: paging did not end`);
}

async function parallel(items, n, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** Waits (up to 3 minutes) until no stored delivery is waiting to be processed. */
async function waitForBacklog(serve) {
  const began = Date.now();
  for (;;) {
    const { events } = await serve.mustApi('GET', '/api/events?status=received&limit=200');
    if (events.length === 0 || Date.now() - began > 180_000) return { left: events.length, ms: Date.now() - began };
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function verify(serve, findings) {
  const fail = (kind, detail) => findings.push({ kind, detail });
  const events = await pages(serve, '/api/events', 'events');
  const rows = events.filter((e) => e.id.startsWith('d_'));
  const rejected = events.filter((e) => !e.id.startsWith('d_'));
  for (const r of rejected)
    fail('rejected attempt', `${r.id} ${r.provider} ${r.delivery_id}: ${r.http_status} ${r.reason_code} ${r.error}`);

  const byKey = new Map();
  for (const row of rows) {
    const key = `${row.provider}|${row.delivery_id}`;
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key).push(row);
    if (!['processed', 'duplicate', 'ignored', 'failed'].includes(row.status)) {
      fail('unprocessed', `${row.id} ${key}: status ${row.status} after the restart`);
    }
  }

  // Every stored row of a sent delivery, byte for byte (compared as fetched: bodies are not kept).
  const notExact = new Map(); // row id → what differs
  const owned = rows.filter((r) => ledger.deliveries.has(`${r.provider}|${r.delivery_id}`));
  await parallel(owned, 8, async (row) => {
    const sent = ledger.deliveries.get(`${row.provider}|${row.delivery_id}`).body;
    const got = await serve.raw(row.id);
    if (!got.body) notExact.set(row.id, `GET /api/events/${row.id}/raw answered HTTP ${got.status}`);
    else if (!got.body.equals(sent))
      notExact.set(
        row.id,
        `${got.body.length} bytes stored differ from the ${sent.length} sent (first difference at byte ${firstDifference(got.body, sent)})`,
      );
  });

  const figures = {
    stored: rows.length,
    lost: 0,
    storedWithoutAck: 0,
    acksNamingMissingRow: 0,
    byteMismatch: 0,
    statusWrong: 0,
    doubleOriginal: 0,
  };
  const ackedIds = new Map();
  for (const d of ledger.deliveries.values()) {
    if (d.refused)
      fail(
        'never acknowledged',
        `${d.what} ${d.deliveryId}: ${d.refused}; ${d.attempts} attempts: ${summarize(d.noAck)}`,
      );
    const stored = byKey.get(d.key) ?? [];
    byKey.delete(d.key);
    if (d.acks.length === 0) {
      if (stored.length)
        fail(
          'stored without any 2xx',
          `${d.what} ${d.deliveryId}: ${stored.map((r) => `${r.id} ${r.status}`).join(', ')}`,
        );
      continue;
    }
    // Each 2xx is a row on disk: the one it named, with the bytes that were sent.
    for (const ack of d.acks) {
      if (!ack.id) continue;
      if (ackedIds.has(ack.id)) {
        figures.lost++;
        fail(
          'lost',
          `${ack.id} was acknowledged to two requests (${ackedIds.get(ack.id)} and ${d.what} ${d.deliveryId}): one of them was not on disk`,
        );
      }
      ackedIds.set(ack.id, `${d.what} ${d.deliveryId}`);
      if (!stored.some((r) => r.id === ack.id)) {
        figures.lost++;
        figures.acksNamingMissingRow++;
        const other = rows.find((r) => r.id === ack.id);
        fail(
          'lost',
          `${d.what} ${d.deliveryId}: got HTTP ${ack.status} as ${ack.id}, but ${other ? `${ack.id} is now ${other.provider} ${other.delivery_id}` : `there is no ${ack.id}`}`,
        );
      }
    }
    if (stored.length < d.acks.length) {
      const missing = d.acks.length - stored.length;
      // Acks that named a missing row are counted above already.
      const counted = d.acks.filter((a) => a.id && !stored.some((r) => r.id === a.id)).length;
      figures.lost += Math.max(0, missing - counted);
      if (missing > counted)
        fail('lost', `${d.what} ${d.deliveryId}: ${d.acks.length} × 2xx but ${stored.length} stored row(s)`);
    }
    if (stored.length > d.attempts)
      fail('phantom rows', `${d.what} ${d.deliveryId}: ${stored.length} rows from ${d.attempts} requests`);
    figures.storedWithoutAck += Math.max(0, stored.length - d.acks.length);
    for (const r of stored) {
      if (notExact.has(r.id)) {
        figures.byteMismatch++;
        fail('not byte-exact', `${r.id} (${d.what} ${d.deliveryId}): ${notExact.get(r.id)}`);
      }
    }
    const originals = stored.filter((r) => !r.duplicate_of);
    if (originals.length !== 1) {
      if (originals.length > 1) figures.doubleOriginal++;
      fail(
        originals.length > 1 ? 'double-counted' : 'no original',
        `${d.what} ${d.deliveryId}: ${originals.length} first rows (${stored.map((r) => `${r.id}:${r.status}:${r.duplicate_of}`).join(', ')})`,
      );
      continue;
    }
    const [first] = originals;
    if (!d.expect.includes(first.status)) {
      figures.statusWrong++;
      fail(
        'wrong status',
        `${first.id} (${d.what} ${d.deliveryId}): ${first.status}, expected ${d.expect.join(' or ')}; error ${first.error}; note ${first.note}`,
      );
    }
    for (const r of stored) {
      if (r === first) continue;
      if (r.status !== 'duplicate' || r.duplicate_of !== first.id) {
        figures.statusWrong++;
        fail(
          'wrong status',
          `${r.id} (repeat of ${d.what} ${d.deliveryId}): ${r.status}, duplicate_of ${r.duplicate_of}, expected duplicate of ${first.id}`,
        );
      }
    }
  }
  for (const [key, extra] of byKey)
    fail('unexpected rows', `${key}: ${extra.map((r) => `${r.id} ${r.status}`).join(', ')} (never sent)`);

  // Payments: each expected one exactly once, with its amount and its refunds counted once.
  const payments = await pages(serve, '/api/payments', 'payments');
  const matched = new Set();
  const pfig = {
    expected: ledger.payments.size,
    found: payments.length,
    lost: 0,
    doubled: 0,
    wrong: 0,
    refundsExpected: 0,
    refundsDoubled: 0,
    refundsLost: 0,
  };
  for (const e of ledger.payments.values()) {
    const hits = payments.filter(
      (p) => (p.provider === e.provider && p.provider_payment_id === e.ppid) || (e.orderId && p.order_id === e.orderId),
    );
    hits.forEach((p) => matched.add(p.id));
    if (hits.length === 0) {
      pfig.lost++;
      fail('payment lost', `${e.key}: ${e.amount} ${e.currency} is not in /api/payments`);
      continue;
    }
    if (hits.length > 1) {
      pfig.doubled++;
      fail(
        'payment double-counted',
        `${e.key}: ${hits.length} payments: ${hits.map((p) => `#${p.id} ${p.provider}/${p.provider_payment_id} ${p.amount_minor} ${p.currency}`).join('; ')}`,
      );
    }
    const p = hits[0];
    const counted = [...e.refunds.values()].filter((r) => r.counts).reduce((s, r) => s + r.amount, 0);
    const problems = [];
    if (p.provider !== e.provider || p.provider_payment_id !== e.ppid)
      problems.push(`ids ${p.provider}/${p.provider_payment_id}, expected ${e.provider}/${e.ppid}`);
    if (p.amount_minor !== e.amount || p.currency !== e.currency)
      problems.push(`${p.amount_minor} ${p.currency}, expected ${e.amount} ${e.currency}`);
    if (p.refunded_minor !== counted) problems.push(`refunded ${p.refunded_minor}, expected ${counted}`);
    if (p.net_minor !== e.amount - counted) problems.push(`net ${p.net_minor}, expected ${e.amount - counted}`);
    if (e.status && p.status !== e.status) problems.push(`status ${p.status}, expected ${e.status}`);
    if (problems.length) {
      pfig.wrong++;
      fail('payment wrong', `${e.key} (#${p.id}): ${problems.join('; ')}`);
    }
    pfig.refundsExpected += e.refunds.size;
    for (const r of e.refunds.values()) {
      const found = p.refunds.filter((x) => x.provider_refund_id === r.id);
      if (found.length === 0) {
        pfig.refundsLost++;
        fail('refund lost', `${e.key}: refund ${r.id} (${r.amount}) is not on payment #${p.id}`);
      } else if (found.length > 1) {
        pfig.refundsDoubled++;
        fail('refund double-counted', `${e.key}: refund ${r.id} appears ${found.length} times on #${p.id}`);
      } else if (found[0].amount_minor !== r.amount || found[0].counts !== r.counts) {
        fail(
          'refund wrong',
          `${e.key}: refund ${r.id}: ${found[0].amount_minor} counts=${found[0].counts}, expected ${r.amount} counts=${r.counts}`,
        );
      }
    }
    const extra = p.refunds.filter((x) => !e.refunds.has(x.provider_refund_id));
    if (extra.length) {
      pfig.refundsDoubled += extra.length;
      fail(
        'refund unexpected',
        `${e.key} (#${p.id}): ${extra.map((x) => `${x.provider_refund_id} ${x.amount_minor}`).join(', ')}`,
      );
    }
  }
  for (const p of payments) {
    if (matched.has(p.id)) continue;
    pfig.doubled++;
    fail(
      'payment unexpected',
      `#${p.id} ${p.provider}/${p.provider_payment_id} ${p.amount_minor} ${p.currency} order ${p.order_id} (from ${p.delivery_id}) matches nothing sent`,
    );
  }

  // Revenue totals: the Overview's numbers.
  const expected = new Map();
  for (const e of ledger.payments.values()) {
    const t = expected.get(e.currency) ?? {
      currency: e.currency,
      payments: 0,
      gross_minor: 0,
      refunded_minor: 0,
      net_minor: 0,
    };
    const counted = [...e.refunds.values()].filter((r) => r.counts).reduce((s, r) => s + r.amount, 0);
    t.payments++;
    t.gross_minor += e.amount;
    t.refunded_minor += counted;
    t.net_minor += e.amount - counted;
    expected.set(e.currency, t);
  }
  const summary = await serve.mustApi('GET', '/api/revenue/summary?days=30');
  const found = new Map(summary.all_time.map((t) => [t.currency, t]));
  const totals = [];
  for (const currency of new Set([...expected.keys(), ...found.keys()])) {
    const e = expected.get(currency) ?? { payments: 0, gross_minor: 0, refunded_minor: 0, net_minor: 0 };
    const f = found.get(currency) ?? { payments: 0, gross_minor: 0, refunded_minor: 0, net_minor: 0 };
    const same = ['payments', 'gross_minor', 'refunded_minor', 'net_minor'].every((k) => e[k] === f[k]);
    totals.push({ currency, expected: e, found: f, same });
    if (!same) fail('revenue totals', `${currency}: expected ${fmt(e)}, found ${fmt(f)}`);
  }
  // The window (every payment of this run is from today) and the daily series agree with it.
  const windowed = new Map(summary.window.map((t) => [t.currency, t]));
  for (const [currency, f] of found) {
    const w = windowed.get(currency);
    if (!w || ['payments', 'gross_minor', 'refunded_minor', 'net_minor'].some((k) => w[k] !== f[k])) {
      fail(
        'revenue totals',
        `${currency}: the 30-day window (${w ? fmt(w) : 'absent'}) differs from all time (${fmt(f)})`,
      );
    }
    const daily = summary.daily.filter((d) => d.currency === currency).reduce((sum, d) => sum + d.net_minor, 0);
    if (daily !== f.net_minor)
      fail('revenue totals', `${currency}: the daily series adds up to ${daily}, all time net is ${f.net_minor}`);
  }
  const health = await serve.mustApi('GET', '/api/health');
  if (health.store && health.store.writable !== true)
    fail('store', `health says the store is not writable: ${JSON.stringify(health.store)}`);
  return { figures, pfig, totals, rejected: rejected.length, unexpectedRows: byKey.size };
}

/**
 * CRASH_SELFTEST=1: after the real check, spoil the ledger in known ways and check again: every
 * spoilt fact must be reported, so a run that passes has really been compared.
 */
async function selfTest(serve) {
  const ds = [...ledger.deliveries.values()].filter((d) => d.acks.length && !d.refused);
  const byWhat = (w) => {
    const found = ds.find((d) => d.what === w && !spoilt.has(d));
    if (!found) throw new Fatal(`self-test: no acknowledged ${w} to spoil (run longer)`);
    return found;
  };
  const spoilt = new Set();
  const take = (d) => (spoilt.add(d), d);
  const whop = take(byWhat('whop payment.succeeded'));
  whop.acks.push({ status: 200, id: 'd_999999999' });
  const paddle = take(byWhat('paddle transaction.completed'));
  paddle.body = Buffer.concat([paddle.body, Buffer.from(' ')]);
  const api = take(byWhat('revenue api purchase'));
  ledger.deliveries.delete(api.key);
  const refund = take(byWhat('whop refund.created'));
  refund.expect = ['ignored'];
  const [p1, p2, p3] = [...ledger.payments.values()].filter((p) => p.refunds.size === 0);
  p1.amount += 1;
  ledger.payments.delete(p2.key);
  p3.refunds.set('rfnd_selftest', { id: 'rfnd_selftest', amount: 1, counts: true });
  const findings = [];
  await verify(serve, findings);
  const kinds = new Set(findings.map((f) => f.kind));
  const wanted = [
    'lost',
    'not byte-exact',
    'unexpected rows',
    'wrong status',
    'payment wrong',
    'payment unexpected',
    'refund lost',
    'revenue totals',
  ];
  const missed = wanted.filter((k) => !kinds.has(k));
  console.log(`\nSelf-test: ${findings.length} findings from ${wanted.length} spoilt facts (${[...kinds].join(', ')})`);
  if (missed.length) throw new Fatal(`self-test: the check did not report ${missed.join(', ')}`);
  console.log('Self-test: every spoilt fact was reported');
}

function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

const fmt = (t) => `${t.payments} payments, gross ${t.gross_minor}, refunded ${t.refunded_minor}, net ${t.net_minor}`;

function summarize(list) {
  const counts = {};
  for (const x of list) counts[x] = (counts[x] ?? 0) + 1;
  return Object.entries(counts)
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
}

// ---- main ------------------------------------------------------------------------------------------

async function main() {
  for (const [what, bin] of [
    ['faurya', FAURYA_BIN],
    ['faurya-fakes', fakesBin],
  ]) {
    if (!existsSync(bin)) {
      throw new Fatal(
        `${what} binary not found at ${bin}: run cargo build --release -p faurya -p faurya-fakes (or set FAURYA_BIN / FAURYA_FAKES_BIN)`,
      );
    }
  }
  const workDir = mkdtempSync(path.join(tmpdir(), 'faurya-crash-'));
  const dataDir = path.join(workDir, 'data');
  const logDir = path.join(workDir, 'logs');
  mkdirSync(logDir);
  const [publicPort, adminPort] = await freePorts(2);
  // Every restart runs the same build, even if cargo replaces the binary meanwhile.
  const bin = path.join(workDir, 'faurya');
  try {
    linkSync(FAURYA_BIN, bin);
  } catch {
    copyFileSync(FAURYA_BIN, bin);
  }
  log(`crash test: ${FAURYA_BIN}`);
  log(
    `seed ${CONFIG.seed}, ${CONFIG.senders} senders, ${CONFIG.loadMs / 1000} s of load, at least ${CONFIG.minKills} kills, ports ${publicPort}/${adminPort}, ${workDir}`,
  );

  const state = { workDir, serve: null, fakes: null };
  cleanupHooks.push(async () => {
    await state.serve?.kill().catch(() => {});
    await state.fakes?.stop().catch(() => {});
  });

  state.fakes = await startFakeProviders();
  const fakes = state.fakes;
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FAURYA_')));
  const serve = new Serve({
    bin,
    dataDir,
    logDir,
    publicPort,
    adminPort,
    env: {
      ...inherited,
      FAURYA_ADMIN_TOKEN: randomBytes(24).toString('hex'),
      FAURYA_MASTER_KEY: process.env.CRASH_MASTER_KEY ?? randomBytes(32).toString('base64'),
      FAURYA_NO_KEYCHAIN: '1',
      FAURYA_WHOP_API_BASE: fakes.whopBase,
      FAURYA_PADDLE_API_BASE: fakes.paddleBase,
      RUST_LOG: process.env.RUST_LOG ?? 'info',
    },
  });
  state.serve = serve;
  await serve.start();

  // One Whop and one Paddle connection against the fakes, and the site's write key.
  await fakes.addWhopKey('apik_crash_whop_7d2e', 'biz_crash', true);
  await serve.mustApi(
    'POST',
    '/api/connections/whop',
    { api_key: 'apik_crash_whop_7d2e', company_id: 'biz_crash', environment: 'production' },
    201,
  );
  await fakes.addPaddleKey('pdl_sdbx_apikey_crash_41c9');
  await serve.mustApi(
    'POST',
    '/api/connections/paddle',
    { api_key: 'pdl_sdbx_apikey_crash_41c9', environment: 'sandbox' },
    201,
  );
  const secrets = await fakes.secrets();
  if (secrets.whop.length !== 1 || secrets.paddle.length !== 1)
    throw new Fatal(`expected one webhook per provider at the fakes: ${JSON.stringify(secrets)}`);
  const { sites } = await serve.mustApi('GET', '/api/sites');
  const site = {
    id: sites[0].id,
    writeKey: (await serve.mustApi('GET', `/api/sites/${sites[0].id}/write-key`)).write_key,
  };
  const ctx = {
    serve,
    site,
    whop: { url: secrets.whop[0].url, secret: secrets.whop[0].secret },
    paddle: { url: secrets.paddle[0].destination, secret: secrets.paddle[0].secret },
  };
  for (const [name, url] of [
    ['whop', ctx.whop.url],
    ['paddle', ctx.paddle.url],
  ]) {
    if (!url.startsWith(`${serve.publicUrl}/webhooks/${name}/`))
      throw new Fatal(`the ${name} webhook points at ${url}, not at ${serve.publicUrl}`);
  }
  log(`connected Whop and Paddle; site ${site.id}; load starts`);

  const kills = [];
  const loadStarted = Date.now();
  const progress = setInterval(() => {
    const s = ledger.stats;
    log(
      `… ${s.requests} requests, ${s.acks} acknowledged, ${s.retries} retries, ${kills.length} kills, ${ledger.inflight} in flight`,
    );
  }, 10_000);
  const senders = Array.from({ length: CONFIG.senders }, (_, i) => new Sender(i + 1, ctx));
  const sending = Promise.all(senders.map((s) => s.run()));
  await killer(serve, kills);
  const loadMs = Date.now() - loadStarted;
  log(
    `load over after ${(loadMs / 1000).toFixed(1)} s and ${kills.length} kills; waiting for the senders' last deliveries`,
  );
  await sending;
  clearInterval(progress);
  const drainedMs = Date.now() - loadStarted - loadMs;

  // The last, clean restart: SIGTERM, then start again on the same store.
  const stopped = await serve.stop();
  const findings = [];
  if (!stopped || stopped.code !== 0 || stopped.ms > 10_000) {
    findings.push({
      kind: 'clean stop',
      detail: `SIGTERM → ${JSON.stringify({ code: stopped?.code, signal: stopped?.signal, ms: stopped?.ms })}; last output:\n    ${stopped?.tail?.slice(-15).join('\n    ')}`,
    });
  }
  await serve.start();
  // A stop does not wait for the processing backlog: the restarted app works it off in the
  // background, and every stored-but-unprocessed delivery must be processed then.
  const backlog = await waitForBacklog(serve);
  if (backlog.left > 0)
    findings.push({
      kind: 'backlog',
      detail: `${backlog.left === 200 ? '200 or more' : backlog.left} deliveries still unprocessed ${backlog.ms} ms after the restart`,
    });
  log(
    `restarted cleanly; backlog processed in ${(backlog.ms / 1000).toFixed(1)} s; checking the store against the ledger`,
  );
  const checked = await verify(serve, findings);
  for (const a of ledger.stats.badAnswers) {
    findings.push({ kind: `answered ${a.status}`, detail: `${a.what} ${a.deliveryId}: HTTP ${a.status} ${a.body}` });
  }
  if (process.env.CRASH_SELFTEST === '1') await selfTest(serve);
  await serve.stop();

  // ---- figures ----
  const s = ledger.stats;
  const ds = [...ledger.deliveries.values()];
  const retried = ds.filter((d) => d.noAck.length > 0).length;
  const acked = ds.filter((d) => d.acks.length > 0).length;
  const f = checked.figures;
  const p = checked.pfig;
  const doubleCounted = f.doubleOriginal + p.doubled + p.refundsDoubled;
  const lost = f.lost + p.lost + p.refundsLost;
  const line = (label, value) => console.log(`  ${label.padEnd(44)} ${value}`);
  console.log('\nCrash test figures');
  line('downtime after each kill (ms)', downtimes.join(', '));
  line(
    'load (s), senders',
    `${(loadMs / 1000).toFixed(1)} s + ${(drainedMs / 1000).toFixed(1)} s to drain, ${CONFIG.senders} senders`,
  );
  line(
    'kills (SIGKILL)',
    `${kills.length} (${kills.filter((k) => k.during !== 'load').length} during or just after a start); requests in flight at each: ${kills.map((k) => k.inflight).join(', ')}`,
  );
  line('restarts, start time (ms) min/median/max', `${serve.generation - 1}, ${stat(serve.startMs)}`);
  line(
    'deliveries sent (distinct)',
    `${ds.length}: ${Object.entries(countBy(ds, (d) => d.provider))
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  for (const [what, n] of Object.entries(s.byWhat).sort()) line(`  sends: ${what}`, n);
  line('repeats sent on purpose', s.repeats);
  line('requests', s.requests);
  line('2xx answers (acknowledged)', `${s.acks} for ${acked} deliveries`);
  line('retried (deliveries / retry requests)', `${retried} / ${s.retries}`);
  line(
    'answers that were no 2xx',
    summarize(Object.entries(s.noAckReasons).flatMap(([k, v]) => Array(v).fill(k))) || 'none',
  );
  line('never acknowledged', ds.filter((d) => d.refused).length);
  line('stored rows (deliveries + api calls)', f.stored);
  line('stored without a 2xx (answer lost to a kill)', f.storedWithoutAck);
  line('rejected attempts', checked.rejected);
  line('LOST (acknowledged but not stored as sent)', lost);
  line('not byte-exact', f.byteMismatch);
  line(
    'left unprocessed / wrong status',
    `${findings.filter((x) => x.kind === 'unprocessed').length} / ${f.statusWrong}`,
  );
  line('payments expected / found', `${p.expected} / ${p.found}`);
  line('refunds expected', p.refundsExpected);
  line('DOUBLE-COUNTED (payments, refunds, rows)', doubleCounted);
  console.log('  revenue totals, all time (expected → found):');
  for (const t of checked.totals) {
    console.log(`    ${t.currency}  ${fmt(t.expected)}  →  ${fmt(t.found)}  ${t.same ? 'ok' : 'MISMATCH'}`);
  }
  if (kills.length < CONFIG.minKills) findings.push({ kind: 'kills', detail: `only ${kills.length} kills` });

  const report = {
    config: CONFIG,
    bin: FAURYA_BIN,
    kills,
    stats: s,
    figures: f,
    payments: p,
    totals: checked.totals,
    findings,
  };
  writeFileSync(path.join(workDir, 'report.json'), JSON.stringify(report, null, 2));
  if (findings.length) {
    console.log(`\nFAILED: ${findings.length} finding(s)`);
    const byKind = countBy(findings, (x) => x.kind);
    console.log(
      `  ${Object.entries(byKind)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')}`,
    );
    for (const x of findings.slice(0, 60)) console.log(`  - [${x.kind}] ${x.detail}`);
    if (findings.length > 60) console.log(`  … ${findings.length - 60} more in ${path.join(workDir, 'report.json')}`);
    console.log(`\nKept for inspection: ${workDir} (data/, logs/serve-NN.log, report.json); seed ${CONFIG.seed}`);
    return 1;
  }
  console.log(`\nPASSED: lost = 0, double-counted = 0, totals equal (seed ${CONFIG.seed})`);
  if (CONFIG.keep) console.log(`Kept: ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
  return 0;
}

function countBy(items, key) {
  const out = {};
  for (const x of items) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

function stat(values) {
  if (!values.length) return '-';
  const sorted = [...values].sort((a, b) => a - b);
  return `${sorted[0]}/${sorted[Math.floor(sorted.length / 2)]}/${sorted[sorted.length - 1]}`;
}

const cleanupHooks = [];
async function cleanup() {
  for (const hook of cleanupHooks.splice(0)) await hook();
}

const watchdog = setTimeout(async () => {
  console.error(`\nWATCHDOG: the crash test ran over ${CONFIG.watchdogMs / 1000} s; stopping`);
  await cleanup();
  process.exit(2);
}, CONFIG.watchdogMs);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await cleanup();
    process.exit(130);
  });
}

let code;
try {
  code = await main();
} catch (e) {
  console.error(`\nCRASH TEST COULD NOT RUN: ${e instanceof Fatal ? e.message : e.stack}`);
  code = 2;
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
process.exit(code);
