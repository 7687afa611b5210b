// A payment's status as shown: the provider's word, except that refunds say so. The API keeps the
// provider's status ("succeeded", "completed", "paid") and the refunded amount beside it, so a
// payment refunded in part would otherwise still read "succeeded".

import type { Payment } from './types';

/** Statuses that say more than a refund does: they stay as they are. */
const KEEP = new Set(['disputed', 'failed', 'canceled', 'cancelled', 'pending']);

export type ShownStatus = {
  /** The key for the badge's tone (StatusBadge): `refunded`, `partially_refunded` or the API's. */
  status: string;
  /** What the badge says: "refunded", "partly refunded", or the API's status in words. */
  label: string;
};

export function paymentStatus(p: Pick<Payment, 'status' | 'amount_minor' | 'refunded_minor'>): ShownStatus {
  const status = p.status ?? '';
  const refunded = p.refunded_minor ?? 0;
  if (!KEEP.has(status) && refunded > 0 && p.amount_minor > 0)
    return refunded >= p.amount_minor
      ? { status: 'refunded', label: 'refunded' }
      : { status: 'partially_refunded', label: 'partly refunded' };
  if (status === 'partially_refunded') return { status, label: 'partly refunded' };
  return { status, label: status.replace(/_/g, ' ') };
}

/** Whether the payment counts as paid and unrefunded (no badge needed in a journey). */
export function plainlyPaid(p: Pick<Payment, 'status' | 'amount_minor' | 'refunded_minor'>): boolean {
  const { status } = paymentStatus(p);
  return status === 'succeeded' || status === 'paid' || status === 'completed';
}
