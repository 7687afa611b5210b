// Hash routes: #/overview, #/sessions[/<session id>], #/revenue, #/webhooks[/<event id>],
// #/payments[/<payment id>], #/tracking, #/settings, and #/visitors/<visitor id> (not in the
// sidebar: reached from a payment, a journey or a session). With more than one site the current one rides along as a
// query, `#/sessions?site=site_…`, so a link or a second tab opens the same site (lib/sites).
// A page's filters ride along too (`#/payments?provider=whop&range=7d`): a reload, the back
// button or a shared link shows the same list. They belong to their page: a link to another page
// carries only the site.

export type PageId =
  'overview' | 'sessions' | 'revenue' | 'webhooks' | 'payments' | 'tracking' | 'settings' | 'visitors';

export interface PageInfo {
  id: PageId;
  title: string;
  /** Not a sidebar entry: the sidebar marks `section` instead. */
  section?: PageId;
}

export const PAGES: PageInfo[] = [
  { id: 'overview', title: 'Overview' },
  { id: 'sessions', title: 'Sessions' },
  { id: 'revenue', title: 'Revenue' },
  { id: 'webhooks', title: 'Webhooks' },
  { id: 'payments', title: 'Payments' },
  { id: 'tracking', title: 'Tracking' },
  { id: 'settings', title: 'Settings' },
  { id: 'visitors', title: 'Visitor', section: 'sessions' },
];

/** The sidebar's entries. */
export const NAV: PageInfo[] = PAGES.filter((p) => !p.section);

const DEFAULT: PageId = 'overview';

/** A page's filters in the URL, e.g. `{ provider: 'whop', range: '7d' }`. */
export type Filters = Record<string, string>;

export interface Route {
  page: PageId;
  param: string | null;
  site: string | null;
  filters: Filters;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const q = raw.indexOf('?');
  const path = q >= 0 ? raw.slice(0, q) : raw;
  const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
  const [, first, second] = path.split('/');
  const page = PAGES.find((p) => p.id === first)?.id ?? DEFAULT;
  let param: string | null = null;
  try {
    param = second ? decodeURIComponent(second) : null;
  } catch {
    param = second ?? null;
  }
  const filters: Filters = {};
  for (const [k, v] of query) if (k !== 'site' && v) filters[k] = v;
  return { page, param, site: query.get('site') || null, filters };
}

export function buildHash(page: PageId, param?: string | null, site?: string | null, filters: Filters = {}): string {
  const query = new URLSearchParams();
  if (site) query.set('site', site);
  for (const k of Object.keys(filters).sort()) if (k !== 'site' && filters[k]) query.set(k, filters[k]);
  const qs = query.toString();
  return `#/${page}${param ? '/' + encodeURIComponent(param) : ''}${qs ? '?' + qs : ''}`;
}

/** A link to a page, keeping the current site in it when the URL carries one. */
export function href(page: PageId, param?: string | null): string {
  return buildHash(page, param, router.site);
}

class Router {
  page = $state<PageId>(DEFAULT);
  param = $state<string | null>(null);
  /** The site named in the URL, if any. */
  site = $state<string | null>(null);
  /** The current page's filters from the URL. */
  filters = $state.raw<Filters>({});

  constructor() {
    if (typeof window === 'undefined') return;
    this.sync();
    window.addEventListener('hashchange', () => this.sync());
    window.addEventListener('popstate', () => this.sync());
  }

  private sync() {
    const r = parseHash(window.location.hash);
    this.page = r.page;
    this.param = r.param;
    this.site = r.site;
    if (!sameFilters(this.filters, r.filters)) this.filters = r.filters;
  }

  /** Change the route. `replace` keeps the history entry (used for selection within a page). */
  go(page: PageId, param: string | null = null, replace = false) {
    // Within a page (selecting a row) its filters stay; another page starts without them.
    const target = buildHash(page, param, this.site, page === this.page ? this.filters : {});
    if (replace) {
      history.replaceState(history.state, '', target);
      this.page = page;
      this.param = param;
    } else if (window.location.hash !== target) {
      window.location.hash = target;
    }
  }

  /** Put the site into the URL (or take it out) without a new history entry. */
  setSite(site: string | null) {
    if (this.site === site) return;
    this.site = site;
    if (typeof window === 'undefined') return;
    const target = buildHash(this.page, this.param, site, this.filters);
    if (window.location.hash !== target) history.replaceState(history.state, '', target);
  }

  /**
   * Change some of the page's filters (a null or empty value removes one), as a new history
   * entry, so Back returns to the previous filters. The selected row closes: it may not be in
   * the new list.
   */
  setFilters(patch: Record<string, string | null | undefined>) {
    const next: Filters = { ...this.filters };
    for (const [k, v] of Object.entries(patch)) {
      if (v) next[k] = v;
      else delete next[k];
    }
    if (sameFilters(next, this.filters)) return;
    this.filters = next;
    this.param = null;
    if (typeof window === 'undefined') return;
    const target = buildHash(this.page, null, this.site, next);
    if (window.location.hash !== target) history.pushState(history.state, '', target);
  }

  get title(): string {
    return PAGES.find((p) => p.id === this.page)?.title ?? '';
  }

  /** The sidebar entry this page belongs to. */
  get section(): PageId {
    return PAGES.find((p) => p.id === this.page)?.section ?? this.page;
  }
}

function sameFilters(a: Filters, b: Filters): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export const router = new Router();
