import { describe, expect, it } from 'vitest';
import { providersReach, urlReach } from './reach';

const reach = (url: string) => urlReach(url)?.reach;

describe('urlReach', () => {
  it('flags this computer: loopback addresses and localhost', () => {
    for (const url of [
      'http://127.0.0.1:8787',
      'https://127.3.4.5',
      'http://[::1]:8787',
      'http://localhost:8787',
      'https://app.localhost',
      'http://0.0.0.0:8787',
      'http://[::ffff:127.0.0.1]:80',
      'http://2130706433/', // 127.0.0.1 written as a number
    ])
      expect(reach(url), url).toBe('loopback');
  });

  it('flags private and link-local ranges', () => {
    for (const url of [
      'http://10.0.0.5',
      'https://172.16.0.1',
      'https://172.31.255.255',
      'https://192.168.1.20:8443',
      'http://169.254.10.1',
      'https://100.101.102.103',
      'https://[fc00::1]',
      'https://[fd12:3456::1]',
      'https://[fe80::1]',
      'https://[::ffff:10.1.2.3]',
    ])
      expect(reach(url), url).toBe('private');
  });

  it('keeps the neighbours of the private ranges public', () => {
    for (const url of [
      'https://172.15.0.1',
      'https://172.32.0.1',
      'https://192.169.0.1',
      'https://11.0.0.1',
      'https://100.128.0.1',
      'https://[2001:db8::1]',
      'https://[fbff::1]',
    ])
      expect(reach(url), url).toBe('public');
  });

  it('flags names only a local network knows', () => {
    expect(reach('https://mac-mini.local')).toBe('local-name');
    expect(reach('https://nas.lan:8080')).toBe('local-name');
    expect(reach('https://hooks.home.arpa')).toBe('local-name');
    expect(reach('http://devbox:8787')).toBe('local-name');
  });

  it('flags plain http on a public address, and passes public https', () => {
    expect(reach('http://hooks.example.com')).toBe('plain-http');
    expect(reach('http://203.0.113.9:8787')).toBe('plain-http');
    expect(reach('https://quiet-river.trycloudflare.com')).toBe('public');
    expect(reach('https://acme.ngrok-free.app/')).toBe('public');
    expect(reach('https://HOOKS.Example.com.')).toBe('public');
  });

  it('says why in a sentence that names the host', () => {
    const r = urlReach('http://127.0.0.1:8787')!;
    expect(r.host).toBe('127.0.0.1');
    expect(r.problem).toContain('only proves this computer reaches itself');
    expect(r.problem).toContain('Whop and Paddle need a public https address.');
    expect(urlReach('http://[::1]:1')!.host).toBe('::1');
    expect(urlReach('https://hooks.example.com')!.problem).toBeNull();
    expect(urlReach('http://hooks.example.com')!.problem).toContain('plain http');
  });

  it('has nothing to say about an empty URL, and calls garbage invalid', () => {
    expect(urlReach('')).toBeNull();
    expect(urlReach(null)).toBeNull();
    expect(reach('hooks.example.com')).toBe('invalid');
    expect(reach('ftp://hooks.example.com')).toBe('invalid');
  });
});

describe('providersReach', () => {
  it('is true only for a public https address', () => {
    expect(providersReach('https://hooks.example.com')).toBe(true);
    expect(providersReach('http://hooks.example.com')).toBe(false);
    expect(providersReach('https://192.168.0.2')).toBe(false);
    expect(providersReach(null)).toBe(false);
  });
});
