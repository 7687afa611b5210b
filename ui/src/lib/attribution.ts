// Attribution for the Overview's "Where revenue comes from", Payments and the visitor page: model
// and grouping names, a payment's attribution mark, row labels and bars, the empty state's
// reason, and journeys as timelines. Money stays in integer minor units of one currency.

import { isAttributed } from './kpis';
import { barPercent } from './traffic';
import type {
  AttributionBy,
  AttributionCompare,
  AttributionModel,
  AttributionReport,
  AttributionRow,
  AttributionStatus,
  CompareRow,
  Journey,
  JourneyPage,
  Payment,
  PaymentSource,
  SessionSummary,
} from './types';

export interface ModelInfo {
  id: AttributionModel;
  label: string;
  /** One sentence on what the model credits. */
  explain: string;
}

export const MODELS: ModelInfo[] = [
  {
    id: 'first_touch',
    label: 'First touch',
    explain: 'Each payment is credited to the visit that first brought the visitor to the site.',
  },
  {
    id: 'last_touch',
    label: 'Last touch',
    explain: 'Each payment is credited to the visit that led to checkout.',
  },
  {
    id: 'last_non_direct',
    label: 'Last non-direct',
    explain:
      'Each payment is credited to the last visit before it that did not come direct, so a typed-in return visit does not hide the channel that brought the buyer.',
  },
];

export function modelLabel(m: AttributionModel): string {
  return MODELS.find((x) => x.id === m)?.label ?? m;
}

export interface ByInfo {
  id: AttributionBy;
  /** Tab and CSV wording, e.g. "Landing page". */
  label: string;
}

export const BY: ByInfo[] = [
  { id: 'channel', label: 'Channel' },
  { id: 'source', label: 'Source' },
  { id: 'campaign', label: 'Campaign' },
  { id: 'landing_page', label: 'Landing page' },
  { id: 'referrer', label: 'Referrer' },
];

/** Whether a row's key stands for "none" (the API says `(none)`: no campaign, no referrer…). */
export function isNoKey(key: string | null): boolean {
  return key === null || key.trim() === '' || key === '(none)';
}

/** A row's key as shown; a missing one says what it means for that grouping. */
export function keyLabel(by: AttributionBy, key: string | null): string {
  if (!isNoKey(key)) return key!;
  switch (by) {
    case 'source':
    case 'referrer':
      return 'Direct / none';
    case 'campaign':
      return 'No campaign';
    case 'landing_page':
      return '(unknown page)';
    default:
      return '(none)';
  }
}

// ---- a payment's mark ------------------------------------------------------------------------

/** The payment's attribution status; an older backend without it is read from its ids. */
export function attributionStatus(p: Payment): AttributionStatus {
  if (p.attribution_status) return p.attribution_status;
  return isAttributed(p) ? 'ids' : 'none';
}

export interface MarkInfo {
  label: string;
  tone: 'ok' | 'info' | 'warn';
  /** What the mark means, for its popover and the detail. */
  explain: string;
}

export const MARKS: Record<AttributionStatus, MarkInfo> = {
  verified: {
    label: 'Verified',
    tone: 'ok',
    explain: 'The checkout carried a valid signed attribution token, so the visit it names is certain.',
  },
  ids: {
    label: 'IDs',
    tone: 'info',
    explain:
      'The checkout carried plain visitor and session IDs without a signed token. Pass faAttributionToken too, so a buyer cannot change them.',
  },
  unverified: {
    label: 'Unverified',
    tone: 'warn',
    explain: 'An attribution token came with the checkout but was not trusted, so the plain IDs were used instead.',
  },
  none: {
    label: 'Unattributed',
    tone: 'warn',
    explain: 'No visitor or session came with this payment.',
  },
};

/** The reason shown with the mark: the server's note, else what the mark means. */
export function markReason(p: Payment): string {
  const note = p.attribution_note?.trim();
  if (note) return note.charAt(0).toUpperCase() + note.slice(1).replace(/\.?$/, '.');
  return MARKS[attributionStatus(p)].explain;
}

const SOURCES: Record<PaymentSource, { label: string; explain: string }> = {
  webhook: { label: 'Webhook', explain: "Recorded from the provider's verified webhook." },
  api: { label: 'API', explain: 'Sent by your server to the revenue API (POST /api/revenue).' },
  backfill: { label: 'Backfill', explain: 'Found at the provider by a backfill: its webhook never arrived.' },
  test: {
    label: 'Test',
    explain:
      'A test payment (Revenue → Send test payment). It never counts in revenue totals, the Overview or attribution.',
  },
};

export function sourceLabel(s: PaymentSource | undefined | null): string {
  return s ? (SOURCES[s]?.label ?? s) : '—';
}

export function sourceExplain(s: PaymentSource | undefined | null): string {
  return s ? (SOURCES[s]?.explain ?? '') : '';
}

// ---- the report --------------------------------------------------------------------------------

/** Rows with their bar width against the largest net revenue. */
export function withNetBars(rows: AttributionRow[]): (AttributionRow & { bar: number })[] {
  const max = rows.reduce((m, r) => Math.max(m, r.net_minor), 0);
  return rows.map((r) => ({ ...r, bar: barPercent(r.net_minor, max) }));
}

export type CompareBars = Record<AttributionModel, number>;

/** Compare rows with a bar per model, all against the largest net of any model, so they compare. */
export function withCompareBars(rows: CompareRow[]): (CompareRow & { bars: CompareBars })[] {
  const max = rows.reduce(
    (m, r) => Math.max(m, r.first_touch.net_minor, r.last_touch.net_minor, r.last_non_direct.net_minor),
    0,
  );
  return rows.map((r) => ({
    ...r,
    bars: {
      first_touch: barPercent(r.first_touch.net_minor, max),
      last_touch: barPercent(r.last_touch.net_minor, max),
      last_non_direct: barPercent(r.last_non_direct.net_minor, max),
    },
  }));
}

/** Per model: the sum of the compare rows (all in the report's one currency). */
export function compareTotals(
  c: AttributionCompare,
): Record<AttributionModel, { payments: number; net_minor: number }> {
  const out = {
    first_touch: { payments: 0, net_minor: 0 },
    last_touch: { payments: 0, net_minor: 0 },
    last_non_direct: { payments: 0, net_minor: 0 },
  };
  for (const r of c.rows)
    for (const m of ['first_touch', 'last_touch', 'last_non_direct'] as const) {
      out[m].payments += r[m].payments;
      out[m].net_minor += r[m].net_minor;
    }
  return out;
}

/** Whether `totals` counts the unattributed payments too (then the footer reads rows + unattributed = total). */
export function totalsIncludeUnattributed(r: AttributionReport): boolean {
  const rows = r.rows.reduce((n, x) => n + x.payments, 0);
  return r.unattributed.payments > 0 && r.totals.payments === rows + r.unattributed.payments;
}

/**
 * Why the report has no rows, so the empty state can say what to do:
 * - `no-payments`: no payment was ever recorded (connect a provider);
 * - `none-in-range`: payments exist, none in this period;
 * - `other-currency`: payments in the period, none in the currency asked for;
 * - `none-attributed`: payments in the period, none tied to a visit (set up the checkout).
 */
export type EmptyReason = 'no-payments' | 'none-in-range' | 'other-currency' | 'none-attributed';

export function emptyReason(
  r: { rows: (AttributionRow | CompareRow)[]; currencies: string[]; currency: string | null },
  anyPaymentEver: boolean,
): EmptyReason | null {
  const paid = (x: AttributionRow | CompareRow) =>
    'payments' in x ? x.payments : x.first_touch.payments + x.last_touch.payments + x.last_non_direct.payments;
  if (r.rows.some((x) => paid(x) > 0)) return null;
  if (r.currencies.length === 0) return anyPaymentEver ? 'none-in-range' : 'no-payments';
  if (!r.currency || !r.currencies.includes(r.currency)) return 'other-currency';
  return 'none-attributed';
}

// ---- journeys ------------------------------------------------------------------------------------

/** A visit as the timeline shows it; `pages` only when the API listed them. */
export interface TimelineVisit {
  kind: 'visit';
  key: string;
  at: string;
  session: SessionSummary;
  pages: JourneyPage[] | null;
  /** The models crediting it; `payment` names which payment when a visitor has several. */
  touches: { model: AttributionModel; payment?: Payment }[];
}

export interface TimelinePayment {
  kind: 'payment';
  key: string;
  at: string;
  payment: Payment;
  /** The payment the journey leads to (as opposed to another payment of the visitor). */
  current: boolean;
}

export type TimelineItem = TimelineVisit | TimelinePayment;

const MODEL_ORDER: AttributionModel[] = ['first_touch', 'last_touch', 'last_non_direct'];

export function paidAt(p: Payment): string {
  return p.paid_at ?? p.created_at;
}

/** A payment's journey: its sessions oldest first, then the payment itself. */
export function journeyTimeline(j: Journey): TimelineItem[] {
  const sessions = [...j.sessions].sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
  const items: TimelineItem[] = sessions.map((s) => ({
    kind: 'visit',
    key: 's:' + s.id,
    at: s.started_at,
    session: s,
    pages: s.pages ?? null,
    touches: MODEL_ORDER.filter((m) => s.touches?.includes(m)).map((model) => ({ model })),
  }));
  items.push({ kind: 'payment', key: 'p:' + j.payment.id, at: paidAt(j.payment), payment: j.payment, current: true });
  return items;
}

/**
 * Everything a visitor did, oldest first: sessions and payments interleaved. A session is tagged
 * with the models that credit a payment to it (from each payment's `models`).
 */
export function visitorTimeline(sessions: SessionSummary[], payments: Payment[]): TimelineItem[] {
  const items: TimelineItem[] = sessions.map((s) => ({
    kind: 'visit',
    key: 's:' + s.id,
    at: s.started_at,
    session: s,
    pages: null,
    touches: [],
  }));
  const byId = new Map(items.map((x) => [(x as TimelineVisit).session.id, x as TimelineVisit]));
  const sorted = [...payments].sort((a, b) => Date.parse(paidAt(a)) - Date.parse(paidAt(b)));
  for (const p of sorted) {
    for (const m of MODEL_ORDER) {
      const sid = p.models?.[m]?.session_id;
      const visit = sid ? byId.get(sid) : undefined;
      if (visit) visit.touches.push({ model: m, payment: payments.length > 1 ? p : undefined });
    }
    items.push({ kind: 'payment', key: 'p:' + p.id, at: paidAt(p), payment: p, current: false });
  }
  // Stable: a payment made during a visit comes after the visit's start.
  return items
    .map((x, i) => [x, i] as const)
    .sort(
      ([a, i], [b, j]) =>
        Date.parse(a.at) - Date.parse(b.at) || (a.kind === b.kind ? i - j : a.kind === 'visit' ? -1 : 1),
    )
    .map(([x]) => x);
}

export type FoldedEntry =
  | { kind: 'item'; item: TimelineItem }
  /** `first` is the key of the first folded item (focus goes there when it unfolds). */
  | { kind: 'fold'; key: string; hidden: number; first: string };

/**
 * A long journey keeps its ends, every payment and every credited visit; the plain visits in
 * between fold into a "N more visits" row. Short journeys (up to `max` items) stay whole.
 */
export function foldTimeline(items: TimelineItem[], max = 8): FoldedEntry[] {
  const whole = items.map((item): FoldedEntry => ({ kind: 'item', item }));
  if (items.length <= max) return whole;
  const keep = (x: TimelineItem, i: number) =>
    i < 2 || i >= items.length - 3 || x.kind === 'payment' || x.touches.length > 0;
  const out: FoldedEntry[] = [];
  let run: TimelineItem[] = [];
  const flush = () => {
    if (run.length) out.push({ kind: 'fold', key: 'fold:' + run[0].key, hidden: run.length, first: run[0].key });
    run = [];
  };
  items.forEach((x, i) => {
    if (keep(x, i)) {
      flush();
      out.push({ kind: 'item', item: x });
    } else run.push(x);
  });
  flush();
  // Folding a single visit saves nothing: show it instead.
  return out.flatMap((e) =>
    e.kind === 'fold' && e.hidden === 1
      ? [{ kind: 'item' as const, item: items.find((x) => x.key === e.first)! }]
      : [e],
  );
}

/** "3 days later", "40 min later", "moments later": the gap between two timeline items. */
export function formatGap(fromIso: string, toIso: string): string {
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  if (!Number.isFinite(ms) || ms < 60_000) return 'moments later';
  const min = Math.round(ms / 60_000);
  if (min < 60) return `${min} min later`;
  const h = Math.round(ms / 3_600_000);
  if (h < 24) return h === 1 ? '1 hour later' : `${h} hours later`;
  const d = Math.round(ms / 86_400_000);
  if (d < 60) return d === 1 ? '1 day later' : `${d} days later`;
  const mo = Math.round(d / 30.44);
  return mo < 12 ? `${mo} months later` : `over a year later`;
}

/** "/ → /pricing → /signup": the first pages of a visit; the rest are counted. */
export function pagesPreview(pages: JourneyPage[], max = 5): { shown: JourneyPage[]; more: number } {
  return { shown: pages.slice(0, max), more: Math.max(0, pages.length - max) };
}
