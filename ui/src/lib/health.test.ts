import { describe, expect, it } from 'vitest';
import { reportsStore, storeProblem } from './health';

describe('storeProblem', () => {
  it('is null while the store takes writes', () => {
    expect(storeProblem({ store: { writable: true, error: null, since: null } })).toBeNull();
  });

  it('gives the reason and since when while it does not', () => {
    expect(
      storeProblem({ store: { writable: false, error: 'database or disk is full', since: '2026-12-02T09:41:00Z' } }),
    ).toEqual({ reason: 'database or disk is full', since: '2026-12-02T09:41:00Z' });
  });

  it('has a reason even when the backend gives none', () => {
    expect(storeProblem({ store: { writable: false, error: null, since: null } })).toEqual({
      reason: 'the database refuses writes',
      since: null,
    });
    expect(storeProblem({ store: { writable: false, error: '  ', since: '' } })?.since).toBeNull();
  });

  it('shows nothing for an older backend without `store`, or no answer', () => {
    expect(storeProblem({})).toBeNull();
    expect(storeProblem(null)).toBeNull();
    expect(storeProblem(undefined)).toBeNull();
    // A partial answer is not a problem: only an explicit `writable: false` is.
    expect(storeProblem({ store: {} as never })).toBeNull();
  });
});

describe('reportsStore', () => {
  it('tells a backend with the store (and backups) from an older one', () => {
    expect(reportsStore({ store: { writable: true, error: null, since: null } })).toBe(true);
    expect(reportsStore({ store: { writable: false, error: 'x', since: null } })).toBe(true);
    expect(reportsStore({})).toBe(false);
    expect(reportsStore(null)).toBe(false);
  });
});
