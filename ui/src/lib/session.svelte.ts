// Who we are talking to: signed in or not (401 from the API), and whether the server answers.

import { api, ApiError, asApiError, onUnauthorized } from './api';

export type AuthState = 'checking' | 'signed-in' | 'signed-out';
export type LinkState = 'unknown' | 'online' | 'offline' | 'error';

const HEALTH_EVERY_MS = 15_000;

class Session {
  auth = $state<AuthState>('checking');
  link = $state<LinkState>('unknown');
  version = $state<string | null>(null);
  lastError = $state<string | null>(null);
  /** The user pressed Sign out (the sign-in screen says so). */
  signedOutByUser = $state(false);
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor() {
    onUnauthorized(() => {
      this.auth = 'signed-out';
    });
  }

  async check(): Promise<void> {
    try {
      const h = await api.health();
      this.version = h.version ?? null;
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
