// Counts with their noun: "1 payment", "2 payments", "1,204 visitors". English only, like the
// rest of the UI; the number is formatted for the user's locale.

import { LOCALE } from './locale';

const count = new Intl.NumberFormat(LOCALE);

/** The noun for `n`: `one` for exactly 1, else `many` (default: `one` + "s"). */
export function noun(n: number, one: string, many: string = one + 's'): string {
  return n === 1 ? one : many;
}

/** `n` with its noun: plural(1, 'payment') → "1 payment", plural(3, 'delivery', 'deliveries') → "3 deliveries". */
export function plural(n: number, one: string, many?: string): string {
  return `${count.format(n)} ${noun(n, one, many)}`;
}
