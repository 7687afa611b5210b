// The ARIA tabs pattern's keys: ArrowRight / ArrowLeft move to the next / previous tab (round
// the end), Home and End to the first and last.

/** The tab to move to from tab `i` of `count` for `key`, or null when the key does not move. */
export function tabStep(key: string, i: number, count: number): number | null {
  if (count < 1) return null;
  if (key === 'ArrowRight') return (i + 1) % count;
  if (key === 'ArrowLeft') return (i - 1 + count) % count;
  if (key === 'Home') return 0;
  if (key === 'End') return count - 1;
  return null;
}
