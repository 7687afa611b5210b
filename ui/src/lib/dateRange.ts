// The date filter of Webhooks and Payments: Today, 7 days, 30 days, All, or custom dates. Days
// are the user's local days; the API gets `from` (inclusive) and `to` (exclusive) as RFC 3339
// timestamps in UTC at those local midnights. In the URL the range is `range=today|7d|30d`, or
// `from=YYYY-MM-DD&to=YYYY-MM-DD` (local dates, both included); nothing for All.

export type RangePreset = 'today' | '7d' | '30d' | 'all';

export interface DateRange {
  preset: RangePreset | 'custom';
  /** Custom: the first day, YYYY-MM-DD (local). */
  from?: string;
  /** Custom: the last day, included, YYYY-MM-DD (local). */
  to?: string;
}

export const PRESETS: { id: RangePreset; label: string; days: number | null }[] = [
  { id: 'today', label: 'Today', days: 1 },
  { id: '7d', label: '7 days', days: 7 },
  { id: '30d', label: '30 days', days: 30 },
  { id: 'all', label: 'All', days: null },
];

export const ALL: DateRange = { preset: 'all' };

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Local midnight of YYYY-MM-DD, or null when it is not a real date. */
function localMidnight(day: string, plusDays = 0): Date | null {
  const m = DAY_RE.exec(day);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(y, mo - 1, d);
  if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d) return null;
  date.setDate(date.getDate() + plusDays);
  return date;
}

/** YYYY-MM-DD of a local date. */
export function dayOf(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** RFC 3339 in UTC without milliseconds (2026-03-01T23:00:00Z). */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** What the custom dates say is wrong, or null. */
export function rangeProblem(r: DateRange): string | null {
  if (r.preset !== 'custom') return null;
  if (!r.from && !r.to) return 'Pick a first day, a last day, or both.';
  if (r.from && !localMidnight(r.from)) return 'The first day is not a date.';
  if (r.to && !localMidnight(r.to)) return 'The last day is not a date.';
  if (r.from && r.to && r.from > r.to) return 'The first day comes after the last day.';
  return null;
}

/** The API's `from` and `to` for a range (empty for All or custom dates that do not make sense). */
export function rangeBounds(r: DateRange, now: Date = new Date()): { from?: string; to?: string } {
  if (r.preset === 'all') return {};
  if (r.preset === 'custom') {
    if (rangeProblem(r)) return {};
    const from = r.from ? localMidnight(r.from) : null;
    const to = r.to ? localMidnight(r.to, 1) : null;
    return { ...(from ? { from: rfc3339(from) } : {}), ...(to ? { to: rfc3339(to) } : {}) };
  }
  const days = PRESETS.find((p) => p.id === r.preset)?.days ?? 1;
  const today = dayOf(now);
  return { from: rfc3339(localMidnight(today, 1 - days)!), to: rfc3339(localMidnight(today, 1)!) };
}

/** The range the URL's query names (All when it names none, or nothing valid). */
export function rangeFromQuery(q: Record<string, string>): DateRange {
  const preset = q.range;
  if (preset === 'today' || preset === '7d' || preset === '30d') return { preset };
  const from = q.from && localMidnight(q.from) ? q.from : undefined;
  const to = q.to && localMidnight(q.to) ? q.to : undefined;
  if (from || to) return { preset: 'custom', ...(from ? { from } : {}), ...(to ? { to } : {}) };
  return ALL;
}

/** The URL query for a range (the keys `range`, `from`, `to`; absent ones are removed). */
export function rangeToQuery(r: DateRange): Record<string, string | null> {
  if (r.preset === 'all') return { range: null, from: null, to: null };
  if (r.preset === 'custom') return { range: null, from: r.from ?? null, to: r.to ?? null };
  return { range: r.preset, from: null, to: null };
}

/** "Today", "Last 7 days", "Mar 1 – Mar 31, 2026", "Since Mar 1, 2026". */
export function rangeLabel(r: DateRange, locale?: string): string {
  if (r.preset === 'all') return 'All time';
  if (r.preset === 'today') return 'Today';
  if (r.preset === '7d') return 'Last 7 days';
  if (r.preset === '30d') return 'Last 30 days';
  const fmt = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
  const from = r.from ? localMidnight(r.from) : null;
  const to = r.to ? localMidnight(r.to) : null;
  if (from && to) return r.from === r.to ? fmt.format(from) : `${fmt.format(from)} – ${fmt.format(to)}`;
  if (from) return `Since ${fmt.format(from)}`;
  if (to) return `Until ${fmt.format(to)}`;
  return 'All time';
}
