// How to install cloudflared, per operating system, with the founder's own system first. It
// must go on the computer Faurya runs on; in the desktop app (and usually with `faurya serve`)
// that is the computer this browser runs on, so the browser's system is the best guess.

export type OsId = 'macos' | 'windows' | 'linux';

export interface InstallStep {
  /** What the step does, as a sentence (before the command). */
  text: string;
  /** A command to paste into a terminal. */
  command?: string;
}

export interface InstallWay {
  os: OsId;
  /** "macOS", "Windows", "Debian or Ubuntu", "Other Linux". */
  name: string;
  steps: InstallStep[];
}

export const RELEASES_URL = 'https://github.com/cloudflare/cloudflared/releases/latest';

const WAYS: InstallWay[] = [
  {
    os: 'macos',
    name: 'macOS',
    steps: [{ text: 'With Homebrew, in Terminal:', command: 'brew install cloudflared' }],
  },
  {
    os: 'windows',
    name: 'Windows',
    steps: [
      { text: 'With winget, in PowerShell or Command Prompt:', command: 'winget install --id Cloudflare.cloudflared' },
    ],
  },
  {
    os: 'linux',
    name: 'Debian or Ubuntu',
    steps: [
      {
        text: 'Download the package (on ARM, use cloudflared-linux-arm64.deb):',
        command: `curl -fLo cloudflared.deb ${RELEASES_URL}/download/cloudflared-linux-amd64.deb`,
      },
      { text: 'Install it:', command: 'sudo dpkg -i cloudflared.deb' },
    ],
  },
  {
    os: 'linux',
    name: 'Other Linux',
    steps: [
      {
        text: 'Download the binary (on ARM, use cloudflared-linux-arm64):',
        command: `curl -fLo cloudflared ${RELEASES_URL}/download/cloudflared-linux-amd64`,
      },
      {
        text: 'Put it where Faurya looks for it:',
        command: 'sudo install -m 755 cloudflared /usr/local/bin/cloudflared',
      },
    ],
  },
];

export const OS_NAMES: Record<OsId, string> = { macos: 'macOS', windows: 'Windows', linux: 'Linux' };

/** What navigator tells of the system. */
export interface NavigatorLike {
  userAgentData?: { platform?: string } | null;
  userAgent?: string;
  platform?: string;
}

/** The browser's operating system, from userAgentData when there is one, else the user agent. */
export function detectOs(nav: NavigatorLike | null | undefined): OsId | null {
  if (!nav) return null;
  const text = [nav.userAgentData?.platform, nav.platform, nav.userAgent].filter(Boolean).join(' ').toLowerCase();
  if (/iphone|ipad|android/.test(text)) return null; // a phone or tablet: no guess
  if (/mac ?os|macintosh|macintel|\bmac\b/.test(text)) return 'macos';
  if (/windows|win32|win64/.test(text)) return 'windows';
  if (/linux|x11|ubuntu|debian|fedora|cros/.test(text)) return 'linux';
  return null;
}

/** Every way to install it, the ones for `os` first (the others keep their order). */
export function installWays(os: OsId | null): InstallWay[] {
  if (!os) return WAYS;
  return [...WAYS.filter((w) => w.os === os), ...WAYS.filter((w) => w.os !== os)];
}
