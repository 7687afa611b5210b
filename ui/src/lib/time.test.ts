import { describe, expect, it } from 'vitest';
import { formatAgo, timeTitle } from './time';

const now = Date.parse('2026-12-02T12:00:00Z');
const ago = (secs: number) => new Date(now - secs * 1000).toISOString();

describe('formatAgo', () => {
  it('says "just now" for the last 45 seconds, and for a clock slightly ahead', () => {
    expect(formatAgo(ago(0), now)).toBe('just now');
    expect(formatAgo(ago(44), now)).toBe('just now');
    expect(formatAgo(ago(-20), now)).toBe('just now');
  });

  it('counts minutes, then hours, then days', () => {
    expect(formatAgo(ago(50), now)).toBe('1 minute ago');
    expect(formatAgo(ago(2 * 60), now)).toBe('2 minutes ago');
    expect(formatAgo(ago(44 * 60), now)).toBe('44 minutes ago');
    expect(formatAgo(ago(50 * 60), now)).toBe('1 hour ago');
    expect(formatAgo(ago(5 * 3600), now)).toBe('5 hours ago');
    expect(formatAgo(ago(26 * 3600), now)).toBe('yesterday');
    expect(formatAgo(ago(3 * 86400), now)).toBe('3 days ago');
  });

  it('goes on with months and years instead of falling back to a date', () => {
    expect(formatAgo(ago(40 * 86400), now)).toBe('last month');
    expect(formatAgo(ago(95 * 86400), now)).toBe('3 months ago');
    expect(formatAgo(ago(800 * 86400), now)).toBe('2 years ago');
  });

  it('is empty without a time', () => {
    expect(formatAgo(null, now)).toBe('');
    expect(formatAgo('not a date', now)).toBe('');
  });
});

describe('timeTitle', () => {
  it('puts how long ago before the exact time', () => {
    const t = timeTitle(ago(180), now);
    expect(t.startsWith('3 minutes ago · ')).toBe(true);
    expect(t).toContain('(2026-12-02T11:57:00.000Z)');
  });

  it('is empty without a time', () => {
    expect(timeTitle(null, now)).toBe('');
  });
});
