// "Test delivery path" (POST /api/tunnel/test) and what it proved in this UI session: the public
// URLs a test reached Faurya through. A manual URL shows as "verified" only once one did; until
// then it is "saved, not verified". Kept at module level, so it survives moving between pages
// (not a reload: a new session checks again).

import { api, asApiError, type ApiError } from './api';
import type { TunnelTestResult } from './types';

/** The public URL a test was about: its `url` without the `/healthz` it asked for. */
export function testedBase(result: Pick<TunnelTestResult, 'url'>): string {
  return result.url.replace(/\/healthz$/, '').replace(/\/+$/, '');
}

class DeliveryCheck {
  running = $state(false);
  result = $state.raw<TunnelTestResult | null>(null);
  error = $state.raw<ApiError | null>(null);
  private passed = $state.raw<Set<string>>(new Set());

  /** Whether a test reached Faurya through `publicUrl` in this session. */
  verified(publicUrl: string | null | undefined): boolean {
    return !!publicUrl && this.passed.has(publicUrl.replace(/\/+$/, ''));
  }

  /** The last result, when it was about `publicUrl` (a result about another URL no longer applies). */
  resultFor(publicUrl: string | null | undefined): TunnelTestResult | null {
    const r = this.result;
    return r && publicUrl && testedBase(r) === publicUrl.replace(/\/+$/, '') ? r : null;
  }

  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.result = null;
    this.error = null;
    try {
      const r = await api.testTunnel();
      this.result = r;
      const base = testedBase(r);
      const next = new Set(this.passed);
      if (r.ok) next.add(base);
      else next.delete(base);
      this.passed = next;
    } catch (e) {
      this.error = asApiError(e);
    } finally {
      this.running = false;
    }
  }
}

export const deliveryCheck = new DeliveryCheck();
