// A value loaded from the API, with its loading and error state, shared between pages.

import { api, asApiError, type ApiError } from './api';
import type { Connection, Settings } from './types';

export class Resource<T> {
  data = $state.raw<T | null>(null);
  error = $state.raw<ApiError | null>(null);
  loading = $state(false);
  /** True once a first answer (data or error) arrived. */
  settled = $state(false);
  private inflight: Promise<void> | null = null;
  /** Something changed while a load was under way: its answer may predate the change. */
  private stale = false;
  /** Bumped by `set`: an answer to a request sent before it is older than the value set. */
  private version = 0;
  private fetcher: () => Promise<T>;

  constructor(fetcher: () => Promise<T>) {
    this.fetcher = fetcher;
  }

  /**
   * Fetch the value. A call while a load is under way does not start a second request, but
   * makes that load fetch once more when it is done: live events come in bursts (a tunnel goes
   * `starting` then `up` within a second) and the last one must win.
   */
  load(): Promise<void> {
    if (this.inflight) {
      this.stale = true;
      return this.inflight;
    }
    this.inflight = (async () => {
      this.loading = true;
      try {
        do {
          this.stale = false;
          const version = this.version;
          try {
            const data = await this.fetcher();
            if (version === this.version) {
              this.data = data;
              this.error = null;
            }
          } catch (e) {
            if (version === this.version) this.error = asApiError(e);
          }
        } while (this.stale);
      } finally {
        this.loading = false;
        this.settled = true;
        this.inflight = null;
      }
    })();
    return this.inflight;
  }

  /** Load unless it has been loaded already. */
  ensure(): Promise<void> {
    return this.settled ? Promise.resolve() : this.load();
  }

  /** Settles with the first answer: the load under way, or a new one if none was asked for yet. */
  ready(): Promise<void> {
    if (this.settled) return Promise.resolve();
    return this.inflight ?? this.load();
  }

  /** Take a value the API just answered (e.g. to a PUT). A load under way fetches again. */
  set(value: T) {
    if (this.inflight) this.stale = true;
    this.version++;
    this.data = value;
    this.error = null;
    this.settled = true;
  }
}

let connectionsScope: () => Promise<string | null> = async () => null;

/** lib/sites tells which site's connections to list (it waits for the sites to be known). */
export function scopeConnections(scope: () => Promise<string | null>) {
  connectionsScope = scope;
}

export const settings = new Resource<Settings>(() => api.settings());
export const connections = new Resource<Connection[]>(async () => api.connections(await connectionsScope()));

/**
 * Every site's connections, for the app-wide alarm (a webhook of another site that could not
 * follow the public URL puts deliveries at risk just the same).
 */
export const allConnections = new Resource<Connection[]>(() => api.connections(null));
