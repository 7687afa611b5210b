// Traffic figures for the Overview and Sessions: counts, shares, bars and the daily series.

import { LOCALE } from './locale';
import type { SessionSummary, Traffic, TrafficRow } from './types';

const count = new Intl.NumberFormat(LOCALE);
const compact = new Intl.NumberFormat(LOCALE, { notation: 'compact', maximumFractionDigits: 1 });
const percent0 = new Intl.NumberFormat(LOCALE, { style: 'percent', maximumFractionDigits: 0 });
const percent1 = new Intl.NumberFormat(LOCALE, { style: 'percent', maximumFractionDigits: 1 });

/** 1234 → "1,234"; from 100,000 on, compact ("123K") so a KPI card never overflows. */
export function formatCount(n: number): string {
  return Math.abs(n) >= 100_000 ? compact.format(n) : count.format(n);
}

/**
 * A share 0..1 as a percentage: whole percents, one decimal under 10 % (so 4.5 % does not read
 * as 5 %), "<0.1%" for a sliver, "—" when there is nothing to divide.
 */
export function formatShare(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return '—';
  if (share > 0 && share < 0.001) return '<' + percent1.format(0.001);
  return share < 0.1 ? percent1.format(share) : percent0.format(share);
}

/** The bounce rate (sessions with a single pageview), "—" without sessions. */
export function formatBounce(rate: number | null | undefined): string {
  return formatShare(rate);
}

/** Width of a top-list bar in percent of the largest row; a non-zero row stays visible. */
export function barPercent(value: number, max: number): number {
  if (!(max > 0) || !(value > 0)) return 0;
  return Math.max(1.5, Math.min(100, (value / max) * 100));
}

export type TopListKind = 'channels' | 'sources' | 'campaigns' | 'landing_pages' | 'referrers';

/** A row's label; a missing key says what it means for that list. */
export function rowLabel(kind: TopListKind, key: string | null): string {
  if (key !== null && key.trim() !== '') return key;
  switch (kind) {
    case 'sources':
    case 'referrers':
      return 'Direct / none';
    case 'campaigns':
      return 'No campaign';
    case 'landing_pages':
      return '(unknown page)';
    default:
      return '(none)';
  }
}

export interface TrafficSeries {
  /** UTC midnight of each day, in unix seconds. */
  days: number[];
  visitors: number[];
  pageviews: number[];
}

const DAY_MS = 86_400_000;

/** Visitors and pageviews per UTC day, every day from `since` to today, zero where absent. */
export function trafficSeries(t: Traffic, now = new Date()): TrafficSeries {
  const byDay = new Map(t.daily.map((d) => [d.day, d]));
  const start = Date.parse(t.since);
  const last = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const first = Number.isNaN(start) ? last - (t.days - 1) * DAY_MS : Math.floor(start / DAY_MS) * DAY_MS;
  const out: TrafficSeries = { days: [], visitors: [], pageviews: [] };
  for (let d = first; d <= last; d += DAY_MS) {
    const row = byDay.get(new Date(d).toISOString().slice(0, 10));
    out.days.push(d / 1000);
    out.visitors.push(row?.visitors ?? 0);
    out.pageviews.push(row?.pageviews ?? 0);
  }
  return out;
}

/** "45 s", "3 min 20 s", "1 h 5 min": how long a visit lasted. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/** The "+1 min 20 s" of an event after the session started. */
export function formatOffset(startIso: string, atIso: string): string {
  const ms = Date.parse(atIso) - Date.parse(startIso);
  if (!Number.isFinite(ms)) return '';
  return ms < 1000 ? 'start' : '+' + formatDuration(ms);
}

/** Where a session came from, for a table cell: the resolved source, else utm_source. */
export function sessionSource(s: SessionSummary): string | null {
  return s.source || s.utm_source || null;
}

/** Coarse group of a channel, for its colour. */
export type ChannelGroup = 'search' | 'social' | 'paid' | 'referral' | 'direct' | 'email' | 'ai' | 'other';

export function channelGroup(channel: string): ChannelGroup {
  if (channel === 'Direct') return 'direct';
  if (channel === 'Referral' || channel === 'Affiliates') return 'referral';
  if (channel === 'AI Assistants') return 'ai';
  if (channel === 'Email' || channel === 'SMS' || channel === 'Mobile Push Notifications') return 'email';
  if (/^Paid |^Display$|^Cross-network$|^Audio$/.test(channel)) return 'paid';
  if (channel === 'Organic Search' || channel === 'Organic Shopping') return 'search';
  if (channel === 'Organic Social' || channel === 'Organic Video') return 'social';
  return 'other';
}

/** Rows sorted as the API sends them, with their bar widths against the largest. */
export function withBars(rows: TrafficRow[]): (TrafficRow & { bar: number })[] {
  const max = rows.reduce((m, r) => Math.max(m, r.visitors), 0);
  return rows.map((r) => ({ ...r, bar: barPercent(r.visitors, max) }));
}
