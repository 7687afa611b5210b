import { describe, expect, it } from 'vitest';
import { capitalized, formDirty, formFrom, hintParts, parseBorePort, tunnelUpdate, withoutHint } from './tunnel';
import type { Settings, TunnelStatus } from './types';

function settings(tunnel: Partial<TunnelStatus> = {}, extra: Partial<Settings> = {}): Settings {
  return {
    public_url: null,
    public_url_source: null,
    data_dir: '/data',
    public_addr: '127.0.0.1:8787',
    admin_addr: '127.0.0.1:8788',
    version: '0.1.0',
    signature_tolerance_secs: 300,
    tunnel: {
      backend: 'none',
      state: 'off',
      url: null,
      error: null,
      updated_at: null,
      cloudflared: { installed: true, path: '/usr/bin/cloudflared', install_hint: 'hint' },
      ngrok: { authtoken_set: false, masked_authtoken: null, domain: null },
      bore: { host: null, port: 0, secret_set: false, public_url: null },
      ...tunnel,
    },
    ...extra,
  };
}

describe('bore remote port', () => {
  it('is 0 (any free port) by default and refuses the control port', () => {
    expect(formFrom(settings()).borePort).toBe('0');
    expect(parseBorePort('')).toBe(0);
    expect(parseBorePort(' 4000 ')).toBe(4000);
    expect(parseBorePort('65535')).toBe(65535);
    expect(parseBorePort('65536')).toBeUndefined();
    expect(parseBorePort('7835')).toBeUndefined();
    expect(parseBorePort('-1')).toBeUndefined();
    expect(parseBorePort('4e3')).toBeUndefined();
  });

  it('saves bore with its defaults: host only, no port, no secret', () => {
    const s = settings();
    const form = { ...formFrom(s), backend: 'bore' as const, boreHost: 'bore.example.com' };
    expect(tunnelUpdate(form, s)).toEqual({
      body: { tunnel: { backend: 'bore', bore: { host: 'bore.example.com' } } },
      errors: {},
    });
  });

  it('explains 7835', () => {
    const s = settings();
    const form = { ...formFrom(s), backend: 'bore' as const, boreHost: 'b.example.com', borePort: '7835' };
    expect(tunnelUpdate(form, s).errors['tunnel.bore.port']).toMatch(/control port/);
  });
});

describe('secrets', () => {
  const s = settings(
    { backend: 'bore', bore: { host: 'bore.example.com', port: 4000, secret_set: true, public_url: null } },
    {},
  );

  it('are left alone when nothing was typed, so re-saving keeps them', () => {
    const form = { ...formFrom(s), borePublicUrl: 'https://hooks.example.com' };
    const { body } = tunnelUpdate(form, s);
    expect(body).toEqual({ tunnel: { backend: 'bore', bore: { public_url: 'https://hooks.example.com' } } });
    expect(body.tunnel?.bore && 'secret' in body.tunnel.bore).toBe(false);
  });

  it('are sent when typed, and cleared only on purpose', () => {
    expect(tunnelUpdate({ ...formFrom(s), boreSecret: ' s3cret ' }, s).body.tunnel?.bore).toEqual({ secret: 's3cret' });
    expect(tunnelUpdate({ ...formFrom(s), boreSecretClear: true }, s).body.tunnel?.bore).toEqual({ secret: null });
  });

  it('ngrok: the authtoken only when typed, the domain when changed', () => {
    const n = settings({
      backend: 'ngrok',
      ngrok: { authtoken_set: true, masked_authtoken: '••••abcd', domain: 'acme.ngrok.app' },
    });
    expect(tunnelUpdate(formFrom(n), n).body).toEqual({ tunnel: { backend: 'ngrok' } });
    expect(formDirty(formFrom(n), n)).toBe(false);
    expect(tunnelUpdate({ ...formFrom(n), ngrokDomain: '' }, n).body.tunnel?.ngrok).toEqual({ domain: null });
    expect(tunnelUpdate({ ...formFrom(n), ngrokToken: 'tok_123456789' }, n).body.tunnel?.ngrok).toEqual({
      authtoken: 'tok_123456789',
    });
    expect(tunnelUpdate({ ...formFrom(n), ngrokTokenClear: true }, n).body.tunnel?.ngrok).toEqual({ authtoken: null });
  });

  it('only the chosen backend is sent', () => {
    const form = { ...formFrom(s), backend: 'cloudflared' as const, boreSecretClear: true, ngrokToken: 'x' };
    expect(tunnelUpdate(form, s).body).toEqual({ tunnel: { backend: 'cloudflared' } });
  });
});

describe('manual', () => {
  it('sends the URL with the backend, once', () => {
    const s = settings();
    const form = { ...formFrom(s), backend: 'manual' as const, publicUrl: 'http://127.0.0.1:8787' };
    expect(tunnelUpdate(form, s).body).toEqual({ tunnel: { backend: 'manual' }, public_url: 'http://127.0.0.1:8787' });
    const saved = settings(
      { backend: 'manual', state: 'up', url: 'http://127.0.0.1:8787' },
      { public_url: 'http://127.0.0.1:8787', public_url_source: 'settings' },
    );
    expect(formFrom(saved).publicUrl).toBe('http://127.0.0.1:8787');
    expect(formDirty(formFrom(saved), saved)).toBe(false);
    expect(tunnelUpdate({ ...formFrom(saved), publicUrl: '' }, saved).body.public_url).toBeNull();
  });

  it('checks the URL first', () => {
    const s = settings();
    const form = { ...formFrom(s), backend: 'manual' as const, publicUrl: 'hooks.example.com' };
    expect(tunnelUpdate(form, s).errors.public_url).toBeDefined();
  });

  it('without tunnel support, it is just the public URL', () => {
    const s = { ...settings(), tunnel: undefined };
    expect(tunnelUpdate({ ...formFrom(s), publicUrl: 'https://h.example.com' }, s).body).toEqual({
      public_url: 'https://h.example.com',
    });
  });
});

describe('install hint', () => {
  const hint =
    'Install cloudflared: download it from https://github.com/cloudflare/cloudflared/releases/latest and run `sudo dpkg -i cloudflared-linux-amd64.deb`, or (https://pkg.cloudflare.com).';

  it('becomes text, commands and links', () => {
    const parts = hintParts(hint);
    expect(parts.filter((p) => p.kind === 'code').map((p) => p.text)).toEqual([
      'sudo dpkg -i cloudflared-linux-amd64.deb',
    ]);
    expect(parts.filter((p) => p.kind === 'link').map((p) => p.text)).toEqual([
      'https://github.com/cloudflare/cloudflared/releases/latest',
      'https://pkg.cloudflare.com',
    ]);
    expect(parts.map((p) => p.text).join('')).toBe(hint.replace(/`/g, ''));
  });

  it('is cut from the error that repeats it', () => {
    expect(withoutHint(`cloudflared is not installed: it was not found on PATH. ${hint}`, hint)).toBe(
      'cloudflared is not installed: it was not found on PATH.',
    );
    expect(withoutHint('other', hint)).toBe('other');
    expect(withoutHint(null, hint)).toBeNull();
  });
});

describe('capitalized', () => {
  it('capitalizes errors but not program names', () => {
    expect(capitalized('could not connect')).toBe('Could not connect');
    expect(capitalized('cloudflared exited')).toBe('cloudflared exited');
  });
});
