// Dates from the API are RFC 3339 strings in UTC; show them in the user's time zone.

import { LOCALE } from './locale';

const dateTime = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium' });
const timeWithSeconds = new Intl.DateTimeFormat(LOCALE, {
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  second: '2-digit',
});
const shortThisYear = new Intl.DateTimeFormat(LOCALE, {
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
});
const clock = new Intl.DateTimeFormat(LOCALE, { hour: 'numeric', minute: '2-digit', second: '2-digit' });
const relative = new Intl.RelativeTimeFormat(LOCALE, { numeric: 'auto' });

function parse(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatDateTime(iso: string | null | undefined): string {
  const d = parse(iso);
  return d ? dateTime.format(d) : '—';
}

/** Compact date and time for tables: the year only when it is not this year. */
export function formatShortDateTime(iso: string | null | undefined): string {
  const d = parse(iso);
  if (!d) return '—';
  return d.getFullYear() === new Date().getFullYear() ? shortThisYear.format(d) : dateTime.format(d);
}

export function formatDate(iso: string | null | undefined): string {
  const d = parse(iso);
  return d ? dateOnly.format(d) : '—';
}

export function formatTimeSeconds(iso: string | null | undefined): string {
  const d = parse(iso);
  return d ? timeWithSeconds.format(d) : '—';
}

/** Time of day with seconds, for events within one visit. */
export function formatClock(iso: string | null | undefined): string {
  const d = parse(iso);
  return d ? clock.format(d) : '—';
}

/** Full, unambiguous timestamp for a title attribute. */
export function formatExact(iso: string | null | undefined): string {
  const d = parse(iso);
  return d ? `${d.toString()} (${iso})` : '';
}

export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  const d = parse(iso);
  if (!d) return '—';
  const secs = Math.round((d.getTime() - now) / 1000);
  const abs = Math.abs(secs);
  if (abs < 45) return 'just now';
  if (abs < 3600) return relative.format(Math.round(secs / 60), 'minute');
  if (abs < 86400) return relative.format(Math.round(secs / 3600), 'hour');
  if (abs < 86400 * 30) return relative.format(Math.round(secs / 86400), 'day');
  return dateOnly.format(d);
}

/**
 * How long ago, for lists next to an absolute time: "just now", "3 minutes ago", "yesterday",
 * "2 months ago". Unlike `formatRelative` it never falls back to a date (the date is beside it).
 * A time slightly ahead of this computer's clock (another machine's clock) is "just now".
 */
export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  const d = parse(iso);
  if (!d) return '';
  const secs = Math.round((d.getTime() - now) / 1000);
  const abs = Math.abs(secs);
  if (abs < 45) return 'just now';
  if (abs < 45 * 60) return relative.format(Math.sign(secs) * Math.max(1, Math.round(abs / 60)), 'minute');
  if (abs < 22 * 3600) return relative.format(Math.round(secs / 3600), 'hour');
  if (abs < 26 * 86400) return relative.format(Math.round(secs / 86400), 'day');
  if (abs < 320 * 86400)
    return relative.format(Math.sign(secs) * Math.max(1, Math.round(abs / (30.44 * 86400))), 'month');
  return relative.format(Math.sign(secs) * Math.max(1, Math.round(abs / (365.25 * 86400))), 'year');
}

/** A tooltip for a listed time: how long ago, then the exact timestamp. */
export function timeTitle(iso: string | null | undefined, now = Date.now()): string {
  const exact = formatExact(iso);
  return exact ? `${formatAgo(iso, now)} · ${exact}` : '';
}

/** Local calendar day key (YYYY-MM-DD) of a timestamp, for daily buckets. */
export function localDayKey(d: Date): string {
  const y = d.getFullYear();
  const m = String(d.getMonth() + 1).padStart(2, '0');
  const day = String(d.getDate()).padStart(2, '0');
  return `${y}-${m}-${day}`;
}
