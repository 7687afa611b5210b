// Revenue figures for the Overview, from GET /api/revenue/summary (the server sums in SQL).
// Everything stays in integer minor units per currency; nothing is converted between currencies.

import type { CurrencyTotals, Payment, RevenueSummary } from './types';

export function isAttributed(p: Payment): boolean {
  if (typeof p.attributed === 'boolean') return p.attributed;
  return !!(p.visitor_id || p.session_id || p.attribution_token);
}

/** Periods offered on the Overview, in days (the summary's `days`, 1..=366). */
export const RANGES = [
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
  { days: 365, label: '12 months' },
] as const;

/**
 * Currencies with payments, the one with the most payments first (all time, so the choice is
 * stable; amounts in different currencies are never compared), then alphabetically.
 */
export function currencies(s: RevenueSummary): string[] {
  return [...s.all_time]
    .sort((a, b) => b.payments - a.payments || a.currency.localeCompare(b.currency, 'en'))
    .map((t) => t.currency);
}

export function totalsFor(list: CurrencyTotals[], currency: string | null): CurrencyTotals | null {
  return list.find((t) => t.currency === currency) ?? null;
}

/** Payments with a visitor, session or token, as a share 0..1 of all payments (any currency). */
export function attributedShare(list: CurrencyTotals[]): number | null {
  const payments = list.reduce((n, t) => n + t.payments, 0);
  if (payments === 0) return null;
  return list.reduce((n, t) => n + t.attributed, 0) / payments;
}

export interface DailySeries {
  /** UTC midnight of each day, in unix seconds (uPlot's x values). */
  days: number[];
  /** Net revenue of that day in minor units. */
  values: number[];
}

const DAY_MS = 86_400_000;

/** Net revenue per UTC day in one currency, every day from `since` to today included. */
export function dailySeries(s: RevenueSummary, currency: string, now = new Date()): DailySeries {
  const sums = new Map<string, number>();
  for (const d of s.daily) {
    if (d.currency !== currency) continue;
    sums.set(d.day, (sums.get(d.day) ?? 0) + d.net_minor);
  }
  const start = Date.parse(s.since);
  const first = Number.isNaN(start) ? Math.floor(now.getTime() / DAY_MS) * DAY_MS - (s.days - 1) * DAY_MS : start;
  const last = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const days: number[] = [];
  const values: number[] = [];
  for (let t = first; t <= last; t += DAY_MS) {
    days.push(t / 1000);
    values.push(sums.get(new Date(t).toISOString().slice(0, 10)) ?? 0);
  }
  return { days, values };
}

/** All-time payments tied to a visit ("N of M payments attributed"), every currency together. */
export function attributionProgress(s: Pick<RevenueSummary, 'all_time'> | null | undefined): {
  attributed: number;
  payments: number;
} | null {
  if (!s) return null;
  return {
    attributed: s.all_time.reduce((n, t) => n + t.attributed, 0),
    payments: s.all_time.reduce((n, t) => n + t.payments, 0),
  };
}
