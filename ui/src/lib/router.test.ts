import { describe, expect, it } from 'vitest';
import { buildHash, parseHash } from './router.svelte';

describe('parseHash and buildHash', () => {
  it('reads the page, its parameter and the site', () => {
    expect(parseHash('#/sessions/s_1?site=site_2')).toEqual({
      page: 'sessions',
      param: 's_1',
      site: 'site_2',
      filters: {},
    });
    expect(parseHash('#/tracking')).toEqual({ page: 'tracking', param: null, site: null, filters: {} });
    expect(parseHash('#/nope?site=')).toEqual({ page: 'overview', param: null, site: null, filters: {} });
    expect(parseHash('')).toEqual({ page: 'overview', param: null, site: null, filters: {} });
  });

  it('writes what it reads', () => {
    expect(buildHash('webhooks', 'd_1')).toBe('#/webhooks/d_1');
    expect(buildHash('sessions', 'a/b', 'site_2')).toBe('#/sessions/a%2Fb?site=site_2');
    expect(parseHash(buildHash('sessions', 'a/b', 'site_2'))).toEqual({
      page: 'sessions',
      param: 'a/b',
      site: 'site_2',
      filters: {},
    });
  });

  it("carries a page's filters after the site, in a stable order", () => {
    const hash = buildHash('payments', null, 'site_2', { range: '7d', provider: 'whop', empty: '' });
    expect(hash).toBe('#/payments?site=site_2&provider=whop&range=7d');
    expect(parseHash(hash)).toEqual({
      page: 'payments',
      param: null,
      site: 'site_2',
      filters: { provider: 'whop', range: '7d' },
    });
    expect(parseHash('#/webhooks/d_1?q=pay_1%20x&from=2026-03-01')).toEqual({
      page: 'webhooks',
      param: 'd_1',
      site: null,
      filters: { q: 'pay_1 x', from: '2026-03-01' },
    });
  });
});
