// Who we are talking to: signed in or not (401 from the API), and whether the server answers.

import { api, ApiError, asApiError, onUnauthorized } from './api';
import { reportsStore, storeProblem as problemOf, type StoreProblem } from './health';

export type AuthState = 'checking' | 'signed-in' | 'signed-out';
export type LinkState = 'unknown' | 'online' | 'offline' | 'error';

const HEALTH_EVERY_MS = 15_000;
/** A reconnect or resync asks again, but not more often than this. */
const RECHECK_MIN_MS = 4_000;

class Session {
  auth = $state<AuthState>('checking');
  link = $state<LinkState>('unknown');
  version = $state<string | null>(null);
  lastError = $state<string | null>(null);
  /** The database refuses writes (disk full…): the app-wide banner shows it. Null when fine. */
  storeProblem = $state<StoreProblem | null>(null);
  /** The backend reports the store (and so has backups); null until the first answer. */
  hasStore = $state<boolean | null>(null);
  /** The user pressed Sign out (the sign-in screen says so). */
  signedOutByUser = $state(false);
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastCheck = 0;
  private recheckTimer: ReturnType<typeof setTimeout> | null = null;

  constructor() {
    onUnauthorized(() => {
      this.auth = 'signed-out';
    });
  }

  async check(): Promise<void> {
    this.lastCheck = Date.now();
    try {
      const h = await api.health();
      this.version = h.version ?? null;
      this.storeProblem = problemOf(h);
      this.hasStore = reportsStore(h);
      this.auth = 'signed-in';
      this.link = 'online';
      this.lastError = null;
    } catch (e) {
      const err = asApiError(e);
      if (err.status === 401) {
        this.auth = 'signed-out';
        this.link = 'online';
        return;
      }
      // Unreachable or broken: still show the app (pages explain their own errors).
      if (this.auth === 'checking') this.auth = 'signed-in';
      this.link = err.offline ? 'offline' : 'error';
      this.lastError = err instanceof ApiError ? err.message : String(e);
    }
  }

  /**
   * Check again soon: the live stream reconnected or asked for a resync. Right after a check
   * (a burst of reconnects), the next one waits a few seconds instead of piling up.
   */
  recheck(): void {
    if (this.recheckTimer) return;
    const wait = Math.max(0, this.lastCheck + RECHECK_MIN_MS - Date.now());
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = null;
      void this.check();
    }, wait);
  }

  /** POST /logout, then show the sign-in screen. Throws when the server could not clear the cookie. */
  async signOut(): Promise<void> {
    await api.logout();
    this.signedOutByUser = true;
    this.auth = 'signed-out';
  }

  start() {
    void this.check();
    this.timer ??= setInterval(() => void this.check(), HEALTH_EVERY_MS);
  }
}

export const session = new Session();
