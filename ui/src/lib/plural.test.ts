import { describe, expect, it } from 'vitest';
import { noun, plural } from './plural';

describe('plural', () => {
  it('says 1 payment, 0 and 2 payments', () => {
    expect(plural(1, 'payment')).toBe('1 payment');
    expect(plural(0, 'payment')).toBe('0 payments');
    expect(plural(2, 'payment')).toBe('2 payments');
  });

  it('takes an irregular plural', () => {
    expect(plural(1, 'delivery', 'deliveries')).toBe('1 delivery');
    expect(plural(3, 'delivery', 'deliveries')).toBe('3 deliveries');
  });

  it('formats the number for the locale', () => {
    expect(plural(1204, 'visitor')).toMatch(/^1.204 visitors$/);
  });

  it('gives the noun alone', () => {
    expect(noun(1, 'session')).toBe('session');
    expect(noun(7, 'session')).toBe('sessions');
  });
});
