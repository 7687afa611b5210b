// Money arrives as integer minor units plus an ISO 4217 code. Display goes through the
// currency's own number of fraction digits (Intl follows ISO 4217: USD 2, JPY 0, KWD 3) and a
// decimal *string*, so no amount is ever divided as a float on its way to the screen.

import { LOCALE } from './locale';

const digitsCache = new Map<string, number>();

/** ISO 4217 minor-unit exponent of a currency as Intl knows it (2 when the code is unknown). */
export function currencyDigits(currency: string): number {
  const code = currency.toUpperCase();
  let d = digitsCache.get(code);
  if (d === undefined) {
    try {
      d =
        new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      d = 2;
    }
    digitsCache.set(code, d);
  }
  return d;
}

/** Minor units → exact decimal string: (1043, 2) → "10.43", (-5, 3) → "-0.005", (500, 0) → "500". */
export function minorToDecimal(amountMinor: number | bigint, digits: number): string {
  const n = typeof amountMinor === 'bigint' ? amountMinor : BigInt(Math.trunc(amountMinor));
  const negative = n < 0n;
  const abs = (negative ? -n : n).toString();
  let out: string;
  if (digits <= 0) {
    out = abs;
  } else {
    const padded = abs.padStart(digits + 1, '0');
    out = padded.slice(0, -digits) + '.' + padded.slice(-digits);
  }
  return negative ? '-' + out : out;
}

export interface FormatOptions {
  locale?: string;
  /** Show "+" for positive amounts (e.g. in deltas). */
  signed?: boolean;
  /** Short form for chart axes: "$1.2K". */
  compact?: boolean;
}

/** Format an amount in minor units in its currency, e.g. (1043, "USD") → "$10.43". */
export function formatMinor(amountMinor: number, currency: string, opts: FormatOptions = {}): string {
  const code = (currency || '').toUpperCase();
  const digits = currencyDigits(code);
  const decimal = minorToDecimal(amountMinor, digits);
  try {
    const fmt = new Intl.NumberFormat(opts.locale ?? LOCALE, {
      style: 'currency',
      currency: code,
      minimumFractionDigits: opts.compact ? 0 : digits,
      maximumFractionDigits: opts.compact ? Math.min(digits, 1) : digits,
      notation: opts.compact ? 'compact' : 'standard',
      signDisplay: opts.signed ? 'exceptZero' : 'auto',
    });
    // Intl formats decimal strings exactly (no float conversion).
    return fmt.format(decimal as Intl.StringNumericLiteral);
  } catch {
    return `${decimal} ${code}`.trim();
  }
}

/** Sum minor-unit amounts per currency, e.g. for KPIs. */
export function sumByCurrency<T>(
  rows: T[],
  currency: (row: T) => string,
  amount: (row: T) => number,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    const c = currency(r).toUpperCase();
    out.set(c, (out.get(c) ?? 0) + amount(r));
  }
  return out;
}
