import { describe, expect, it } from 'vitest';
import { eventAmount, formatBytes, noteParts, reasonLabel, sentence } from './events';

describe('reasonLabel', () => {
  it('words known codes and falls back to the code itself', () => {
    expect(reasonLabel('bad_signature')).toBe('Bad signature');
    expect(reasonLabel('something_new')).toBe('Something new');
  });
});

describe('noteParts', () => {
  it('picks out event ids', () => {
    expect(noteParts('repeat of d_12: same delivery id')).toEqual([
      { text: 'repeat of ' },
      { ref: 'd_12' },
      { text: ': same delivery id' },
    ]);
    expect(noteParts('payment pay_d_1x recorded')).toEqual([{ text: 'payment pay_d_1x recorded' }]);
    expect(noteParts('r_3')).toEqual([{ ref: 'r_3' }]);
  });
});

describe('sentence and formatBytes', () => {
  it('reads well', () => {
    expect(sentence('the body is not JSON')).toBe('The body is not JSON');
    expect(formatBytes(15)).toBe('15 bytes');
    expect(formatBytes(65536)).toBe('64 KiB');
  });
});

describe('eventAmount', () => {
  const fmt = (m: number, c: string) => `${c} ${m}`;
  it('signs refunds and leaves deliveries without an amount empty', () => {
    expect(eventAmount({ amount_minor: 1000, currency: 'USD', event_type: 'refund.created' }, fmt)).toBe('−USD 1000');
    expect(eventAmount({ amount_minor: 500, currency: 'EUR', event_type: 'adjustment.updated' }, fmt)).toBe('−EUR 500');
    expect(eventAmount({ amount_minor: 4900, currency: 'USD', event_type: 'payment.succeeded' }, fmt)).toBe('USD 4900');
    expect(eventAmount({ amount_minor: null, currency: null, event_type: 'x' }, fmt)).toBe('');
  });
});
