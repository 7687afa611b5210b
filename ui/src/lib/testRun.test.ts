import { describe, expect, it } from 'vitest';
import { askProviderLabel, failedStepLabel, lastTestLine } from './testRun';
import type { TestRun } from './types';

const now = Date.parse('2026-12-02T16:10:00Z');
const run: TestRun = {
  id: 'test_1',
  connection_id: 'con_1',
  provider: 'whop',
  via: 'faurya',
  ok: false,
  started_at: '2026-12-02T16:06:59Z',
  finished_at: '2026-12-02T16:07:00Z',
  failed_step: 'send',
  message: 'The tunnel is unreachable: https://x.trycloudflare.com did not answer (connection refused).',
  steps: [
    { key: 'public_url', label: 'Public URL', state: 'ok', detail: 'https://x.trycloudflare.com' },
    { key: 'sign', label: "Signed with this connection's secret", state: 'ok', detail: null },
    { key: 'send', label: 'Sent through the public URL', state: 'failed', detail: 'connection refused' },
    { key: 'verify', label: 'Signature verified and stored', state: 'skipped', detail: null },
    { key: 'process', label: 'Parsed into a test payment', state: 'skipped', detail: null },
  ],
  delivery_id: null,
  payment_id: null,
};

describe('lastTestLine', () => {
  it('is null before the first test', () => {
    expect(lastTestLine(null, now)).toBeNull();
    expect(lastTestLine(undefined, now)).toBeNull();
  });

  it('says when the last one passed', () => {
    expect(lastTestLine({ ...run, ok: true, failed_step: null }, now)).toBe('Last test payment passed 3 minutes ago');
  });

  it('names the step a failed one stopped at', () => {
    expect(lastTestLine(run, now)).toBe('Last test payment failed at “Sent through the public URL” · 3 minutes ago');
  });

  it('falls back to the failed step when `failed_step` names none of them', () => {
    expect(failedStepLabel({ ...run, failed_step: 'elsewhere' })).toBe('Sent through the public URL');
    expect(failedStepLabel({ failed_step: null, steps: [] })).toBeNull();
  });
});

describe('askProviderLabel', () => {
  it('names the provider', () => {
    expect(askProviderLabel('whop')).toBe('Ask Whop to send one');
    expect(askProviderLabel('paddle')).toBe('Ask Paddle to send one');
  });
});
