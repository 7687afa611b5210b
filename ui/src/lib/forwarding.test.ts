import { describe, expect, it } from 'vitest';
import { attemptOutcome, forwardPlaceholder, isBackfilled, notForwardableReason } from './forwarding';

describe('forwarding', () => {
  it('suggests a local handler per provider', () => {
    expect(forwardPlaceholder('whop')).toBe('http://localhost:3000/api/webhooks/whop');
    expect(forwardPlaceholder('paddle')).toBe('http://localhost:3000/api/webhooks/paddle');
  });

  it('tells backfilled deliveries by their id or their header', () => {
    expect(isBackfilled({ delivery_id: 'backfill:pay_1' })).toBe(true);
    expect(isBackfilled({ delivery_id: 'msg_1', headers: [['X-Faurya-Backfill', '1']] })).toBe(true);
    expect(isBackfilled({ delivery_id: 'msg_1', headers: [['webhook-id', 'msg_1']] })).toBe(false);
  });

  it('says why rejected attempts, backfills and revenue API calls are not forwarded', () => {
    const base = { id: 'd_1', status: 'processed' as const, delivery_id: 'msg_1', provider: 'whop' as const };
    expect(notForwardableReason(base)).toBeNull();
    expect(notForwardableReason({ ...base, id: 'r_1', status: 'rejected' })).toMatch(
      /^Rejected attempts are never forwarded/,
    );
    expect(notForwardableReason({ ...base, delivery_id: 'backfill:pay_1' })).toMatch(/^Backfilled deliveries are not/);
    expect(notForwardableReason({ ...base, provider: 'api' as never })).toMatch(/^Revenue API calls are not/);
  });

  it('words what an attempt got back', () => {
    expect(attemptOutcome({ status_code: 500 })).toBe('HTTP 500');
    expect(attemptOutcome({ status_code: null })).toBe('no answer');
    expect(attemptOutcome({ status_code: null, sent: false })).toBe('queued');
  });
});
