// Hash routes: #/overview, #/sessions[/<session id>], #/revenue, #/webhooks[/<event id>],
// #/payments[/<payment id>], #/tracking, #/settings, and #/visitors/<visitor id> (not in the
// sidebar: reached from a payment, a journey or a session). With more than one site the current one rides along as a
// query, `#/sessions?site=site_…`, so a link or a second tab opens the same site (lib/sites).

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

export interface Route {
  page: PageId;
  param: string | null;
  site: string | null;
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
  return { page, param, site: query.get('site') || null };
}

export function buildHash(page: PageId, param?: string | null, site?: string | null): string {
  return `#/${page}${param ? '/' + encodeURIComponent(param) : ''}${site ? '?site=' + encodeURIComponent(site) : ''}`;
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

  constructor() {
    if (typeof window === 'undefined') return;
    this.sync();
    window.addEventListener('hashchange', () => this.sync());
  }

  private sync() {
    const r = parseHash(window.location.hash);
    this.page = r.page;
    this.param = r.param;
    this.site = r.site;
  }

  /** Change the route. `replace` keeps the history entry (used for selection within a page). */
  go(page: PageId, param: string | null = null, replace = false) {
    const target = href(page, param);
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
    const target = buildHash(this.page, this.param, site);
    if (window.location.hash !== target) history.replaceState(history.state, '', target);
  }

  get title(): string {
    return PAGES.find((p) => p.id === this.page)?.title ?? '';
  }

  /** The sidebar entry this page belongs to. */
  get section(): PageId {
    return PAGES.find((p) => p.id === this.page)?.section ?? this.page;
  }
}

export const router = new Router();
