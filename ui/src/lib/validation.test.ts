import { describe, expect, it } from 'vitest';
import {
  connectErrorField,
  paddleEnvironmentMismatch,
  paddleFormErrors,
  publicUrlProblem,
  whopFormErrors,
} from './validation';

describe('whopFormErrors', () => {
  it('accepts a plausible key and company', () => {
    expect(whopFormErrors('apik_abc123', 'biz_123')).toEqual({});
  });
  it('flags empty values, Bearer, quotes and a wrong company prefix', () => {
    expect(Object.keys(whopFormErrors('  ', ''))).toEqual(['api_key', 'company_id']);
    expect(whopFormErrors('Bearer abc', 'biz_1').api_key).toMatch(/Bearer/);
    expect(whopFormErrors('"abc"', 'biz_1').api_key).toMatch(/quotes/);
    expect(whopFormErrors('abc', 'comp_1').company_id).toMatch(/biz_/);
  });
});

describe('paddle', () => {
  it('warns about a key from the other environment', () => {
    expect(paddleEnvironmentMismatch('pdl_sdbx_apikey_1', 'production')).toMatch(/sandbox key/);
    expect(paddleEnvironmentMismatch('pdl_live_apikey_1', 'sandbox')).toMatch(/live key/);
    expect(paddleEnvironmentMismatch('pdl_live_apikey_1', 'production')).toBeUndefined();
    expect(paddleEnvironmentMismatch('a'.repeat(50), 'production')).toBeUndefined();
  });
  it('requires a key', () => {
    expect(paddleFormErrors('').api_key).toBeDefined();
  });
});

describe('publicUrlProblem', () => {
  it('accepts http(s) URLs and empty', () => {
    expect(publicUrlProblem('https://a.example.com')).toBeUndefined();
    expect(publicUrlProblem('')).toBeUndefined();
  });
  it('rejects other input', () => {
    expect(publicUrlProblem('a.example.com')).toBeDefined();
    expect(publicUrlProblem('ftp://a.example.com')).toBeDefined();
    expect(publicUrlProblem('https://a.example.com/?x=1')).toBeDefined();
  });
});

describe('connectErrorField', () => {
  it('ties the provider errors a field can fix to that field', () => {
    expect(connectErrorField('provider_unauthorized', 'whop')).toBe('api_key');
    expect(connectErrorField('provider_forbidden', 'paddle')).toBe('api_key');
    expect(connectErrorField('provider_not_found', 'whop')).toBe('company_id');
    expect(connectErrorField('provider_not_found', 'paddle')).toBe('api_key');
    expect(connectErrorField('already_connected', 'whop')).toBe('company_id');
    expect(connectErrorField('provider_timeout', 'whop')).toBeNull();
    expect(connectErrorField('public_url_missing', 'paddle')).toBeNull();
  });
});
