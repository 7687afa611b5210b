import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rangeBounds, rangeFromQuery, rangeLabel, rangeProblem, rangeToQuery } from './dateRange';

// Local days in a zone east of UTC, so a local midnight is the evening before in UTC.
const TZ = process.env.TZ;
beforeAll(() => {
  process.env.TZ = 'Europe/Berlin';
});
afterAll(() => {
  process.env.TZ = TZ;
});

describe('rangeBounds', () => {
  const now = new Date('2026-03-10T10:30:00Z'); // 11:30 in Berlin

  it('turns presets into local-day bounds in UTC, `to` exclusive', () => {
    expect(rangeBounds({ preset: 'today' }, now)).toEqual({ from: '2026-03-09T23:00:00Z', to: '2026-03-10T23:00:00Z' });
    expect(rangeBounds({ preset: '7d' }, now)).toEqual({ from: '2026-03-03T23:00:00Z', to: '2026-03-10T23:00:00Z' });
    expect(rangeBounds({ preset: '30d' }, now)).toEqual({ from: '2026-02-08T23:00:00Z', to: '2026-03-10T23:00:00Z' });
    expect(rangeBounds({ preset: 'all' }, now)).toEqual({});
  });

  it('includes the last custom day, across a change to summer time', () => {
    expect(rangeBounds({ preset: 'custom', from: '2026-03-28', to: '2026-03-29' })).toEqual({
      from: '2026-03-27T23:00:00Z',
      to: '2026-03-29T22:00:00Z',
    });
    expect(rangeBounds({ preset: 'custom', from: '2026-03-01' })).toEqual({ from: '2026-02-28T23:00:00Z' });
    expect(rangeBounds({ preset: 'custom', to: '2026-03-01' })).toEqual({ to: '2026-03-01T23:00:00Z' });
  });

  it('sends nothing for custom dates that do not make sense', () => {
    expect(rangeBounds({ preset: 'custom', from: '2026-03-05', to: '2026-03-01' })).toEqual({});
    expect(rangeBounds({ preset: 'custom', from: '2026-02-30' })).toEqual({});
  });
});

describe('rangeProblem', () => {
  it('says what is wrong with custom dates', () => {
    expect(rangeProblem({ preset: 'custom' })).toMatch(/Pick a first day/);
    expect(rangeProblem({ preset: 'custom', from: '2026-03-05', to: '2026-03-01' })).toMatch(/after the last day/);
    expect(rangeProblem({ preset: 'custom', from: '2026-13-01' })).toMatch(/not a date/);
    expect(rangeProblem({ preset: 'custom', from: '2026-03-01', to: '2026-03-01' })).toBeNull();
    expect(rangeProblem({ preset: '7d' })).toBeNull();
  });
});

describe('the URL query', () => {
  it('round-trips presets and custom dates', () => {
    expect(rangeFromQuery({ range: '7d' })).toEqual({ preset: '7d' });
    expect(rangeFromQuery({ from: '2026-03-01', to: '2026-03-31' })).toEqual({
      preset: 'custom',
      from: '2026-03-01',
      to: '2026-03-31',
    });
    expect(rangeFromQuery({})).toEqual({ preset: 'all' });
    expect(rangeFromQuery({ range: 'nonsense', from: 'yesterday' })).toEqual({ preset: 'all' });
    expect(rangeToQuery({ preset: 'today' })).toEqual({ range: 'today', from: null, to: null });
    expect(rangeToQuery({ preset: 'custom', from: '2026-03-01' })).toEqual({
      range: null,
      from: '2026-03-01',
      to: null,
    });
    expect(rangeToQuery({ preset: 'all' })).toEqual({ range: null, from: null, to: null });
  });
});

describe('rangeLabel', () => {
  it('names the range', () => {
    expect(rangeLabel({ preset: 'all' })).toBe('All time');
    expect(rangeLabel({ preset: '30d' })).toBe('Last 30 days');
    expect(rangeLabel({ preset: 'custom', from: '2026-03-01', to: '2026-03-31' }, 'en-US')).toBe(
      'Mar 1, 2026 – Mar 31, 2026',
    );
    expect(rangeLabel({ preset: 'custom', from: '2026-03-01' }, 'en-US')).toBe('Since Mar 1, 2026');
  });
});
