import { describe, expect, it } from 'vitest';
import { attributedShare, dailyNet, rangeStart, totalsByCurrency } from './kpis';
import type { Payment } from './types';

function pay(over: Partial<Payment>): Payment {
  return {
    id: 1,
    provider: 'whop',
    connection_id: 'con_1',
    provider_payment_id: 'pay_1',
    amount_minor: 1000,
    currency: 'USD',
    status: 'succeeded',
    refunded_minor: 0,
    net_minor: 1000,
    visitor_id: null,
    session_id: null,
    attribution_token: null,
    order_id: null,
    customer_email: null,
    paid_at: '2026-03-10T12:00:00Z',
    created_at: '2026-03-10T12:00:00Z',
    delivery_id: 'd_1',
    refunds: [],
    ...over,
  };
}

describe('totalsByCurrency', () => {
  it('sums gross, refunds and net per currency and skips failed payments', () => {
    const t = totalsByCurrency([
      pay({ amount_minor: 1043, net_minor: 543, refunded_minor: 500 }),
      pay({ amount_minor: 2000, net_minor: 2000 }),
      pay({ currency: 'JPY', amount_minor: 500, net_minor: 500 }),
      pay({ status: 'failed', amount_minor: 99999, net_minor: 99999 }),
    ]);
    expect(t).toEqual([
      { currency: 'USD', gross: 3043, refunds: 500, net: 2543, count: 2 },
      { currency: 'JPY', gross: 500, refunds: 0, net: 500, count: 1 },
    ]);
  });
});

describe('attributedShare', () => {
  it('is the share of payments with a visitor or session', () => {
    expect(attributedShare([pay({ visitor_id: 'v_1' }), pay({}), pay({ session_id: 's' }), pay({})])).toBe(0.5);
    expect(attributedShare([])).toBeNull();
  });
});

describe('dailyNet', () => {
  it('fills every day of the range, zero where nothing was paid', () => {
    const from = new Date(2026, 2, 9);
    const to = new Date(2026, 2, 11);
    const s = dailyNet(
      [
        pay({ paid_at: new Date(2026, 2, 10, 9).toISOString(), net_minor: 700 }),
        pay({ paid_at: new Date(2026, 2, 10, 18).toISOString(), net_minor: 300 }),
        pay({ paid_at: new Date(2026, 2, 11, 1).toISOString(), currency: 'EUR', net_minor: 5 }),
      ],
      'USD',
      from,
      to,
    );
    expect(s.values).toEqual([0, 1000, 0]);
    expect(s.days).toHaveLength(3);
    expect(s.days[0]).toBe(from.getTime() / 1000);
  });
});

describe('rangeStart', () => {
  it('counts today as one of the days', () => {
    const now = new Date(2026, 2, 31, 15);
    expect(rangeStart('7d', [], now)).toEqual(new Date(2026, 2, 25));
    expect(rangeStart('30d', [], now)).toEqual(new Date(2026, 2, 2));
  });
});
