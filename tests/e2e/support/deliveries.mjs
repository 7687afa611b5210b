// Signed webhook deliveries as Whop and Paddle send them, POSTed to the app's public listener.
// The signatures are computed here, independently of the backend's code.
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.mjs';

const now = () => Math.floor(Date.now() / 1000);

/** Standard Webhooks as Whop uses it: the key is the secret string's bytes, not base64-decoded. */
export function whopSignature(secret, webhookId, timestamp, body) {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(`${webhookId}.${timestamp}.`)
    .update(body)
    .digest('base64');
  return `v1,${mac}`;
}

/** `Paddle-Signature: ts=<unix>;h1=<hex HMAC-SHA256 of "ts:body">`, keyed with the secret string. */
export function paddleSignature(secret, ts, body) {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${ts}:`).update(body).digest('hex');
  return `ts=${ts};h1=${mac}`;
}

export function newId(prefix) {
  return prefix + randomBytes(10).toString('hex');
}

/**
 * POST one Whop delivery. `body` is a string or Buffer sent byte for byte.
 * @returns {Promise<{ status: number, json: any, webhookId: string, body: Buffer }>}
 */
export async function postWhop(url, secret, body, { webhookId = newId('msg_'), timestamp = now(), signature } = {}) {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Svix-Webhooks/1.0 (e2e)',
      'webhook-id': webhookId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature ?? whopSignature(secret, webhookId, timestamp, bytes),
    },
    body: bytes,
  });
  return { status: res.status, json: await res.json().catch(() => null), webhookId, body: bytes };
}

/** POST one Paddle notification. */
export async function postPaddle(url, secret, body, { ts = now(), signature } = {}) {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Paddle',
      'paddle-signature': signature ?? paddleSignature(secret, ts, bytes),
    },
    body: bytes,
  });
  return { status: res.status, json: await res.json().catch(() => null), body: bytes };
}

/** A Whop payment.succeeded body; `total` is a decimal in major units as Whop sends it. */
export function whopPayment({
  id = newId('pay_'),
  total,
  currency,
  metadata = null,
  email = 'buyer@example.com',
  paidAt,
} = {}) {
  return {
    id: newId('msg_'),
    api_version: 'v1',
    type: 'payment.succeeded',
    timestamp: new Date().toISOString(),
    company_id: 'biz_e2e',
    data: {
      id,
      status: 'paid',
      substatus: 'succeeded',
      currency,
      // Written as JSON by hand below so that e.g. 4900.00 keeps its digits.
      total: `__RAW__${total}`,
      subtotal: `__RAW__${total}`,
      paid_at: paidAt ?? new Date().toISOString(),
      created_at: new Date().toISOString(),
      metadata,
      plan: { id: 'plan_e2e', metadata: null },
      product: { id: 'prod_e2e', title: 'Pro plan' },
      user: { id: 'user_e2e', email, username: 'buyer' },
    },
  };
}

/** A Whop refund.created body. */
export function whopRefund({ id = newId('rfnd_'), paymentId, amount, currency, status = 'succeeded' }) {
  return {
    id: newId('msg_'),
    api_version: 'v1',
    type: 'refund.created',
    timestamp: new Date().toISOString(),
    data: {
      id,
      amount: `__RAW__${amount}`,
      currency,
      status,
      created_at: new Date().toISOString(),
      payment: { id: paymentId },
    },
  };
}

/** JSON text with `"__RAW__<number>"` placeholders replaced by the bare number text. */
export function rawJson(value) {
  return JSON.stringify(value, null, 2).replace(/"__RAW__([-0-9.eE+]+)"/g, '$1');
}

// ---- Paddle, from the spec's webhook examples ---------------------------------------------------

const FIXTURES = path.join(repoRoot, 'crates', 'faurya', 'tests', 'fixtures', 'paddle');

export function paddleFixture(name) {
  return JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));
}

/** transaction.completed (or .paid) from the spec example, with fresh ids and our custom_data. */
export function paddleTransaction({
  type = 'completed',
  txnId = newId('txn_'),
  total,
  currency,
  customData = null,
  eventId = newId('evt_'),
}) {
  const event = paddleFixture(`transaction-${type}`);
  event.event_id = eventId;
  event.notification_id = newId('ntf_');
  event.occurred_at = new Date().toISOString();
  const data = event.data;
  data.id = txnId;
  data.currency_code = currency;
  data.custom_data = customData;
  data.billed_at = new Date().toISOString();
  data.details.totals.total = String(total);
  data.details.totals.grand_total = String(total);
  return { event, txnId };
}

/** adjustment.created/.updated (a refund) from the spec example, for `txnId`. */
export function paddleRefund({
  type = 'updated',
  adjId = newId('adj_'),
  txnId,
  amount,
  currency,
  status = 'approved',
  eventId = newId('evt_'),
}) {
  const event = paddleFixture(`adjustment-${type}`);
  event.event_id = eventId;
  event.notification_id = newId('ntf_');
  event.occurred_at = new Date().toISOString();
  const data = event.data;
  data.id = adjId;
  data.transaction_id = txnId;
  data.action = 'refund';
  data.status = status;
  data.currency_code = currency;
  data.totals.total = String(amount);
  data.totals.currency_code = currency;
  data.payout_totals.currency_code = currency;
  return { event, adjId };
}
