import { describe, expect, it } from 'vitest';
import {
  barPercent,
  channelGroup,
  formatBounce,
  formatCount,
  formatDuration,
  formatOffset,
  formatShare,
  rowLabel,
  trafficSeries,
  withBars,
} from './traffic';
import { CHANNELS, type Traffic } from './types';

describe('formatShare and formatBounce', () => {
  it('shows whole percents, one decimal under 10 %', () => {
    expect(formatShare(0.4567)).toBe('46%');
    expect(formatShare(1)).toBe('100%');
    expect(formatShare(0.045)).toBe('4.5%');
    expect(formatShare(0)).toBe('0%');
  });

  it('marks a sliver instead of rounding it to zero', () => {
    expect(formatShare(0.0004)).toBe('<0.1%');
  });

  it('shows a dash when there is nothing to divide', () => {
    expect(formatBounce(null)).toBe('—');
    expect(formatBounce(undefined)).toBe('—');
    expect(formatShare(Number.NaN)).toBe('—');
    expect(formatBounce(0.52)).toBe('52%');
  });
});

describe('formatCount', () => {
  it('groups thousands and goes compact for large numbers', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(1234)).toBe('1,234');
    expect(formatCount(99_999)).toBe('99,999');
    expect(formatCount(123_456)).toBe('123.5K');
  });
});

describe('barPercent and withBars', () => {
  it('scales to the largest row and keeps a small row visible', () => {
    expect(barPercent(50, 100)).toBe(50);
    expect(barPercent(100, 100)).toBe(100);
    expect(barPercent(1, 1000)).toBe(1.5);
    expect(barPercent(0, 100)).toBe(0);
    expect(barPercent(5, 0)).toBe(0);
  });

  it('adds the bars to rows', () => {
    const rows = withBars([
      { key: 'Organic Search', visitors: 80, sessions: 90 },
      { key: 'Direct', visitors: 40, sessions: 41 },
    ]);
    expect(rows.map((r) => r.bar)).toEqual([100, 50]);
  });
});

describe('rowLabel', () => {
  it('keeps keys and names the missing ones per list', () => {
    expect(rowLabel('sources', 'Google')).toBe('Google');
    expect(rowLabel('sources', null)).toBe('Direct / none');
    expect(rowLabel('referrers', '')).toBe('Direct / none');
    expect(rowLabel('campaigns', null)).toBe('No campaign');
    expect(rowLabel('landing_pages', ' ')).toBe('(unknown page)');
    expect(rowLabel('channels', null)).toBe('(none)');
  });
});

describe('trafficSeries', () => {
  const base: Traffic = {
    days: 3,
    since: '2026-03-09T00:00:00Z',
    visitors: 0,
    sessions: 0,
    pageviews: 0,
    bounce_rate: null,
    daily: [],
    channels: [],
    sources: [],
    campaigns: [],
    landing_pages: [],
    referrers: [],
  };

  it('fills every day from since to today, zero where the API has none', () => {
    const s = trafficSeries(
      { ...base, daily: [{ day: '2026-03-10', visitors: 7, sessions: 8, pageviews: 20 }] },
      new Date('2026-03-11T15:00:00Z'),
    );
    expect(s.days).toEqual([Date.UTC(2026, 2, 9) / 1000, Date.UTC(2026, 2, 10) / 1000, Date.UTC(2026, 2, 11) / 1000]);
    expect(s.visitors).toEqual([0, 7, 0]);
    expect(s.pageviews).toEqual([0, 20, 0]);
  });
});

describe('durations', () => {
  it('reads like a person would say it', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(200_000)).toBe('3 min 20 s');
    expect(formatDuration(180_000)).toBe('3 min');
    expect(formatDuration(3_900_000)).toBe('1 h 5 min');
    expect(formatDuration(-1)).toBe('—');
  });

  it('gives each event its offset from the start of the session', () => {
    expect(formatOffset('2026-03-10T10:00:00Z', '2026-03-10T10:00:00Z')).toBe('start');
    expect(formatOffset('2026-03-10T10:00:00Z', '2026-03-10T10:01:20Z')).toBe('+1 min 20 s');
  });
});

describe('channelGroup', () => {
  it('puts every channel of the table into a group', () => {
    for (const c of CHANNELS) expect(channelGroup(c)).not.toBe('other');
    expect(channelGroup('Paid Search')).toBe('paid');
    expect(channelGroup('Organic Search')).toBe('search');
    expect(channelGroup('AI Assistants')).toBe('ai');
    expect(channelGroup('Something new')).toBe('other');
  });
});
