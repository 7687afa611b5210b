import { describe, expect, it } from 'vitest';
import { buildHash, parseHash } from './router.svelte';

describe('parseHash and buildHash', () => {
  it('reads the page, its parameter and the site', () => {
    expect(parseHash('#/sessions/s_1?site=site_2')).toEqual({ page: 'sessions', param: 's_1', site: 'site_2' });
    expect(parseHash('#/tracking')).toEqual({ page: 'tracking', param: null, site: null });
    expect(parseHash('#/nope?site=')).toEqual({ page: 'overview', param: null, site: null });
    expect(parseHash('')).toEqual({ page: 'overview', param: null, site: null });
  });

  it('writes what it reads', () => {
    expect(buildHash('webhooks', 'd_1')).toBe('#/webhooks/d_1');
    expect(buildHash('sessions', 'a/b', 'site_2')).toBe('#/sessions/a%2Fb?site=site_2');
    expect(parseHash(buildHash('sessions', 'a/b', 'site_2'))).toEqual({
      page: 'sessions',
      param: 'a/b',
      site: 'site_2',
    });
  });
});
