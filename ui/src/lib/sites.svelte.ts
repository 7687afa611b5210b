// The tracked sites and the one being looked at. Every site-scoped call (traffic, sessions,
// revenue, deliveries, payments, connections) passes `site=` from here.
//
// The current site is the one the URL names (`#/…?site=`), else the one chosen last in this
// browser (localStorage), else the first. The URL carries it only while there is more than one
// site, so a single-site install keeps plain `#/overview` links.

import { untrack } from 'svelte';
import { api } from './api';
import { connections, Resource, scopeConnections } from './resource.svelte';
import { router } from './router.svelte';
import type { Site } from './types';

const KEY = 'faurya.site';

function stored(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

function remember(id: string) {
  try {
    localStorage.setItem(KEY, id);
  } catch {
    // storage blocked: the URL still carries the choice
  }
}

class Sites {
  readonly resource = new Resource<Site[]>(() => api.sites());
  private chosen = $state<string | null>(null);

  /** The site being looked at; null before the list is in, or on a backend without sites. */
  current = $derived.by<Site | null>(() => {
    const list = this.resource.data;
    if (!list?.length) return null;
    return list.find((s) => s.id === router.site) ?? list.find((s) => s.id === this.chosen) ?? list[0];
  });

  /**
   * What site-scoped calls pass as `site`: `undefined` while the sites are loading (wait for it,
   * so a page does not load everything first and its site a moment later), `null` when there is
   * no site to scope to (a backend without sites, or the list failed: show everything), else the id.
   */
  scope = $derived.by<string | null | undefined>(() => {
    if (this.current) return this.current.id;
    return this.resource.settled ? null : undefined;
  });

  list = $derived<Site[]>(this.resource.data ?? []);
  /** The backend has no sites yet (an older build). */
  unavailable = $derived(!this.resource.data && !!this.resource.error?.unavailable);

  constructor() {
    if (typeof window === 'undefined') return;
    this.chosen = stored();
    scopeConnections(async () => {
      await this.resource.ready();
      return this.scope ?? null;
    });
    let scoped: string | null | undefined = undefined;
    $effect.root(() => {
      // Another site: the shared connections list follows it.
      $effect(() => {
        const scope = this.scope;
        if (scope === undefined) return;
        untrack(() => {
          if (scoped !== undefined && scoped !== scope && connections.settled) void connections.load();
          scoped = scope;
        });
      });
      // The URL names the current site (a link without one gets it back), and this browser
      // remembers it.
      $effect(() => {
        const cur = this.current;
        const many = this.list.length > 1;
        void router.site;
        if (!cur) return;
        untrack(() => {
          router.setSite(many ? cur.id : null);
          if (cur.id !== this.chosen) {
            this.chosen = cur.id;
            remember(cur.id);
          }
        });
      });
    });
  }

  load(): Promise<void> {
    return this.resource.load();
  }

  ensure(): Promise<void> {
    return this.resource.ensure();
  }

  /** Switch to another site (the switcher, a new site). */
  select(id: string) {
    this.chosen = id;
    remember(id);
    router.setSite(this.list.length > 1 ? id : null);
  }

  /** A site the API just created: list it and switch to it. */
  added(site: Site) {
    this.resource.set([...this.list.filter((s) => s.id !== site.id), site]);
    this.select(site.id);
  }

  /** A site the API just answered (PATCH, write key rotation). */
  updated(site: Site) {
    this.resource.set(this.list.map((s) => (s.id === site.id ? { ...s, ...site } : s)));
  }
}

export const sites = new Sites();

/** `site_id` for a new provider connection: the current site, when the backend has sites. */
export function siteField(): { site_id?: string } {
  return sites.current ? { site_id: sites.current.id } : {};
}
