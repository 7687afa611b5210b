import { describe, expect, it } from 'vitest';
import { detectOs, installWays } from './cloudflared';

const UA = {
  mac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  win: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  linux: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  iphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148',
};

describe('detectOs', () => {
  it('prefers userAgentData.platform', () => {
    expect(detectOs({ userAgentData: { platform: 'macOS' }, userAgent: UA.linux })).toBe('macos');
    expect(detectOs({ userAgentData: { platform: 'Windows' } })).toBe('windows');
    expect(detectOs({ userAgentData: { platform: 'Linux' } })).toBe('linux');
  });

  it('reads the user agent otherwise', () => {
    expect(detectOs({ userAgent: UA.mac })).toBe('macos');
    expect(detectOs({ userAgent: UA.win })).toBe('windows');
    expect(detectOs({ userAgent: UA.linux })).toBe('linux');
    expect(detectOs({ userAgent: UA.iphone })).toBeNull();
    expect(detectOs({ userAgent: 'curl/8.0' })).toBeNull();
    expect(detectOs(null)).toBeNull();
  });
});

describe('installWays', () => {
  it('puts the detected system first, with its commands', () => {
    expect(installWays('windows')[0]).toMatchObject({ os: 'windows', name: 'Windows' });
    expect(installWays('windows')[0].steps[0].command).toBe('winget install --id Cloudflare.cloudflared');
    expect(installWays('macos')[0].steps[0].command).toBe('brew install cloudflared');
    const linux = installWays('linux');
    expect(linux.slice(0, 2).map((w) => w.name)).toEqual(['Debian or Ubuntu', 'Other Linux']);
    expect(linux[0].steps.map((s) => s.command)).toEqual([
      'curl -fLo cloudflared.deb https://github.com/cloudflare/cloudflared/releases/latest/download/cloudflared-linux-amd64.deb',
      'sudo dpkg -i cloudflared.deb',
    ]);
  });

  it('lists every system, once, whatever comes first', () => {
    for (const os of ['macos', 'windows', 'linux', null] as const) {
      expect(
        installWays(os)
          .map((w) => w.name)
          .sort(),
      ).toEqual(['Debian or Ubuntu', 'Other Linux', 'Windows', 'macOS'].sort());
    }
  });
});
