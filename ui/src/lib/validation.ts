// Client-side hints for the connect forms. The API validates again and its 422 `fields`
// answers are shown at the same fields; these only catch the obvious before a round trip.

import type { Environment } from './types';

export type FieldErrors = Record<string, string>;

function keyProblem(raw: string, provider: string): string | undefined {
  const v = raw.trim();
  if (!v) return `Paste the ${provider} API key.`;
  if (/^bearer\s/i.test(v)) return 'Paste the key without the word "Bearer".';
  if (/^["'`]|["'`]$/.test(v)) return 'Paste the key without quotes.';
  if (/\s/.test(v)) return 'The key contains spaces or line breaks; copy it again.';
  return undefined;
}

export function whopFormErrors(apiKey: string, companyId: string): FieldErrors {
  const errors: FieldErrors = {};
  const k = keyProblem(apiKey, 'Whop');
  if (k) errors.api_key = k;
  const c = companyId.trim();
  if (!c) errors.company_id = 'Enter the Whop Company ID (it starts with biz_).';
  else if (!c.startsWith('biz_'))
    errors.company_id = 'A Whop Company ID starts with biz_. Find it in the Whop dashboard URL or settings.';
  return errors;
}

export function paddleFormErrors(apiKey: string): FieldErrors {
  const errors: FieldErrors = {};
  const k = keyProblem(apiKey, 'Paddle');
  if (k) errors.api_key = k;
  return errors;
}

/**
 * A warning (not an error: older Paddle keys carry no prefix) when the key's prefix names the
 * other environment than the one chosen.
 */
export function paddleEnvironmentMismatch(apiKey: string, env: Environment): string | undefined {
  const v = apiKey.trim();
  if (env === 'production' && v.startsWith('pdl_sdbx_'))
    return 'This looks like a sandbox key (pdl_sdbx_…), but Live is selected. Paddle will reject it; choose Sandbox or paste a live key.';
  if (env === 'sandbox' && v.startsWith('pdl_live_'))
    return 'This looks like a live key (pdl_live_…), but Sandbox is selected. Paddle will reject it; choose Live or paste a sandbox key.';
  return undefined;
}

export function publicUrlProblem(raw: string): string | undefined {
  const v = raw.trim();
  if (!v) return undefined; // empty clears it
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'Enter a full URL such as https://hooks.example.com.';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'The URL must start with https:// (or http://).';
  if (u.search || u.hash) return 'Leave out the query (?…) and fragment (#…).';
  return undefined;
}

/**
 * The form field a failed connect is about, for errors that are not field errors: the provider
 * refused the key (wrong, or without the permission), or found no such company, or the account
 * is connected already. Null when it is about none of them (a timeout, the public URL…).
 */
export function connectErrorField(code: string, provider: 'whop' | 'paddle'): 'api_key' | 'company_id' | null {
  if (code === 'provider_unauthorized' || code === 'provider_forbidden') return 'api_key';
  if (code === 'provider_not_found' || code === 'already_connected')
    return provider === 'whop' ? 'company_id' : 'api_key';
  return null;
}
