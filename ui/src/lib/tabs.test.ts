import { describe, expect, it } from 'vitest';
import { tabStep } from './tabs';

describe('tabStep', () => {
  it('moves with the arrows, round the ends, and jumps with Home and End', () => {
    expect(tabStep('ArrowRight', 0, 4)).toBe(1);
    expect(tabStep('ArrowRight', 3, 4)).toBe(0);
    expect(tabStep('ArrowLeft', 0, 4)).toBe(3);
    expect(tabStep('Home', 2, 4)).toBe(0);
    expect(tabStep('End', 0, 4)).toBe(3);
  });

  it('ignores other keys', () => {
    expect(tabStep('Enter', 1, 4)).toBeNull();
    expect(tabStep('ArrowDown', 1, 4)).toBeNull();
    expect(tabStep('ArrowRight', 0, 0)).toBeNull();
  });
});
