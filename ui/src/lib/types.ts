// Shapes of the admin API (docs/API.md). Keep in step with that document.

export type Provider = 'whop' | 'paddle';
export type Environment = 'production' | 'sandbox';

export interface Health {
  ok: boolean;
  version: string;
  /** Whether the database takes writes (issue 12); absent from older backends. */
  store?: StoreHealth;
}

/** `GET /api/health`'s `store`: false `writable` while commits fail (e.g. the disk is full). */
export interface StoreHealth {
  writable: boolean;
  /** Why, e.g. "database or disk is full". */
  error: string | null;
  /** When the writes started failing (RFC 3339). */
  since: string | null;
}

export type PublicUrlSource = 'flag' | 'settings' | 'tunnel' | null;

export interface Settings {
  public_url: string | null;
  public_url_source: PublicUrlSource;
  data_dir: string;
  public_addr: string;
  admin_addr: string;
  version: string;
  signature_tolerance_secs: number;
  /** The tunnel (issue 6); absent from backends that do not have it yet. */
  tunnel?: TunnelStatus;
  /** The desktop app's switches (issue 13); absent from older backends. */
  desktop?: DesktopSettings;
}

export interface SettingsUpdate {
  public_url?: string | null;
  signature_tolerance_secs?: number;
  tunnel?: TunnelUpdate;
  notify_payments?: boolean;
  notify_test_payments?: boolean;
  start_at_login?: boolean;
}

/**
 * The desktop app's switches. `available` is false under `faurya serve` (no window, no tray):
 * the switches are then hidden. `start_at_login_set` says whether the founder chose it
 * (otherwise it turns on by itself once the first provider is connected).
 */
export interface DesktopSettings {
  available: boolean;
  notify_payments: boolean;
  notify_test_payments: boolean;
  start_at_login: boolean;
  start_at_login_set: boolean;
}

export type TunnelBackend = 'none' | 'cloudflared' | 'ngrok' | 'bore' | 'manual';
export type TunnelState = 'off' | 'starting' | 'up' | 'down';

/** docs/API.md "Tunnel". Every sub-object is optional here so a partial answer still renders. */
export interface TunnelStatus {
  backend: TunnelBackend;
  state: TunnelState;
  /** The public URL, while `up` only. */
  url: string | null;
  /** While `down`: why; while `starting` after a failure: the last failure. */
  error: string | null;
  updated_at: string | null;
  cloudflared?: { installed: boolean; path: string | null; install_hint?: string | null };
  ngrok?: { authtoken_set: boolean; masked_authtoken: string | null; domain: string | null };
  /** `port` is the remote port asked of the bore server (0 = any free one). */
  bore?: { host: string | null; port: number | null; secret_set: boolean; public_url?: string | null };
}

/**
 * docs/API.md "TunnelUpdate". For every field: absent keeps the saved value, `null` (or "")
 * clears it. Secrets are sent only when the user typed one, or `null` to clear them on purpose.
 */
export interface TunnelUpdate {
  backend?: TunnelBackend;
  ngrok?: { authtoken?: string | null; domain?: string | null };
  bore?: { host?: string | null; port?: number; secret?: string | null; public_url?: string | null };
}

export interface TunnelTestResult {
  ok: boolean;
  url: string;
  status: number | null;
  rtt_ms: number | null;
  error: string | null;
}

export type SyncState = 'ok' | 'pending' | 'failed';

export interface Connection {
  id: string;
  provider: Provider;
  /** The site its payments are attributed to (tracking backends). */
  site_id?: string | null;
  environment: Environment;
  account_id: string | null;
  masked_key: string;
  webhook_id: string | null;
  webhook_url: string | null;
  created_at: string;
  last_delivery_at: string | null;
  deliveries: number;
  sync: { state: SyncState; error: string | null; updated_at: string | null } | null;
  /** The last check for payments the provider lists but Faurya never received (none yet: null). */
  backfill?: BackfillState | null;
  /** The latest test payment (issue 13; null before the first, absent from older backends). */
  last_test?: TestRun | null;
  /** Where verified deliveries are forwarded after they are stored (null: nowhere; absent: older backends). */
  forward_url?: string | null;
}

/** `faurya`: Faurya signs and sends a test delivery itself; `provider`: Whop or Paddle is asked to send one. */
export type TestVia = 'faurya' | 'provider';
export type TestStepState = 'ok' | 'failed' | 'skipped';

/** One step of a test payment, e.g. `{key: "send", label: "Sent through the public URL", state: "failed"}`. */
export interface TestStep {
  key: string;
  label: string;
  state: TestStepState;
  /** What the step found ("https://x.trycloudflare.com", "connection refused"), or null. */
  detail: string | null;
}

/** POST /api/connections/{id}/test-payment: a whole test run (200 also when a step failed). */
export interface TestRun {
  id: string;
  connection_id: string;
  provider: Provider;
  via: TestVia;
  ok: boolean;
  started_at: string;
  finished_at: string | null;
  /** The key of the step that failed, when one did. */
  failed_step: string | null;
  /** What went wrong in plain words; when it passed, what it proved (or null). */
  message: string | null;
  steps: TestStep[];
  /** When it passed: the delivery (`d_12`) and the test payment it made. */
  delivery_id: string | null;
  payment_id: number | null;
}

/** What "Check for missed payments" last found (times in Unix ms). */
export interface BackfillState {
  checked_at: number | null;
  recovered_last: number;
  recovered_total: number;
  error: string | null;
  attempted_at: number | null;
}

export interface RemoveResult {
  removed: boolean;
  webhook_deleted: boolean;
  warning?: string;
}

export type EventStatus = 'processed' | 'duplicate' | 'ignored' | 'failed' | 'rejected';
export const EVENT_STATUSES: EventStatus[] = ['processed', 'duplicate', 'ignored', 'failed', 'rejected'];

export interface EventSummary {
  id: string;
  provider: Provider;
  site_id?: string | null;
  connection_id: string | null;
  delivery_id: string | null;
  event_type: string | null;
  received_at: string;
  verdict: 'verified' | 'rejected';
  status: EventStatus;
  /** Why it failed or was rejected. */
  error: string | null;
  /** Why it was ignored or counted as a repeat (or what processing did). */
  note?: string | null;
  amount_minor: number | null;
  currency: string | null;
  payment_id: number | null;
  /** The delivery this one repeats (same delivery id); such a repeat is never processed. */
  duplicate_of?: string | null;
  /** Rejected attempts only: the status they were answered with and the reason's code. */
  http_status?: number | null;
  reason_code?: string | null;
  /** Forwarding to the founder's own handler (issue 13): null when it was never forwarded. */
  forward?: ForwardSummary | null;
}

export type ForwardState = 'delivered' | 'retrying' | 'failed' | 'pending';

/** Where a delivery's forwarding stands: the last answer and how many attempts so far. */
export interface ForwardSummary {
  state: ForwardState;
  status_code: number | null;
  attempts: number;
}

/** One send of a delivery to a forward target (POST /api/events/{id}/forward answers one). */
export interface ForwardAttempt {
  id: number;
  url: string;
  /** Its number among the automatic attempts, or among the manual ones ("Forward again"). */
  attempt: number;
  /** Sent by "Forward again", not by the automatic schedule. */
  manual: boolean;
  /** When it was sent (queued: when it was queued). */
  at: string;
  /** False while it is queued, not sent yet (the backend may list those too). */
  sent?: boolean;
  /** A queued automatic attempt: when it is due. */
  next_retry_at?: string | null;
  /** The target's HTTP status, or null when nothing answered (then `error` says why). */
  status_code: number | null;
  duration_ms: number | null;
  /** The start of the target's answer (at most 2 KiB). */
  response_body: string | null;
  response_truncated: boolean;
  /** A sentence when there was no HTTP answer ("connection refused", "no answer within 10 s"). */
  error: string | null;
  ok: boolean;
}

export interface EventDetail extends EventSummary {
  headers: [string, string][];
  body_text: string | null;
  body_base64: string;
  /** Size as received. */
  body_size: number;
  /** Only a prefix was kept (rejected attempts keep 64 KiB). */
  body_truncated?: boolean;
  payment: Payment | null;
  /** The connection's current webhook URL, for "Copy as curl". */
  webhook_url?: string | null;
  /** Forward attempts, newest first (issue 13; absent from older backends). */
  forwards?: ForwardAttempt[];
  /** As the list's `forward`. */
  forward_state?: ForwardSummary | null;
  /** When the next automatic attempt is due (while retrying), else null. */
  next_retry_at?: string | null;
}

export interface Refund {
  provider_refund_id: string;
  amount_minor: number;
  currency?: string;
  status: string;
  /** Whether it is deducted from the payment (succeeded / approved). */
  counts?: boolean;
  created_at: string;
}

/** How a payment reached Faurya: a provider webhook, POST /api/revenue, a backfill, a test payment. */
export type PaymentSource = 'webhook' | 'api' | 'backfill' | 'test';

/**
 * How the payment was tied to a visit: `verified` a valid signed attribution token; `ids` plain
 * visitor/session ids; `unverified` a token was given but not trusted (forged, altered, expired
 * or another site's) and the plain ids were used; `none` nothing to go on.
 */
export type AttributionStatus = 'verified' | 'ids' | 'unverified' | 'none';

export type AttributionModel = 'first_touch' | 'last_touch' | 'last_non_direct';

/** The visit a model credits a payment to (its entry fields). */
export interface Touch {
  session_id: string;
  channel: string;
  source: string | null;
  campaign: string | null;
  landing_page: string | null;
  referrer: string | null;
  started_at: string;
}

export interface Payment {
  id: number;
  /** Whop or Paddle; a payment from the revenue API names any provider (`api` when it names none). */
  provider: Provider | (string & {});
  site_id?: string | null;
  connection_id: string | null;
  provider_payment_id: string;
  amount_minor: number;
  currency: string;
  status: string;
  refunded_minor: number;
  net_minor: number;
  visitor_id: string | null;
  session_id: string | null;
  attribution_token: string | null;
  order_id: string | null;
  customer_email: string | null;
  attributed?: boolean;
  paid_at: string | null;
  created_at: string;
  delivery_id: string | null;
  refunds: Refund[];
  /** Attribution (issue 11); absent from older backends. */
  source?: PaymentSource;
  attribution_status?: AttributionStatus;
  /** Why, e.g. "the attribution token expired (31 days old; …)" or "visitor known, session unknown". */
  attribution_note?: string | null;
  models?: Record<AttributionModel, Touch | null>;
}

/** A page or goal of a session, as the journey lists them. */
export interface JourneyPage {
  name: string;
  path: string;
  at: string;
}

/** A visit in a payment's journey, with the models that credit it. */
export interface JourneySession extends SessionSummary {
  pages: JourneyPage[];
  touches: AttributionModel[];
}

/** GET /api/payments/{id}/journey: the visitor's sessions up to the payment, oldest first. */
export interface Journey {
  payment: Payment;
  visitor_id: string | null;
  sessions: JourneySession[];
}

/** GET /api/visitors/{visitor_id}?site= */
export interface VisitorProfile {
  visitor_id: string;
  site_id: string;
  first_seen: string | null;
  sessions: SessionSummary[];
  payments: Payment[];
}

export type AttributionBy = 'channel' | 'source' | 'campaign' | 'landing_page' | 'referrer';

export interface AttributionRow {
  /** The channel, source, campaign…; null when the visits had none (no campaign, no referrer). */
  key: string | null;
  visitors: number;
  payments: number;
  net_minor: number;
  currency: string;
  /** 0..1, null when visitors = 0. */
  conversion_rate: number | null;
  revenue_per_visitor_minor: number | null;
}

/** GET /api/attribution?site=&days=&currency=&model=&by= */
export interface AttributionReport {
  model: AttributionModel;
  by: AttributionBy;
  /** null when the range has no payment at all. */
  currency: string | null;
  /** Currencies with payments in the range, for a picker. */
  currencies: string[];
  days: number;
  since: string;
  /** Sorted by net revenue, largest first. */
  rows: AttributionRow[];
  totals: {
    visitors: number;
    payments: number;
    net_minor: number;
    conversion_rate: number | null;
    revenue_per_visitor_minor: number | null;
  };
  /** Payments without a session under the model. */
  unattributed: { payments: number; net_minor: number };
}

export interface ModelFigures {
  payments: number;
  net_minor: number;
}

export interface CompareRow {
  key: string | null;
  visitors: number;
  first_touch: ModelFigures;
  last_touch: ModelFigures;
  last_non_direct: ModelFigures;
}

/** GET /api/attribution/compare?site=&days=&currency=&by= */
export interface AttributionCompare {
  by: AttributionBy;
  currency: string | null;
  currencies: string[];
  days: number;
  since: string;
  rows: CompareRow[];
  /** Per model, the payments without a visit under it (when the backend sends them). */
  unattributed?: Partial<Record<AttributionModel, ModelFigures>>;
}

export interface CurrencyTotals {
  currency: string;
  payments: number;
  attributed: number;
  gross_minor: number;
  refunded_minor: number;
  net_minor: number;
}

/** GET /api/revenue/summary?days=N */
export interface RevenueSummary {
  days: number;
  /** Start of the window: UTC midnight, `days - 1` days before today. */
  since: string;
  all_time: CurrencyTotals[];
  window: CurrencyTotals[];
  /** Net revenue per UTC day and currency; days without payments are left out. */
  daily: { day: string; currency: string; net_minor: number }[];
}

// ---- tracking: sites, sessions, traffic -------------------------------------------------------

/** A tracked website. There is always at least one ("My site", created on first start). */
export interface Site {
  id: string;
  name: string;
  domains: string[];
  /** e.g. `fw_…a1b2`; the plain key only comes from create, reveal and rotate. */
  masked_write_key: string;
  created_at: string;
  first_event_at: string | null;
  last_event_at: string | null;
}

/** POST /api/sites answers the new site with its write key in plain, once. */
export interface CreatedSite extends Site {
  write_key: string;
}

export interface SiteInput {
  name?: string;
  domains?: string[];
}

/** GET /api/sites/{id}/install: what to paste, and whether it has been seen working. */
export interface InstallInfo {
  script_url: string | null;
  snippet: string | null;
  public_url: string | null;
  public_url_stable: boolean;
  /** Why the public URL is not stable (e.g. a Cloudflare quick tunnel). */
  public_url_note: string | null;
  event_url: string | null;
  first_event: { at: string; url: string; name: string } | null;
  last_event_at: string | null;
}

/** One visit: the entry fields are frozen at its first event. */
export interface SessionSummary {
  id: string;
  visitor_id: string;
  site_id: string;
  started_at: string;
  last_seen_at: string;
  landing_page: string | null;
  /** The full first URL, query included. */
  landing_url?: string | null;
  referrer: string | null;
  source: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  utm_content: string | null;
  /** Which ad click id the landing URL carried: its parameter name (gclid, fbclid, msclkid…). */
  click_id: string | null;
  channel: string;
  pageviews: number;
}

export interface SessionEvent {
  name: string;
  url: string;
  path: string;
  at: string;
  props: Record<string, unknown> | null;
}

export interface SessionDetail extends SessionSummary {
  events: SessionEvent[];
}

/** A top-10 row of the traffic report; `key` is the channel, source, page… */
export interface TrafficRow {
  key: string | null;
  visitors: number;
  sessions: number;
}

/** GET /api/traffic?site=&days= */
export interface Traffic {
  days: number;
  since: string;
  visitors: number;
  sessions: number;
  pageviews: number;
  /** 0..1, null without sessions. */
  bounce_rate: number | null;
  daily: { day: string; visitors: number; sessions: number; pageviews: number }[];
  channels: TrafficRow[];
  sources: TrafficRow[];
  campaigns: TrafficRow[];
  landing_pages: TrafficRow[];
  referrers: TrafficRow[];
}

/** GET /api/live?site=: visitors active in the last 5 minutes. */
export interface LiveVisitors {
  visitors: number;
  pages: { path: string; visitors: number }[];
}

/** DESIGN.md's channel names, exactly, in the order of the channel table. */
export const CHANNELS = [
  'Cross-network',
  'Paid Shopping',
  'Paid Search',
  'Paid Social',
  'Paid Video',
  'Display',
  'Paid Other',
  'Organic Shopping',
  'Organic Social',
  'Organic Video',
  'AI Assistants',
  'Organic Search',
  'Email',
  'Affiliates',
  'Audio',
  'SMS',
  'Mobile Push Notifications',
  'Referral',
  'Direct',
] as const;

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export const PROVIDER_NAMES: Record<Provider, string> = { whop: 'Whop', paddle: 'Paddle' };

/** Payments and calls of the revenue API without a named provider. */
const OTHER_NAMES: Record<string, string> = { api: 'Revenue API' };

/** "Whop", "Paddle"; a provider named only through the revenue API ("stripe") gets a capital. */
export function providerName(p: string): string {
  return (
    (PROVIDER_NAMES as Record<string, string>)[p] ?? OTHER_NAMES[p] ?? (p ? p.charAt(0).toUpperCase() + p.slice(1) : p)
  );
}
