import { describe, expect, it } from 'vitest';
import { paymentStatus, plainlyPaid } from './payments';

const pay = (status: string, amount_minor: number, refunded_minor: number) => ({
  status,
  amount_minor,
  refunded_minor,
});

describe('paymentStatus', () => {
  it("keeps the provider's word while nothing is refunded", () => {
    expect(paymentStatus(pay('succeeded', 4900, 0))).toEqual({ status: 'succeeded', label: 'succeeded' });
    expect(paymentStatus(pay('completed', 2500, 0))).toEqual({ status: 'completed', label: 'completed' });
  });

  it('says "partly refunded" when some of it came back', () => {
    expect(paymentStatus(pay('succeeded', 4900, 1000))).toEqual({
      status: 'partially_refunded',
      label: 'partly refunded',
    });
    expect(paymentStatus(pay('completed', 2500, 2499)).label).toBe('partly refunded');
  });

  it('says "refunded" when all of it came back (or more, with fees)', () => {
    expect(paymentStatus(pay('succeeded', 4900, 4900))).toEqual({ status: 'refunded', label: 'refunded' });
    expect(paymentStatus(pay('paid', 4900, 5000)).label).toBe('refunded');
  });

  it('reads a status the API already names', () => {
    expect(paymentStatus(pay('partially_refunded', 19900, 0)).label).toBe('partly refunded');
    expect(paymentStatus(pay('refunded', 4900, 4900)).label).toBe('refunded');
  });

  it('keeps a dispute or a failure, which say more than a refund', () => {
    expect(paymentStatus(pay('disputed', 4900, 1000))).toEqual({ status: 'disputed', label: 'disputed' });
    expect(paymentStatus(pay('failed', 4900, 4900)).label).toBe('failed');
  });

  it('tells plainly paid payments apart', () => {
    expect(plainlyPaid(pay('succeeded', 4900, 0))).toBe(true);
    expect(plainlyPaid(pay('completed', 4900, 0))).toBe(true);
    expect(plainlyPaid(pay('succeeded', 4900, 100))).toBe(false);
    expect(plainlyPaid(pay('disputed', 4900, 0))).toBe(false);
  });
});
