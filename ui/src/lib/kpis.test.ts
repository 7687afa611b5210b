import { describe, expect, it } from 'vitest';
import { attributedShare, attributionProgress, currencies, dailySeries, isAttributed, totalsFor } from './kpis';
import type { CurrencyTotals, Payment, RevenueSummary } from './types';

function totals(over: Partial<CurrencyTotals>): CurrencyTotals {
  return {
    currency: 'USD',
    payments: 1,
    attributed: 0,
    gross_minor: 1000,
    refunded_minor: 0,
    net_minor: 1000,
    ...over,
  };
}

function summary(over: Partial<RevenueSummary>): RevenueSummary {
  return { days: 3, since: '2026-03-09T00:00:00Z', all_time: [], window: [], daily: [], ...over };
}

describe('currencies', () => {
  it('lists the currencies with the most payments first, never comparing amounts', () => {
    const s = summary({
      all_time: [
        totals({ currency: 'JPY', payments: 1, net_minor: 500000 }),
        totals({ currency: 'USD', payments: 3, net_minor: 2543 }),
        totals({ currency: 'EUR', payments: 1, net_minor: 100 }),
      ],
    });
    expect(currencies(s)).toEqual(['USD', 'EUR', 'JPY']);
    expect(totalsFor(s.all_time, 'JPY')?.net_minor).toBe(500000);
    expect(totalsFor(s.all_time, 'GBP')).toBeNull();
  });
});

describe('attributedShare', () => {
  it('is the share of payments with attribution, over every currency', () => {
    expect(
      attributedShare([
        totals({ payments: 3, attributed: 1 }),
        totals({ currency: 'EUR', payments: 1, attributed: 1 }),
      ]),
    ).toBe(0.5);
    expect(attributedShare([])).toBeNull();
  });
});

describe('dailySeries', () => {
  it('fills every UTC day from `since` to today, zero where nothing was paid', () => {
    const s = summary({
      daily: [
        { day: '2026-03-10', currency: 'USD', net_minor: 1000 },
        { day: '2026-03-11', currency: 'EUR', net_minor: 5 },
      ],
    });
    const series = dailySeries(s, 'USD', new Date('2026-03-11T23:30:00Z'));
    expect(series.values).toEqual([0, 1000, 0]);
    expect(series.days).toEqual([
      Date.UTC(2026, 2, 9) / 1000,
      Date.UTC(2026, 2, 10) / 1000,
      Date.UTC(2026, 2, 11) / 1000,
    ]);
  });
});

describe('isAttributed', () => {
  it('trusts the API flag and falls back to the ids', () => {
    const p = { visitor_id: null, session_id: 's_1', attribution_token: null } as Payment;
    expect(isAttributed(p)).toBe(true);
    expect(isAttributed({ ...p, attributed: false })).toBe(false);
    expect(isAttributed({ ...p, session_id: null })).toBe(false);
  });
});

describe('attributionProgress', () => {
  it('adds up attributed and all payments over every currency, all time', () => {
    const s = {
      all_time: [
        totals({ currency: 'USD', payments: 5, attributed: 3 }),
        totals({ currency: 'EUR', payments: 2, attributed: 0 }),
      ],
    };
    expect(attributionProgress(s)).toEqual({ attributed: 3, payments: 7 });
    expect(attributionProgress({ all_time: [] })).toEqual({ attributed: 0, payments: 0 });
    expect(attributionProgress(null)).toBeNull();
  });
});
