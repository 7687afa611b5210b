// Shapes of the admin API (docs/API.md). Keep in step with that document.

export type Provider = 'whop' | 'paddle';
export type Environment = 'production' | 'sandbox';

export interface Health {
  ok: boolean;
  version: string;
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
}

export interface SettingsUpdate {
  public_url?: string | null;
  signature_tolerance_secs?: number;
  tunnel?: TunnelUpdate;
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
  environment: Environment;
  account_id: string | null;
  masked_key: string;
  webhook_id: string | null;
  webhook_url: string | null;
  created_at: string;
  last_delivery_at: string | null;
  deliveries: number;
  sync: { state: SyncState; error: string | null; updated_at: string | null } | null;
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

export interface Payment {
  id: number;
  provider: Provider;
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

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export const PROVIDER_NAMES: Record<Provider, string> = { whop: 'Whop', paddle: 'Paddle' };

export function providerName(p: string): string {
  return (PROVIDER_NAMES as Record<string, string>)[p] ?? p;
}
