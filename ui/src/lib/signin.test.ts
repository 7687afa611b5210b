import { describe, expect, it } from 'vitest';
import { badSignInLink, withoutSignInReport } from './signin';

describe('badSignInLink', () => {
  it('reads the token file the server names', () => {
    expect(badSignInLink('?signin=invalid&token_file=%2Fhome%2Fme%2F.local%2Fshare%2Ffaurya%2Fadmin-token')).toEqual({
      tokenFile: '/home/me/.local/share/faurya/admin-token',
    });
  });

  it('says the environment variable when the file is empty', () => {
    expect(badSignInLink('?signin=invalid&token_file=')).toEqual({ tokenFile: null });
    expect(badSignInLink('?signin=invalid')).toEqual({ tokenFile: null });
  });

  it('is nothing without the report', () => {
    expect(badSignInLink('')).toBeNull();
    expect(badSignInLink('?signin=ok')).toBeNull();
  });
});

describe('withoutSignInReport', () => {
  it('drops only the report', () => {
    expect(withoutSignInReport('?signin=invalid&token_file=%2Fx')).toBe('');
    expect(withoutSignInReport('?a=1&signin=invalid&token_file=')).toBe('?a=1');
  });
});
