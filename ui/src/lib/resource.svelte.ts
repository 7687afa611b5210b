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
  private fetcher: () => Promise<T>;

  constructor(fetcher: () => Promise<T>) {
    this.fetcher = fetcher;
  }

  load(): Promise<void> {
    this.inflight ??= (async () => {
      this.loading = true;
      try {
        this.data = await this.fetcher();
        this.error = null;
      } catch (e) {
        this.error = asApiError(e);
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

  set(value: T) {
    this.data = value;
    this.error = null;
    this.settled = true;
  }
}

export const settings = new Resource<Settings>(() => api.settings());
export const connections = new Resource<Connection[]>(() => api.connections());
