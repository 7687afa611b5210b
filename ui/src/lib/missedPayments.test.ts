import { describe, expect, it } from 'vitest';
import { missedPaymentsLine } from './missedPayments';
import type { Connection } from './types';

const now = Date.parse('2026-06-01T12:00:00Z');
const base: Connection = {
  id: 'con_1',
  provider: 'whop',
  environment: 'production',
  account_id: 'biz_1',
  masked_key: '••••1234',
  webhook_id: 'hook_1',
  webhook_url: 'https://x.test/webhooks/whop/con_1',
  created_at: '2026-05-01T00:00:00Z',
  last_delivery_at: new Date(now - 3 * 60_000).toISOString(),
  deliveries: 4,
  sync: null,
};

describe('missedPaymentsLine', () => {
  it('says when nothing was checked yet', () => {
    expect(missedPaymentsLine({ ...base, backfill: null }, now).parts).toEqual([
      'Last delivery 3 minutes ago',
      'not checked for missed payments yet',
    ]);
  });

  it('gives the last check and what it found', () => {
    const backfill = {
      checked_at: now - 12 * 60_000,
      recovered_last: 0,
      recovered_total: 2,
      error: null,
      attempted_at: now,
    };
    expect(missedPaymentsLine({ ...base, backfill }, now).parts).toEqual([
      'Last delivery 3 minutes ago',
      'checked for missed payments 12 minutes ago',
      '0 missed',
    ]);
    const found = { ...backfill, recovered_last: 2 };
    expect(missedPaymentsLine({ ...base, backfill: found }, now).parts[2]).toBe('2 missed, recovered');
  });

  it('keeps the reason of a failed check', () => {
    const backfill = {
      checked_at: null,
      recovered_last: 0,
      recovered_total: 0,
      error: 'needs payment:basic:read',
      attempted_at: now,
    };
    const line = missedPaymentsLine({ ...base, last_delivery_at: null, backfill }, now);
    expect(line.parts).toEqual(['No delivery yet', 'the last check for missed payments failed']);
    expect(line.error).toBe('needs payment:basic:read');
  });
});
