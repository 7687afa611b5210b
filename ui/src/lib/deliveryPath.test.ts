import { describe, expect, it } from 'vitest';
import { deliveryRisks, pathState } from './deliveryPath';
import type { Connection, Settings, TunnelStatus } from './types';

function settings(over: Partial<Settings> = {}, tunnel: Partial<TunnelStatus> | null = {}): Settings {
  return {
    public_url: null,
    public_url_source: null,
    data_dir: '/d',
    public_addr: '127.0.0.1:8787',
    admin_addr: '127.0.0.1:8788',
    version: '0.1.0',
    signature_tolerance_secs: 300,
    ...(tunnel
      ? { tunnel: { backend: 'none', state: 'off', url: null, error: null, updated_at: null, ...tunnel } }
      : {}),
    ...over,
  };
}

function conn(over: Partial<Connection> = {}): Connection {
  return {
    id: 'con_1',
    provider: 'whop',
    environment: 'production',
    account_id: 'biz_1',
    masked_key: '••••1234',
    webhook_id: 'hook_1',
    webhook_url: 'https://old.example/webhooks/whop/con_1',
    created_at: '2026-01-01T00:00:00Z',
    last_delivery_at: null,
    deliveries: 0,
    sync: { state: 'ok', error: null, updated_at: null },
    ...over,
  };
}

const manual = (url: string) =>
  settings({ public_url: url, public_url_source: 'settings' }, { backend: 'manual', state: 'up', url });

describe('pathState', () => {
  it('shows a manual URL as saved, not verified, until a test passes', () => {
    expect(pathState(manual('https://hooks.example.com'), false).label).toBe('saved, not verified');
    expect(pathState(manual('https://hooks.example.com'), true)).toMatchObject({ key: 'verified', tone: 'ok' });
  });

  it('never shows a URL providers cannot reach as up, even after a test', () => {
    for (const url of [
      'http://127.0.0.1:8787',
      'https://192.168.1.2',
      'https://box.local',
      'http://hooks.example.com',
    ]) {
      const s = pathState(manual(url), true);
      expect(s.key, url).toBe('not-public');
      expect(s.tone).not.toBe('ok');
    }
  });

  it('trusts a running tunnel with a public address, and passes other states through', () => {
    const cf = settings(
      { public_url: 'https://a.trycloudflare.com', public_url_source: 'tunnel' },
      { backend: 'cloudflared', state: 'up' },
    );
    expect(pathState(cf, false)).toMatchObject({ key: 'up', tone: 'ok' });
    expect(pathState(settings({}, { backend: 'cloudflared', state: 'down' }), true).key).toBe('down');
    expect(pathState(settings({}, { backend: 'ngrok', state: 'starting' }), true).key).toBe('starting');
    expect(pathState(settings(), false).key).toBe('off');
  });

  it('treats a backend without the tunnel like a manual URL', () => {
    const old = settings({ public_url: 'https://hooks.example.com', public_url_source: 'settings' }, null);
    expect(pathState(old, false).key).toBe('unverified');
    expect(pathState(settings({}, null), false).key).toBe('off');
  });
});

describe('deliveryRisks', () => {
  it('is quiet while no provider is connected', () => {
    expect(deliveryRisks(settings({}, { backend: 'cloudflared', state: 'down', error: 'x' }), [])).toEqual([]);
    expect(deliveryRisks(null, [conn()])).toEqual([]);
  });

  it('reports a down tunnel with a plain reason, the raw error and the fix', () => {
    const s = settings(
      {},
      {
        backend: 'bore',
        state: 'down',
        error: 'failed to connect to 127.0.0.1:7835: Connection refused (os error 111)',
      },
    );
    const [r] = deliveryRisks(s, [conn(), conn({ id: 'con_2', provider: 'paddle' })]);
    expect(r.id).toBe('tunnel-down');
    expect(r.title).toBe('The tunnel is down: Whop and Paddle cannot deliver webhooks');
    expect(r.reason).toMatch(/^Nothing answered at 127\.0\.0\.1:7835: the connection was refused/);
    expect(r.raw).toContain('os error 111');
    expect(r.fix).toEqual({ page: 'settings', label: 'Fix the tunnel' });
  });

  it('says cloudflared is missing without the long install hint', () => {
    const hint = 'Install cloudflared with Homebrew: `brew install cloudflared`.';
    const s = settings(
      {},
      {
        backend: 'cloudflared',
        state: 'down',
        error: `cloudflared is not installed: it was not found on PATH. ${hint}`,
        cloudflared: { installed: false, path: null, install_hint: hint },
      },
    );
    const [r] = deliveryRisks(s, [conn()]);
    expect(r.reason).toMatch(/^cloudflared is not installed on the computer Faurya runs on\./);
    expect(r.reason).not.toContain('brew');
    expect(r.fix.label).toBe('Install cloudflared');
  });

  it('reports a tunnel that keeps failing, no URL at all, and a URL providers cannot reach', () => {
    const failing = settings({}, { backend: 'cloudflared', state: 'starting', error: 'operation timed out' });
    expect(deliveryRisks(failing, [conn()])[0].id).toBe('tunnel-failing');
    expect(deliveryRisks(settings(), [conn()])[0]).toMatchObject({ id: 'no-url', fix: { label: 'Choose a tunnel' } });
    const local = deliveryRisks(manual('http://127.0.0.1:8787'), [conn()]);
    expect(local[0].id).toBe('not-public');
    expect(local[0].reason).toContain('only proves this computer reaches itself');
    // A tunnel just starting (no failure yet) is not an alarm.
    expect(deliveryRisks(settings({}, { backend: 'cloudflared', state: 'starting' }), [conn()])).toEqual([]);
    expect(deliveryRisks(manual('https://hooks.example.com'), [conn()])).toEqual([]);
  });

  it('reports each connection whose webhook could not follow the URL, pointing at Revenue', () => {
    const s = manual('https://hooks.example.com');
    const failed = conn({
      sync: { state: 'failed', error: 'Whop answered 403: missing permission', updated_at: null },
    });
    const risks = deliveryRisks(s, [
      failed,
      conn({ id: 'con_2', sync: { state: 'pending', error: null, updated_at: null } }),
    ]);
    expect(risks).toHaveLength(1);
    expect(risks[0]).toMatchObject({ id: 'sync-con_1', fix: { page: 'revenue' } });
    expect(risks[0].reason).toContain('keeps sending to https://old.example/webhooks/whop/con_1');
  });
});
