// Hash routes: #/overview, #/revenue, #/webhooks[/<event id>], #/payments, #/settings.

export type PageId = 'overview' | 'revenue' | 'webhooks' | 'payments' | 'settings';

export interface PageInfo {
  id: PageId;
  title: string;
}

export const PAGES: PageInfo[] = [
  { id: 'overview', title: 'Overview' },
  { id: 'revenue', title: 'Revenue' },
  { id: 'webhooks', title: 'Webhooks' },
  { id: 'payments', title: 'Payments' },
  { id: 'settings', title: 'Settings' },
];

const DEFAULT: PageId = 'overview';

function parse(hash: string): { page: PageId; param: string | null } {
  const [, first, second] = hash.replace(/^#/, '').split('/');
  const page = PAGES.find((p) => p.id === first)?.id ?? DEFAULT;
  return { page, param: second ? decodeURIComponent(second) : null };
}

export function href(page: PageId, param?: string | null): string {
  return `#/${page}${param ? '/' + encodeURIComponent(param) : ''}`;
}

class Router {
  page = $state<PageId>(DEFAULT);
  param = $state<string | null>(null);

  constructor() {
    if (typeof window === 'undefined') return;
    this.sync();
    window.addEventListener('hashchange', () => this.sync());
  }

  private sync() {
    const r = parse(window.location.hash);
    this.page = r.page;
    this.param = r.param;
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

  get title(): string {
    return PAGES.find((p) => p.id === this.page)?.title ?? '';
  }
}

export const router = new Router();
