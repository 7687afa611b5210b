// Wording for test payments (POST /api/connections/{id}/test-payment): the line under a
// connection's buttons ("Last test payment passed 3 minutes ago"), the choice of who sends it,
// and each step's mark in the checklist.

import { formatRelative } from './time';
import { providerName, type Provider, type TestRun, type TestStepState } from './types';

/** "Ask Whop to send one" / "Ask Paddle to send one": the second way to run a test. */
export function askProviderLabel(provider: Provider): string {
  return `Ask ${providerName(provider)} to send one`;
}

/** The step a run stopped at, as its label ("Sent through the public URL"), or null. */
export function failedStepLabel(run: Pick<TestRun, 'failed_step' | 'steps'>): string | null {
  const step = run.steps.find((s) => s.key === run.failed_step) ?? run.steps.find((s) => s.state === 'failed');
  return step?.label ?? null;
}

/**
 * The connection's last test in one line: "Last test payment passed 3 minutes ago", or "Last test
 * payment failed at “Sent through the public URL” · 3 minutes ago"; null before the first.
 */
export function lastTestLine(run: TestRun | null | undefined, now = Date.now()): string | null {
  if (!run) return null;
  const when = formatRelative(run.finished_at ?? run.started_at, now);
  if (run.ok) return `Last test payment passed ${when}`;
  const at = failedStepLabel(run);
  return at ? `Last test payment failed at “${at}” · ${when}` : `Last test payment failed ${when}`;
}

/** A step's mark in the checklist: what is seen, and what a screen reader says instead. */
export const STEP_MARKS: Record<TestStepState, { symbol: string; word: string }> = {
  ok: { symbol: '✓', word: 'done' },
  failed: { symbol: '✗', word: 'failed' },
  skipped: { symbol: '—', word: 'skipped' },
};
