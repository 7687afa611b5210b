// A keyset-paginated list (deliveries, payments): first page, "Load more" with next_cursor, and
// live refreshes that put new rows on top without losing what was loaded.

import { asApiError, type ApiError } from './api';
import type { Page } from './types';

export class PagedList<T extends { id: string | number }> {
  items = $state.raw<T[]>([]);
  nextCursor = $state<string | null>(null);
  loading = $state(true);
  loadingMore = $state(false);
  error = $state.raw<ApiError | null>(null);
  moreError = $state.raw<ApiError | null>(null);
  /** Ids that arrived through a live refresh (highlighted briefly). */
  fresh = $state.raw<Set<T['id']>>(new Set());
  private seq = 0;
  private fetchPage: (cursor: string | null) => Promise<Page<T>>;

  /** `fetchPage` reads the current filters each time it is called. */
  constructor(fetchPage: (cursor: string | null) => Promise<Page<T>>) {
    this.fetchPage = fetchPage;
  }

  /** Start over from the newest page (after a filter change). */
  async reload(): Promise<void> {
    const mine = ++this.seq;
    this.loading = true;
    try {
      const page = await this.fetchPage(null);
      if (mine !== this.seq) return;
      this.items = page.items;
      this.nextCursor = page.next_cursor;
      this.error = null;
      this.moreError = null;
    } catch (e) {
      if (mine === this.seq) this.error = asApiError(e);
    } finally {
      if (mine === this.seq) this.loading = false;
    }
  }

  async loadMore(): Promise<void> {
    if (!this.nextCursor || this.loadingMore) return;
    const mine = this.seq;
    this.loadingMore = true;
    this.moreError = null;
    try {
      const page = await this.fetchPage(this.nextCursor);
      if (mine !== this.seq) return;
      const known = new Set(this.items.map((x) => x.id));
      this.items = [...this.items, ...page.items.filter((x) => !known.has(x.id))];
      this.nextCursor = page.next_cursor;
    } catch (e) {
      this.moreError = asApiError(e);
    } finally {
      this.loadingMore = false;
    }
  }

  /** Live update: fetch the newest page, refresh the rows we have, put new ones on top. */
  async refreshHead(): Promise<void> {
    if (this.loading || this.error?.unavailable) return;
    const mine = this.seq;
    let page: Page<T>;
    try {
      page = await this.fetchPage(null);
    } catch {
      return; // the header's status pill shows connectivity; keep the list as it is
    }
    if (mine !== this.seq) return;
    const known = new Set(this.items.map((x) => x.id));
    const added = page.items.filter((x) => !known.has(x.id));
    const byId = new Map(page.items.map((x) => [x.id, x]));
    const updated = this.items.map((x) => byId.get(x.id) ?? x);
    if (added.length === 0) {
      this.items = updated;
      return;
    }
    // When the newest page does not reach what we have, there is a gap: start over from it.
    const overlaps = page.items.some((x) => known.has(x.id));
    this.items = overlaps ? [...added, ...updated] : page.items;
    if (!overlaps) this.nextCursor = page.next_cursor;
    this.fresh = new Set(added.map((x) => x.id));
  }

  /** Replace one row (e.g. after reprocessing). */
  update(id: T['id'], patch: Partial<T>) {
    this.items = this.items.map((x) => (x.id === id ? { ...x, ...patch } : x));
  }
}
