import { describe, expect, it } from 'vitest';
import { currencyDigits, formatMinor as fmt, minorToDecimal, sumByCurrency } from './money';

// Intl separates with (narrow) no-break spaces; compare against plain ones.
const formatMinor = (...a: Parameters<typeof fmt>) => fmt(...a).replace(/[\u00a0\u202f]/g, ' ');

describe('currencyDigits', () => {
  it('follows ISO 4217 exponents', () => {
    expect(currencyDigits('USD')).toBe(2);
    expect(currencyDigits('eur')).toBe(2);
    expect(currencyDigits('JPY')).toBe(0);
    expect(currencyDigits('KRW')).toBe(0);
    expect(currencyDigits('KWD')).toBe(3);
    expect(currencyDigits('BHD')).toBe(3);
  });
  it('falls back to 2 for a code Intl rejects', () => {
    expect(currencyDigits('??')).toBe(2);
  });
});

describe('minorToDecimal', () => {
  it('places the decimal point without floats', () => {
    expect(minorToDecimal(1043, 2)).toBe('10.43');
    expect(minorToDecimal(5, 2)).toBe('0.05');
    expect(minorToDecimal(0, 2)).toBe('0.00');
    expect(minorToDecimal(-5, 3)).toBe('-0.005');
    expect(minorToDecimal(500, 0)).toBe('500');
    expect(minorToDecimal(1, 3)).toBe('0.001');
    expect(minorToDecimal(9007199254740993n, 2)).toBe('90071992547409.93');
  });
});

describe('formatMinor', () => {
  it('formats each currency with its own digits', () => {
    expect(formatMinor(1043, 'USD', { locale: 'en-US' })).toBe('$10.43');
    expect(formatMinor(1043, 'usd', { locale: 'en-US' })).toBe('$10.43');
    expect(formatMinor(1043, 'JPY', { locale: 'en-US' })).toBe('¥1,043');
    expect(formatMinor(1043, 'KWD', { locale: 'en-US' })).toBe('KWD 1.043');
    expect(formatMinor(65215, 'EUR', { locale: 'de-DE' })).toBe('652,15 €');
  });
  it('keeps cents that a float would lose', () => {
    // 0.1 + 0.2 style errors cannot happen: 10000000000000.07 is not representable as a double.
    expect(formatMinor(1000000000000007, 'USD', { locale: 'en-US' })).toBe('$10,000,000,000,000.07');
  });
  it('shows signs when asked', () => {
    expect(formatMinor(-500, 'USD', { locale: 'en-US' })).toBe('-$5.00');
    expect(formatMinor(500, 'USD', { locale: 'en-US', signed: true })).toBe('+$5.00');
  });
  it('does not throw on an unknown code', () => {
    expect(formatMinor(1043, 'XXXX', { locale: 'en-US' })).toBe('10.43 XXXX');
  });
});

describe('sumByCurrency', () => {
  it('groups by upper-cased currency', () => {
    const m = sumByCurrency(
      [
        { c: 'usd', a: 100 },
        { c: 'USD', a: 250 },
        { c: 'JPY', a: 7 },
      ],
      (r) => r.c,
      (r) => r.a,
    );
    expect([...m.entries()]).toEqual([
      ['USD', 350],
      ['JPY', 7],
    ]);
  });
});
