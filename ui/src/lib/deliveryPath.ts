// The delivery path (provider → public URL → tunnel → Faurya) as the UI shows it: one state for
// the badges, and the risks that raise the app-wide alarm. The server's tunnel `up` only says a
// URL is in place: a manual URL is "saved, not verified" until "Test delivery path" passes in
// this UI session, and a URL no provider can reach (loopback, private, .local, plain http) is
// never shown as up.

import { plainError } from './netError';
import { urlReach } from './reach';
import type { PageId } from './router.svelte';
import { BACKEND_NAMES, withoutHint } from './tunnel';
import { providerName, type Connection, type Settings } from './types';

export type PathKey = 'up' | 'verified' | 'unverified' | 'not-public' | 'starting' | 'down' | 'off';

export interface PathState {
  key: PathKey;
  /** What the badge says. */
  label: string;
  /** StatusBadge's status word for the tone: ok, warn, danger or none. */
  tone: 'ok' | 'pending' | 'down' | 'neutral';
}

const STATES: Record<PathKey, PathState> = {
  up: { key: 'up', label: 'up', tone: 'ok' },
  verified: { key: 'verified', label: 'verified', tone: 'ok' },
  unverified: { key: 'unverified', label: 'saved, not verified', tone: 'neutral' },
  'not-public': { key: 'not-public', label: 'not reachable by providers', tone: 'pending' },
  starting: { key: 'starting', label: 'starting', tone: 'pending' },
  down: { key: 'down', label: 'down', tone: 'down' },
  off: { key: 'off', label: 'off', tone: 'neutral' },
};

/**
 * The path's state. `verified` tells whether "Test delivery path" passed for the current public
 * URL in this session. A URL pinned by --public-url is shown as the server reports it.
 */
export function pathState(s: Settings, verified: boolean): PathState {
  const t = s.tunnel;
  if (t && t.state !== 'up') return STATES[t.state];
  if (!s.public_url) return STATES.off;
  const reach = urlReach(s.public_url)?.reach;
  if (reach !== 'public') return STATES['not-public'];
  const manual = t ? t.backend === 'manual' : s.public_url_source === 'settings';
  if (manual) return verified ? STATES.verified : STATES.unverified;
  return STATES.up;
}

export interface Risk {
  id: string;
  /** What is at risk, as a headline. */
  title: string;
  /** Why, in a sentence or two. */
  reason: string;
  /** The raw error behind `reason`, for a "Details" toggle. */
  raw: string | null;
  /** Where it is fixed. */
  fix: { page: PageId; label: string };
}

function names(list: Connection[]): string {
  const all = [...new Set(list.map((c) => providerName(c.provider)))];
  return all.length > 1 ? all.slice(0, -1).join(', ') + ' and ' + all[all.length - 1] : (all[0] ?? 'Providers');
}

/**
 * What puts deliveries at risk right now: nothing while no provider is connected (there is no
 * delivery to lose); otherwise a tunnel that is down or keeps failing, no public URL, a URL no
 * provider can reach, and every connection whose webhook could not follow the public URL.
 */
export function deliveryRisks(s: Settings | null | undefined, list: Connection[] | null | undefined): Risk[] {
  if (!s || !list || list.length === 0) return [];
  const risks: Risk[] = [];
  const who = names(list);
  const t = s.tunnel;
  const settings = (label: string) => ({ page: 'settings' as PageId, label });
  const missing = t?.backend === 'cloudflared' && t.cloudflared?.installed === false;
  if (t && t.state === 'down' && s.public_url_source !== 'flag') {
    // The install hint is long and shown in Settings: the banner says what is wrong.
    const error = withoutHint(t.error, t.cloudflared?.install_hint);
    const e = plainError(error);
    const retry = `${who} retries for a while; fix it before they give up.`;
    risks.push({
      id: 'tunnel-down',
      title: `The tunnel is down: ${who} cannot deliver webhooks`,
      reason: missing
        ? `cloudflared is not installed on the computer Faurya runs on. ${retry}`
        : error
          ? `${asSentence(e.text)} ${retry}`
          : `${BACKEND_NAMES[t.backend]} stopped without a reason. ${retry}`,
      raw: missing ? null : e.raw,
      fix: settings(missing ? 'Install cloudflared' : 'Fix the tunnel'),
    });
  } else if (t && t.state === 'starting' && t.error && s.public_url_source !== 'flag') {
    const e = plainError(t.error);
    risks.push({
      id: 'tunnel-failing',
      title: `The tunnel keeps failing to start: ${who} cannot deliver webhooks`,
      reason: `Last failure: ${e.text}`,
      raw: e.raw,
      fix: settings('Fix the tunnel'),
    });
  } else if (!s.public_url && (!t || t.state === 'off')) {
    risks.push({
      id: 'no-url',
      title: `No public URL: ${who} cannot deliver webhooks`,
      reason: 'No tunnel is chosen, so nothing on the internet reaches this app.',
      raw: null,
      fix: settings('Choose a tunnel'),
    });
  } else if (s.public_url && (!t || t.state === 'up')) {
    const r = urlReach(s.public_url);
    if (r?.problem)
      risks.push({
        id: 'not-public',
        title: `${who} cannot reach ${s.public_url}`,
        reason: r.problem,
        raw: null,
        fix: settings(s.public_url_source === 'flag' ? 'See Settings' : 'Choose a public address'),
      });
  }
  for (const c of list) {
    if (c.sync?.state !== 'failed') continue;
    const e = plainError(c.sync.error);
    const name = providerName(c.provider);
    risks.push({
      id: `sync-${c.id}`,
      title: `The ${name} webhook could not follow the new public URL`,
      reason: `${c.sync.error ? e.text : 'Faurya retries by itself.'} Until it is updated, ${name} keeps sending to ${c.webhook_url ?? 'the old address'}.`,
      raw: e.raw,
      fix: { page: 'revenue', label: `See the ${name} connection` },
    });
  }
  return risks;
}

/** `text` ending with a full stop, so another sentence can follow it. */
function asSentence(text: string): string {
  return /[.!?…]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`;
}
