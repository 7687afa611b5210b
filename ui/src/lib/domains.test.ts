import { describe, expect, it } from 'vitest';
import { domainsError, normalizeDomain, parseDomains, siteNameError, splitDomains } from './domains';

describe('splitDomains', () => {
  it('splits on commas, spaces, semicolons and new lines', () => {
    expect(splitDomains(' example.com, www.example.com\napp.example.com;docs.example.com  ')).toEqual([
      'example.com',
      'www.example.com',
      'app.example.com',
      'docs.example.com',
    ]);
    expect(splitDomains(' ,  ')).toEqual([]);
  });
});

describe('normalizeDomain', () => {
  it('keeps domains, in lower case', () => {
    expect(normalizeDomain('Example.COM')).toEqual({ domain: 'example.com' });
    expect(normalizeDomain('shop.my-site.co.uk')).toEqual({ domain: 'shop.my-site.co.uk' });
    expect(normalizeDomain('example.com.')).toEqual({ domain: 'example.com' });
    expect(normalizeDomain('shop.test')).toEqual({ domain: 'shop.test' });
  });

  it('cuts a pasted URL down to its domain, as the server does', () => {
    expect(normalizeDomain('https://www.example.com/pricing?x=1#top')).toEqual({ domain: 'example.com' });
    expect(normalizeDomain('http://app.example.com/')).toEqual({ domain: 'app.example.com' });
    expect(normalizeDomain('shop.example.com:8443')).toEqual({ domain: 'shop.example.com' });
  });

  it('drops www., which the domain covers anyway', () => {
    expect(normalizeDomain('www.example.com')).toEqual({ domain: 'example.com' });
  });

  it('accepts localhost, for a local test', () => {
    expect(normalizeDomain('localhost:3000')).toEqual({ domain: 'localhost' });
  });

  it('turns an international name into its ASCII form', () => {
    expect(normalizeDomain('bücher.example')).toEqual({ domain: 'xn--bcher-kva.example' });
  });

  it('says what is wrong with anything that is not a domain name', () => {
    const problem = (v: string) => {
      const r = normalizeDomain(v);
      return 'problem' in r ? r.problem : null;
    };
    expect(problem('example')).toMatch(/full domain name/);
    expect(problem('*.example.com')).toMatch(/subdomains are covered/);
    expect(problem('exa_mple.com')).toMatch(/not a domain name/);
    expect(problem('-example.com')).toMatch(/not a domain name/);
    expect(problem('example-.com')).toMatch(/not a domain name/);
    expect(problem('192.168.1.10')).toMatch(/IP address/);
    expect(problem('[::1]')).toMatch(/IP address/);
    expect(problem('user@example.com')).toMatch(/user name/);
    expect(problem('a'.repeat(64) + '.com')).toMatch(/not a domain name/);
    expect(problem('https://')).toMatch(/no domain name/);
    expect(problem('exa mple.com')).toMatch(/not a domain name/);
  });
});

describe('parseDomains', () => {
  it('normalizes, drops repeats and collects problems', () => {
    expect(parseDomains('example.com, https://Example.com/, www.example.com shop.example.com bad_host.com')).toEqual({
      domains: ['example.com', 'shop.example.com'],
      problems: ['"bad_host.com" is not a domain name like example.com.'],
    });
  });

  it('takes a list as well as text', () => {
    expect(parseDomains(['a.example', 'b.example']).domains).toEqual(['a.example', 'b.example']);
  });
});

describe('domainsError', () => {
  it('is undefined for a clean list, even an empty one', () => {
    expect(domainsError('example.com shop.example.com')).toBeUndefined();
    expect(domainsError('')).toBeUndefined();
  });

  it('names the first problem and counts the rest', () => {
    expect(domainsError('nope')).toBe('"nope" is not a full domain name like example.com.');
    expect(domainsError('nope, a_b.com, c_d.com')).toBe(
      '"nope" is not a full domain name like example.com. (and 2 more)',
    );
  });
});

describe('siteNameError', () => {
  it('asks for a name of reasonable length', () => {
    expect(siteNameError('  ')).toMatch(/name/);
    expect(siteNameError('x'.repeat(81))).toMatch(/80/);
    expect(siteNameError('Lumen Notes')).toBeUndefined();
  });
});
