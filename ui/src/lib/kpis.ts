// Revenue figures for the Overview, computed from the payments the API lists.
// Everything stays in integer minor units per currency; nothing is converted between currencies.

import { localDayKey } from './time';
import type { Payment } from './types';

/** Statuses that are not money received (kept out of the totals). */
const NOT_REVENUE = new Set(['failed', 'pending', 'canceled', 'cancelled', 'expired', 'requires_action']);

export function countsAsRevenue(p: Payment): boolean {
  return !NOT_REVENUE.has(p.status);
}

export function paymentNet(p: Payment): number {
  return typeof p.net_minor === 'number' ? p.net_minor : p.amount_minor - (p.refunded_minor ?? 0);
}

export function paymentTime(p: Payment): Date {
  return new Date(p.paid_at ?? p.created_at);
}

export interface CurrencyTotals {
  currency: string;
  gross: number;
  refunds: number;
  net: number;
  count: number;
}

/** Gross, refunds and net per currency, largest net first. */
export function totalsByCurrency(payments: Payment[]): CurrencyTotals[] {
  const map = new Map<string, CurrencyTotals>();
  for (const p of payments) {
    if (!countsAsRevenue(p)) continue;
    const currency = p.currency.toUpperCase();
    const t = map.get(currency) ?? { currency, gross: 0, refunds: 0, net: 0, count: 0 };
    t.gross += p.amount_minor;
    t.refunds += p.refunded_minor ?? 0;
    t.net += paymentNet(p);
    t.count += 1;
    map.set(currency, t);
  }
  return [...map.values()].sort((a, b) => b.net - a.net || b.count - a.count);
}

export function isAttributed(p: Payment): boolean {
  return !!(p.visitor_id || p.session_id || p.attribution_token);
}

/** Share of revenue payments that carry attribution, 0..1, or null when there are none. */
export function attributedShare(payments: Payment[]): number | null {
  const revenue = payments.filter(countsAsRevenue);
  if (revenue.length === 0) return null;
  return revenue.filter(isAttributed).length / revenue.length;
}

export interface DailySeries {
  /** Local midnight of each day, in unix seconds (uPlot's x values). */
  days: number[];
  /** Net revenue of that day in minor units. */
  values: number[];
}

/** Net revenue per local calendar day in one currency, every day from `from` to `to` included. */
export function dailyNet(payments: Payment[], currency: string, from: Date, to: Date): DailySeries {
  const sums = new Map<string, number>();
  for (const p of payments) {
    if (!countsAsRevenue(p) || p.currency.toUpperCase() !== currency) continue;
    const key = localDayKey(paymentTime(p));
    sums.set(key, (sums.get(key) ?? 0) + paymentNet(p));
  }
  const days: number[] = [];
  const values: number[] = [];
  const d = new Date(from.getFullYear(), from.getMonth(), from.getDate());
  const end = new Date(to.getFullYear(), to.getMonth(), to.getDate());
  while (d <= end) {
    days.push(Math.floor(d.getTime() / 1000));
    values.push(sums.get(localDayKey(d)) ?? 0);
    d.setDate(d.getDate() + 1);
  }
  return { days, values };
}

export type Range = '7d' | '30d' | '90d' | 'all';

/** First day of a range ending today; for 'all' the day of the oldest payment (at most a year back). */
export function rangeStart(range: Range, payments: Payment[], now = new Date()): Date {
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const back = (n: number) => new Date(today.getFullYear(), today.getMonth(), today.getDate() - n);
  if (range === '7d') return back(6);
  if (range === '30d') return back(29);
  if (range === '90d') return back(89);
  let oldest = today;
  for (const p of payments) {
    const t = paymentTime(p);
    if (t < oldest) oldest = t;
  }
  const yearAgo = back(364);
  const start = oldest < yearAgo ? yearAgo : oldest;
  const day = new Date(start.getFullYear(), start.getMonth(), start.getDate());
  return day > back(6) ? back(6) : day;
}

export function inRange(payments: Payment[], from: Date): Payment[] {
  return payments.filter((p) => paymentTime(p) >= from);
}
