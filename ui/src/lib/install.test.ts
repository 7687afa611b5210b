import { describe, expect, it } from 'vitest';
import { nextRewrites, proxySnippet, scriptTag } from './install';

describe('scriptTag', () => {
  it('builds the tag with escaped attributes', () => {
    expect(scriptTag('https://x.example/js/script.js', 'site_1')).toBe(
      '<script defer src="https://x.example/js/script.js" data-site="site_1"></script>',
    );
    expect(scriptTag('/s.js', 'a"b', { api: '/e?a=1&b=2' })).toBe(
      '<script defer src="/s.js" data-site="a&quot;b" data-api="/e?a=1&amp;b=2"></script>',
    );
  });
});

describe('proxySnippet', () => {
  it('loads the script from the founder’s domain and sends events there', () => {
    expect(proxySnippet('site_abc')).toBe(
      '<script defer src="/faurya/js/script.js" data-site="site_abc" data-api="/faurya/api/event"></script>',
    );
  });

  it('takes another prefix, with or without slashes', () => {
    expect(proxySnippet('site_abc', 'stats/')).toContain('src="/stats/js/script.js"');
    expect(proxySnippet('site_abc', '/')).toContain('data-api="/api/event"');
  });
});

describe('nextRewrites', () => {
  it('rewrites the script and the event endpoint to the public URL', () => {
    const s = nextRewrites('https://quiet-river.trycloudflare.com/');
    expect(s.filename).toBe('next.config.js');
    expect(s.code).toContain('process.env.FAURYA_URL ?? "https://quiet-river.trycloudflare.com";');
    expect(s.code).toContain('source: "/faurya/js/script.js",\n        destination: `${FAURYA_URL}/js/script.js`,');
    expect(s.code).toContain('source: "/faurya/api/event",\n        destination: `${FAURYA_URL}/api/event`,');
    expect(s.code).toContain('async rewrites()');
    expect(s.code).toContain('module.exports = nextConfig;');
    // Short lines: readable without scrolling in a narrow window.
    for (const line of s.code.split('\n')) expect(line.length).toBeLessThanOrEqual(72);
  });

  it('uses a placeholder without a public URL', () => {
    expect(nextRewrites(null).code).toContain('"https://faurya.example.com"');
  });
});
