// The store's health from `GET /api/health` (issue 12): while the database refuses writes (the
// disk is full, the file went read-only), the app shows a banner until it takes writes again.

import type { Health, StoreHealth } from './types';

/** Why the banner shows: the store's error and since when; null while it takes writes. */
export interface StoreProblem {
  /** The database's own words ("database or disk is full"), or a fallback. */
  reason: string;
  since: string | null;
}

/**
 * The problem to show, if any. An older backend without `store` (or a partial answer) shows
 * nothing: only an explicit `writable: false` raises the banner.
 */
export function storeProblem(h: Pick<Health, 'store'> | null | undefined): StoreProblem | null {
  const s: Partial<StoreHealth> | undefined = h?.store;
  if (!s || typeof s !== 'object' || s.writable !== false) return null;
  const reason = typeof s.error === 'string' && s.error.trim() ? s.error.trim() : 'the database refuses writes';
  return { reason, since: typeof s.since === 'string' && s.since ? s.since : null };
}

/** Whether the backend reports the store at all (it has backups too: both came with issue 12). */
export function reportsStore(h: Pick<Health, 'store'> | null | undefined): boolean {
  return !!h?.store && typeof h.store === 'object' && typeof h.store.writable === 'boolean';
}
