import { describe, expect, it } from 'vitest';
import { plainError } from './netError';

const REFUSED =
  'Could not connect to 127.0.0.1: error sending request for url (http://127.0.0.1:9/healthz): client error (Connect): tcp connect error: Connection refused (os error 111). Check that the tunnel or proxy is running.';

describe('plainError', () => {
  it('turns a refused connection into one sentence and keeps the raw chain', () => {
    const e = plainError(REFUSED);
    expect(e.text).toBe(
      'Nothing answered at 127.0.0.1:9: the connection was refused. The tunnel or proxy is not running, or nothing listens there.',
    );
    expect(e.raw).toBe(REFUSED);
    expect(e.text).not.toContain('os error');
  });

  it('names the host of the tested URL when the text has none', () => {
    expect(
      plainError('tcp connect error: Connection refused (os error 111)', null, 'https://a.example/healthz').text,
    ).toMatch(/^Nothing answered at a\.example:/);
    expect(plainError('Connection refused').text).toMatch(/^Nothing answered at the public URL:/);
    // bore's own words name the server it could not reach.
    expect(plainError('failed to connect to bore.example.com:7835: Connection refused (os error 111)').text).toMatch(
      /^Nothing answered at bore\.example\.com:7835:/,
    );
  });

  it('knows timeouts, DNS, TLS, resets and unreachable networks', () => {
    expect(plainError('error sending request for url (https://x.example/healthz): operation timed out').text).toMatch(
      /^No answer from x\.example in time/,
    );
    expect(plainError('operation timed out').text).toMatch(/^No answer from/);
    expect(
      plainError(
        'error sending request for url (https://nope.trycloudflare.com/healthz): dns error: failed to lookup address information: Name or service not known',
      ).text,
    ).toMatch(/^nope\.trycloudflare\.com could not be found \(DNS\)/);
    expect(plainError('invalid peer certificate: UnknownIssuer').text).toMatch(
      /certificate .* was not accepted \(TLS\)/,
    );
    expect(plainError('connection reset by peer (os error 104)').text).toMatch(/was cut off/);
    expect(plainError('Network is unreachable (os error 101)').text).toMatch(/no route to/);
  });

  it('explains an HTTP status in place of the health check', () => {
    const e = plainError('The public URL answered 404 Not Found instead of Faurya', 404, 'https://h.example/healthz');
    expect(e.text).toBe(
      "h.example answered 404 Not Found: a server is there, but it does not forward to Faurya's public listener.",
    );
    expect(e.raw).toContain('404');
    expect(plainError(null, 502, 'https://h.example/healthz').text).toMatch(/answered 502: the tunnel or proxy is up/);
    expect(plainError(null, 403, 'https://h.example/healthz').text).toMatch(/blocks the request/);
    expect(plainError(null, 418, 'https://h.example/healthz').text).toBe(
      "h.example answered HTTP 418 instead of Faurya's health check.",
    );
  });

  it('keeps a sentence the backend wrote for people', () => {
    const text =
      'Could not point the Whop webhook at the new URL https://b.example/webhooks/whop/con_1: Whop answered 403. Retrying automatically.';
    expect(plainError(text)).toEqual({ text, raw: null });
    expect(plainError('No answer within 10 s. The tunnel may be down or still starting.').raw).toBeNull();
  });

  it('keeps an unknown message as it is, with no details to hide', () => {
    expect(plainError('something answered, but not Faurya')).toEqual({
      text: 'Something answered, but not Faurya',
      raw: null,
    });
    expect(plainError('').text).toBe('The request failed without a reason.');
  });
});
