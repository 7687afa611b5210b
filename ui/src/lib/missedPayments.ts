// The status line of a connection's delivery path that a founder can trust: when the last
// delivery came, when Faurya last asked the provider for payments it might have missed, and what
// that found ("Last delivery 3 min ago · checked for missed payments 12 min ago · 0 missed").

import { formatRelative } from './time';
import type { Connection } from './types';

export interface MissedPaymentsLine {
  /** The sentence, in parts joined by " · ". */
  parts: string[];
  /** The last check failed: why (a missing permission, an outage). */
  error: string | null;
}

export function missedPaymentsLine(c: Connection, now = Date.now()): MissedPaymentsLine {
  const parts = [c.last_delivery_at ? `Last delivery ${formatRelative(c.last_delivery_at, now)}` : 'No delivery yet'];
  const b = c.backfill ?? null;
  if (!b || (b.checked_at === null && b.error === null)) {
    parts.push('not checked for missed payments yet');
  } else if (b.checked_at !== null) {
    parts.push(`checked for missed payments ${formatRelative(new Date(b.checked_at).toISOString(), now)}`);
    parts.push(
      b.recovered_last === 1
        ? '1 missed, recovered'
        : `${b.recovered_last} missed${b.recovered_last ? ', recovered' : ''}`,
    );
  } else {
    parts.push('the last check for missed payments failed');
  }
  return { parts, error: b?.error ?? null };
}
