// Forwarding verified deliveries to the founder's own handler (issue 13): the URL they give on a
// connection, what a delivery's forwarding state reads as in the inspector, and why some
// deliveries are never forwarded.

import type { EventDetail, EventSummary, ForwardAttempt, ForwardState, Provider } from './types';

/** The placeholder of the Forward URL field: a local dev server's webhook route. */
export function forwardPlaceholder(provider: Provider): string {
  return `http://localhost:3000/api/webhooks/${provider}`;
}

/**
 * Why the server would refuse the URL (not http(s), credentials, a fragment), checked before a
 * round trip; the API says the same with `fields.forward_url` / `fields.url`. Empty is fine here
 * (the caller decides what empty means).
 */
export function forwardUrlProblem(raw: string): string | undefined {
  const v = raw.trim();
  if (!v) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'Enter a full URL such as http://localhost:3000/api/webhooks.';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'The URL must start with http:// or https://.';
  if (u.username || u.password) return 'Leave the user name and password out of the URL.';
  if (v.includes('#')) return 'Leave out the fragment (#…).';
  return undefined;
}

/** The automatic retries after a failed send: 10 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h. */
export const RETRY_SCHEDULE =
  'Failed sends are retried 7 times over about 5 hours (10 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h).';

export const FORWARD_LABELS: Record<ForwardState, { label: string; tone: string }> = {
  delivered: { label: 'forwarded', tone: 'ok' },
  retrying: { label: 'forward retrying', tone: 'warn' },
  failed: { label: 'forward failed', tone: 'danger' },
  pending: { label: 'forward pending', tone: '' },
};

/** A backfilled delivery: Faurya made it from the provider's payment list (id `backfill:…`). */
export function isBackfilled(e: Pick<EventSummary, 'delivery_id'> & Partial<Pick<EventDetail, 'headers'>>): boolean {
  if (e.delivery_id?.startsWith('backfill:')) return true;
  return !!e.headers?.some(([name]) => name.toLowerCase() === 'x-faurya-backfill');
}

/** Why this delivery cannot be forwarded (one line), or null when it can. */
export function notForwardableReason(
  e: Pick<EventSummary, 'id' | 'status' | 'delivery_id' | 'provider'> & Partial<Pick<EventDetail, 'headers'>>,
): string | null {
  if (e.status === 'rejected' || e.id.startsWith('r_'))
    return 'Rejected attempts are never forwarded: their signature did not check out, so they may not come from the provider.';
  if ((e.provider as string) === 'api')
    return 'Revenue API calls are not forwarded: your own server sent them, so there is no signed original from a provider.';
  if (isBackfilled(e))
    return "Backfilled deliveries are not forwarded: Faurya made them from the provider's payment list, so there is no original body or signature to send.";
  return null;
}

/** What an attempt got back: "HTTP 500", "no answer" when nothing answered, "queued" before it is sent. */
export function attemptOutcome(a: Pick<ForwardAttempt, 'status_code' | 'sent'>): string {
  if (a.sent === false) return 'queued';
  return a.status_code === null ? 'no answer' : `HTTP ${a.status_code}`;
}
