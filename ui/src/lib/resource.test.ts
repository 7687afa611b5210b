import { describe, expect, it } from 'vitest';
import { Resource } from './resource.svelte';

/** A fetcher whose answers the test releases one by one. */
function controlled() {
  const pending: ((v: string) => void)[] = [];
  let calls = 0;
  const fetcher = () => {
    calls++;
    return new Promise<string>((resolve) => pending.push(resolve));
  };
  return { fetcher, pending, calls: () => calls };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('Resource', () => {
  it('fetches again when asked during a load, so the last change wins', async () => {
    const f = controlled();
    const r = new Resource(f.fetcher);
    const first = r.load();
    void r.load(); // e.g. `tunnel: up` right after `tunnel: starting`
    expect(f.calls()).toBe(1);
    f.pending[0]('starting');
    await tick();
    expect(f.calls()).toBe(2);
    f.pending[1]('up');
    await first;
    expect(r.data).toBe('up');
  });

  it('an answer older than a value set meanwhile does not overwrite it', async () => {
    const f = controlled();
    const r = new Resource(f.fetcher);
    const loading = r.load();
    r.set('from PUT');
    f.pending[0]('old');
    await tick();
    expect(r.data).toBe('from PUT');
    f.pending[1]('fresh');
    await loading;
    expect(r.data).toBe('fresh');
  });
});
