// Wording for deliveries in the inspector.

import { LOCALE } from './locale';

const REASONS: Record<string, string> = {
  bad_signature: 'Bad signature',
  timestamp_too_old: 'Timestamp too old',
  timestamp_in_future: 'Timestamp in the future',
  missing_header: 'Signature header missing',
  malformed_header: 'Signature header malformed',
  no_secret: 'No webhook secret stored',
  payload_too_large: 'Body too large',
  connection_removed: 'Connection removed',
  unknown_connection: 'Unknown connection',
};

/** A rejected attempt's reason code as words ("bad_signature" → "Bad signature"). */
export function reasonLabel(code: string): string {
  if (REASONS[code]) return REASONS[code];
  const words = code.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export type NotePart = { text: string } | { ref: string };

/** Splits a note such as "repeat of d_12: …" so event ids (d_12, r_3) can become links. */
export function noteParts(note: string): NotePart[] {
  const parts: NotePart[] = [];
  let last = 0;
  for (const m of note.matchAll(/\b[dr]_\d+\b/g)) {
    if (m.index > last) parts.push({ text: note.slice(last, m.index) });
    parts.push({ ref: m[0] });
    last = m.index + m[0].length;
  }
  if (last < note.length) parts.push({ text: note.slice(last) });
  return parts;
}

/** First letter upper-case: server messages are sentence fragments ("the body is not JSON: …"). */
export function sentence(text: string): string {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

/** Byte counts as people read them: 65,536 bytes → "64 KiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n.toLocaleString(LOCALE)} ${n === 1 ? 'byte' : 'bytes'}`;
  if (n < 1024 * 1024) return `${(n / 1024).toLocaleString(LOCALE, { maximumFractionDigits: 1 })} KiB`;
  return `${(n / 1024 / 1024).toLocaleString(LOCALE, { maximumFractionDigits: 1 })} MiB`;
}

/** Deliveries whose amount is money going back (Whop refunds, Paddle refund adjustments). */
export function isRefundEvent(type: string | null): boolean {
  return !!type && /^(refund|adjustment)\./.test(type);
}

/** The amount of a delivery as shown in the inspector: refunds with a minus sign. */
export function eventAmount(
  e: { amount_minor: number | null; currency: string | null; event_type: string | null },
  format: (minor: number, currency: string) => string,
): string {
  if (e.amount_minor === null || !e.currency) return '';
  const text = format(e.amount_minor, e.currency);
  return isRefundEvent(e.event_type) ? '−' + text : text;
}
