import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError } from './api';

function answer(status: number, body: unknown) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })),
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('request errors', () => {
  it('turns a bad query parameter into a field error', async () => {
    answer(422, {
      error: { code: 'invalid_input', message: 'Some fields need fixing.', fields: { from: 'Use an RFC 3339 time.' } },
    });
    const err = await api.payments({ from: 'yesterday' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(422);
    expect((err as ApiError).field('from')).toBe('Use an RFC 3339 time.');
  });

  it('keeps `fields` of a 422 as they are', async () => {
    answer(422, {
      error: { code: 'invalid_input', message: 'Some fields need fixing.', fields: { api_key: 'Paste it.' } },
    });
    const err = (await api
      .connectWhop({ api_key: '', company_id: 'biz_1', environment: 'production' })
      .catch((e: unknown) => e)) as ApiError;
    expect(err.fields).toEqual({ api_key: 'Paste it.' });
  });

  it('sends the date range as `from` and `to`', async () => {
    answer(200, { payments: [], next_cursor: null });
    await api.payments({ provider: 'whop', from: '2026-03-01T23:00:00Z', to: '2026-03-08T23:00:00Z' });
    const url = (fetch as unknown as { mock: { calls: [string][] } }).mock.calls[0][0];
    expect(url).toBe('/api/payments?provider=whop&from=2026-03-01T23%3A00%3A00Z&to=2026-03-08T23%3A00%3A00Z');
  });
});

describe('issue 13 endpoints', () => {
  it('takes a 204 without a body as done (removing a test payment)', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(null, { status: 204 })),
    );
    await expect(api.removeTestPayment(7)).resolves.toBeUndefined();
    const [url, init] = (fetch as unknown as { mock: { calls: [string, RequestInit][] } }).mock.calls[0];
    expect(url).toBe('/api/payments/7');
    expect(init.method).toBe('DELETE');
  });

  it('removes every test payment with source=test and answers how many', async () => {
    answer(200, { removed: 3 });
    await expect(api.removeAllTestPayments()).resolves.toBe(3);
    const [url, init] = (fetch as unknown as { mock: { calls: [string, RequestInit][] } }).mock.calls[0];
    expect(url).toBe('/api/payments?source=test');
    expect(init.method).toBe('DELETE');
  });

  it('sends the test payment, the forward URL and Forward again as the contract says', async () => {
    answer(200, {});
    await api.sendTestPayment('con_1', 'provider');
    await api.setForwardUrl('con_1', null);
    await api.forwardEvent('d_12');
    await api.forwardEvent('d_12', 'http://localhost:4000/hook');
    const calls = (fetch as unknown as { mock: { calls: [string, RequestInit][] } }).mock.calls;
    expect(calls.map(([u, i]) => [i.method, u, i.body])).toEqual([
      ['POST', '/api/connections/con_1/test-payment', '{"via":"provider"}'],
      ['PATCH', '/api/connections/con_1', '{"forward_url":null}'],
      ['POST', '/api/events/d_12/forward', '{}'],
      ['POST', '/api/events/d_12/forward', '{"url":"http://localhost:4000/hook"}'],
    ]);
  });
});
