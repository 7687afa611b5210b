// Fetch wrapper for the admin API (docs/API.md) with typed errors.
// The session cookie set by /login is HttpOnly, so every call simply goes same-origin.

import type {
  AttributionBy,
  AttributionCompare,
  AttributionModel,
  AttributionReport,
  BackfillState,
  Connection,
  CreatedSite,
  Environment,
  EventDetail,
  EventStatus,
  EventSummary,
  ForwardAttempt,
  Health,
  InstallInfo,
  Journey,
  LiveVisitors,
  Page,
  Payment,
  PaymentSource,
  RemoveResult,
  RevenueSummary,
  SessionDetail,
  SessionSummary,
  Settings,
  SettingsUpdate,
  Site,
  SiteInput,
  TestRun,
  TestVia,
  Traffic,
  TunnelTestResult,
  VisitorProfile,
} from './types';

/** An error answered by the API, or a failure to reach it (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, string>;

  constructor(status: number, code: string, message: string, fields: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
  }

  /** The endpoint does not exist in the running backend (it lands issue by issue). */
  get unavailable(): boolean {
    return this.status === 404 || this.status === 405 || this.status === 501 || this.code === 'not_json';
  }

  get offline(): boolean {
    return this.status === 0;
  }

  /** The message of a field error, if the API tied one to this request field. */
  field(name: string): string | undefined {
    return this.fields[name];
  }
}

export function asApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new ApiError(0, 'client', message);
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called whenever the API answers 401: the session cookie is missing or stale. */
export function onUnauthorized(fn: Listener): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Query;
  signal?: AbortSignal;
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const init: RequestInit = {
    method: opts.method ?? 'GET',
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
    signal: opts.signal,
  };
  if (opts.body !== undefined) {
    init.headers = { ...init.headers, 'Content-Type': 'application/json' };
    init.body = JSON.stringify(opts.body);
  }

  let res: Response;
  try {
    res = await fetch(withQuery(path, opts.query), init);
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(
      0,
      'network',
      'Cannot reach the Faurya server. Check that `faurya serve` (or the desktop app) is still running.',
    );
  }

  const text = await res.text();
  let json: unknown = undefined;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }

  if (res.status === 401) {
    unauthorizedListeners.forEach((fn) => fn());
  }

  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string; fields?: Record<string, string> } })?.error;
    const message = err?.message ?? fallbackMessage(res.status);
    // `fields` (422) names the request fields or query parameters (`from`, `to`) at fault.
    const fields = err?.fields ?? {};
    throw new ApiError(res.status, err?.code ?? statusCode(res.status), message, fields);
  }
  // A removal answers 204 with no body.
  if (res.status === 204) return undefined as T;
  if (json === undefined) {
    // An HTML page (e.g. a UI fallback route) where JSON was expected: no such endpoint here.
    throw new ApiError(res.status, 'not_json', 'The server answered something other than JSON.');
  }
  return json as T;
}

function statusCode(status: number): string {
  if (status === 404) return 'not_found';
  if (status === 401) return 'unauthorized';
  if (status >= 500) return 'internal';
  return 'http_' + status;
}

function fallbackMessage(status: number): string {
  if (status === 401) return 'You are signed out. Open the admin login URL again.';
  if (status === 404) return 'Not available in this build.';
  if (status === 413) return 'The request was too large.';
  if (status >= 500) return `The server failed (HTTP ${status}). The details are in its log.`;
  return `The request failed (HTTP ${status}).`;
}

// ---- endpoints -------------------------------------------------------------------------------

export const api = {
  health: (signal?: AbortSignal) => request<Health>('/api/health', { signal }),

  settings: () => request<Settings>('/api/settings'),
  updateSettings: (patch: SettingsUpdate) => request<Settings>('/api/settings', { method: 'PUT', body: patch }),
  testTunnel: () => request<TunnelTestResult>('/api/tunnel/test', { method: 'POST', body: {} }),

  // `site` scopes a call to one tracked site; null or undefined asks for everything (a backend
  // without sites ignores it).
  connections: async (site?: string | null) =>
    (await request<{ connections: Connection[] }>('/api/connections', { query: { site } })).connections,
  connectWhop: (body: { api_key: string; company_id: string; environment: Environment; site_id?: string }) =>
    request<Connection>('/api/connections/whop', { method: 'POST', body }),
  connectPaddle: (body: { api_key: string; environment: Environment; site_id?: string }) =>
    request<Connection>('/api/connections/paddle', { method: 'POST', body }),
  checkMissedPayments: (id: string) =>
    request<BackfillState>(`/api/connections/${encodeURIComponent(id)}/backfill`, { method: 'POST', body: {} }),
  /** A test payment through the whole path; answers the run, also when a step failed (`ok: false`). */
  sendTestPayment: (id: string, via: TestVia) =>
    request<TestRun>(`/api/connections/${encodeURIComponent(id)}/test-payment`, { method: 'POST', body: { via } }),
  /** Where verified deliveries are forwarded; null stops forwarding. Answers the connection. */
  setForwardUrl: (id: string, forward_url: string | null) =>
    request<Connection>(`/api/connections/${encodeURIComponent(id)}`, { method: 'PATCH', body: { forward_url } }),
  removeConnection: (id: string, force = false) =>
    request<RemoveResult>(`/api/connections/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      query: force ? { force: 'true' } : undefined,
    }),

  events: async (q: EventQuery, signal?: AbortSignal): Promise<Page<EventSummary>> => {
    const r = await request<{ events: EventSummary[]; next_cursor: string | null }>('/api/events', {
      query: { ...q },
      signal,
    });
    return { items: r.events, next_cursor: r.next_cursor };
  },
  event: (id: string, signal?: AbortSignal) =>
    request<EventDetail>(`/api/events/${encodeURIComponent(id)}`, { signal }),
  eventTypes: async (signal?: AbortSignal) =>
    (await request<{ types: string[] }>('/api/events/types', { signal })).types,
  rawEventUrl: (id: string) => `/api/events/${encodeURIComponent(id)}/raw`,
  reprocess: (id: string) =>
    request<EventDetail>(`/api/events/${encodeURIComponent(id)}/reprocess`, { method: 'POST', body: {} }),
  /** Send a stored delivery again: to the connection's forward URL, or to `url`. Answers the attempt. */
  forwardEvent: (id: string, url?: string) =>
    request<ForwardAttempt>(`/api/events/${encodeURIComponent(id)}/forward`, {
      method: 'POST',
      body: url ? { url } : {},
    }),

  payments: async (q: PaymentQuery, signal?: AbortSignal): Promise<Page<Payment>> => {
    const r = await request<{ payments: Payment[]; next_cursor: string | null }>('/api/payments', {
      query: { ...q },
      signal,
    });
    return { items: r.payments, next_cursor: r.next_cursor };
  },
  payment: (id: number, signal?: AbortSignal) => request<Payment>(`/api/payments/${id}`, { signal }),
  /** Only test payments can be removed (409 `not_a_test` for the others); their deliveries go too. */
  removeTestPayment: (id: number) => request<void>(`/api/payments/${id}`, { method: 'DELETE' }),
  removeAllTestPayments: async () =>
    (await request<{ removed: number }>('/api/payments', { method: 'DELETE', query: { source: 'test' } })).removed,
  /** The visitor's sessions up to the payment, oldest first, each with the models crediting it. */
  journey: (id: number, signal?: AbortSignal) => request<Journey>(`/api/payments/${id}/journey`, { signal }),
  /** Every payment of the site as CSV (the session cookie authenticates a plain link). */
  paymentsCsvUrl: (site?: string | null) => withQuery('/api/payments.csv', { site }),
  visitor: (id: string, site?: string | null, signal?: AbortSignal) =>
    request<VisitorProfile>(`/api/visitors/${encodeURIComponent(id)}`, { query: { site }, signal }),
  attribution: (q: AttributionQuery, signal?: AbortSignal) =>
    request<AttributionReport>('/api/attribution', { query: { ...q }, signal }),
  attributionCompare: (q: Omit<AttributionQuery, 'model'>, signal?: AbortSignal) =>
    request<AttributionCompare>('/api/attribution/compare', { query: { ...q }, signal }),
  /** The table as shown, as CSV: one model, or the three side by side with `compare`. */
  attributionCsvUrl: (q: AttributionQuery, compare = false) =>
    compare
      ? withQuery('/api/attribution/compare.csv', { ...q, model: undefined })
      : withQuery('/api/attribution.csv', { ...q }),
  revenueSummary: (days: number, site?: string | null, signal?: AbortSignal) =>
    request<RevenueSummary>('/api/revenue/summary', { query: { days, site }, signal }),

  sites: async () => (await request<{ sites: Site[] }>('/api/sites')).sites,
  site: (id: string) => request<Site>(`/api/sites/${encodeURIComponent(id)}`),
  createSite: (body: { name: string; domains: string[] }) =>
    request<CreatedSite>('/api/sites', { method: 'POST', body }),
  updateSite: (id: string, body: SiteInput) =>
    request<Site>(`/api/sites/${encodeURIComponent(id)}`, { method: 'PATCH', body }),
  /** The write key in plain (reveal). */
  writeKey: async (id: string) =>
    (await request<{ write_key: string }>(`/api/sites/${encodeURIComponent(id)}/write-key`)).write_key,
  /** A new write key; the old one stops working at once. */
  rotateWriteKey: async (id: string) =>
    (
      await request<{ write_key: string }>(`/api/sites/${encodeURIComponent(id)}/write-key`, {
        method: 'POST',
        body: {},
      })
    ).write_key,
  install: (id: string, signal?: AbortSignal) =>
    request<InstallInfo>(`/api/sites/${encodeURIComponent(id)}/install`, { signal }),

  sessions: async (q: SessionQuery, signal?: AbortSignal): Promise<Page<SessionSummary>> => {
    const { cursor, ...rest } = q;
    const r = await request<{ sessions: SessionSummary[]; next: string | null }>('/api/sessions', {
      query: { ...rest, before: cursor },
      signal,
    });
    return { items: r.sessions, next_cursor: r.next };
  },
  session: (id: string, site?: string | null, signal?: AbortSignal) =>
    request<SessionDetail>(`/api/sessions/${encodeURIComponent(id)}`, { query: { site }, signal }),
  traffic: (site: string | null | undefined, days: number, signal?: AbortSignal) =>
    request<Traffic>('/api/traffic', { query: { site, days }, signal }),
  live: (site: string | null | undefined, signal?: AbortSignal) =>
    request<LiveVisitors>('/api/live', { query: { site }, signal }),

  /** Clears the session cookie. Not under /api; answers 204 without a body. */
  logout: async () => {
    let res: Response;
    try {
      res = await fetch('/logout', { method: 'POST', credentials: 'same-origin' });
    } catch {
      throw new ApiError(0, 'network', 'Cannot reach the Faurya server to sign out.');
    }
    if (!res.ok && res.status !== 401)
      throw new ApiError(res.status, statusCode(res.status), fallbackMessage(res.status));
  },
};

/** `from` (inclusive) and `to` (exclusive): RFC 3339 times in UTC (lib/dateRange). */
export interface TimeRange {
  from?: string;
  to?: string;
}

export interface EventQuery extends TimeRange {
  site?: string | null;
  provider?: string;
  status?: EventStatus | '';
  type?: string;
  q?: string;
  limit?: number;
  cursor?: string | null;
}

export interface PaymentQuery extends TimeRange {
  site?: string | null;
  provider?: string;
  /** One source only (`test`, `webhook`, `api`, `backfill`); absent: every source. */
  source?: PaymentSource;
  limit?: number;
  cursor?: string | null;
}

export interface AttributionQuery {
  site?: string | null;
  days: number;
  /** Absent: the server picks the currency with the most revenue in the range. */
  currency?: string | null;
  model: AttributionModel;
  by: AttributionBy;
}

export interface SessionQuery {
  site?: string | null;
  days?: number;
  channel?: string;
  limit?: number;
  cursor?: string | null;
}
