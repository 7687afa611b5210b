// Whether a public URL can be reached by Whop and Paddle at all. A URL on this computer
// (127.0.0.1, ::1, localhost), on a private network (10/8, 172.16/12, 192.168/16, 169.254/16,
// fc00::/7…) or under a local-only name (.local) answers "Test delivery path" from this computer,
// yet no provider can ever deliver to it; a plain-http address is refused by the providers too.

export type Reach = 'public' | 'plain-http' | 'loopback' | 'private' | 'local-name' | 'invalid';

export interface UrlReach {
  reach: Reach;
  /** The host as the URL names it (IPv6 without brackets). */
  host: string;
  /** Why providers cannot deliver there, as a sentence; null for a public https address. */
  problem: string | null;
}

const NEEDS = 'Whop and Paddle need a public https address.';

/** Dotted-quad IPv4 as four numbers, or null. The URL parser has already normalized the forms. */
function ipv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((n) => n <= 255) ? parts : null;
}

function ipv4Reach([a, b]: number[]): Reach {
  if (a === 127 || a === 0) return 'loopback';
  if (a === 10) return 'private';
  if (a === 172 && b >= 16 && b <= 31) return 'private';
  if (a === 192 && b === 168) return 'private';
  if (a === 169 && b === 254) return 'private'; // link-local
  if (a === 100 && b >= 64 && b <= 127) return 'private'; // carrier-grade NAT, Tailscale's own range
  return 'public';
}

/** An IPv6 address as eight 16-bit groups, or null. */
function ipv6(host: string): number[] | null {
  if (!host.includes(':')) return null;
  let text = host;
  // A trailing dotted IPv4 (::ffff:1.2.3.4) as two groups.
  const tail = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (tail) {
    const v4 = ipv4(tail[1]);
    if (!v4) return null;
    text =
      text.slice(0, -tail[1].length) + ((v4[0] << 8) | v4[1]).toString(16) + ':' + ((v4[2] << 8) | v4[3]).toString(16);
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  return groups.map((g) => parseInt(g, 16));
}

function ipv6Reach(g: number[]): Reach {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(7) && (g[7] === 1 || g[7] === 0)) return 'loopback'; // ::1, ::
  if (zeroUpTo(5) && g[5] === 0xffff) return ipv4Reach([g[6] >> 8, g[6] & 0xff]); // ::ffff:a.b.c.d
  if ((g[0] & 0xfe00) === 0xfc00) return 'private'; // fc00::/7 unique local
  if ((g[0] & 0xffc0) === 0xfe80) return 'private'; // fe80::/10 link-local
  return 'public';
}

const LOCAL_SUFFIXES = ['.local', '.lan', '.internal', '.home.arpa', '.localdomain'];

function nameReach(host: string): Reach {
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  if (LOCAL_SUFFIXES.some((s) => host.endsWith(s))) return 'local-name';
  if (!host.includes('.')) return 'local-name'; // a bare machine name
  return 'public';
}

/** How a URL reaches this app, or null for an empty one. */
export function urlReach(raw: string | null | undefined): UrlReach | null {
  const text = (raw ?? '').trim();
  if (!text) return null;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return { reach: 'invalid', host: '', problem: 'This is not a full URL such as https://hooks.example.com.' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return { reach: 'invalid', host: u.hostname, problem: 'The URL must start with https://.' };
  const host = u.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  const v4 = ipv4(host);
  const v6 = v4 ? null : ipv6(host);
  let reach: Reach = v4 ? ipv4Reach(v4) : v6 ? ipv6Reach(v6) : nameReach(host);
  if (reach === 'public' && u.protocol === 'http:') reach = 'plain-http';
  return { reach, host, problem: problemOf(reach, host) };
}

function problemOf(reach: Reach, host: string): string | null {
  switch (reach) {
    case 'loopback':
      return `${host} is this computer's own address: a test through it only proves this computer reaches itself. ${NEEDS}`;
    case 'private':
      return `${host} is a private network address: a test through it only proves this computer reaches itself, and no provider can reach it. ${NEEDS}`;
    case 'local-name':
      return `${host} is a name only your own network knows: a test through it only proves this computer reaches itself. ${NEEDS}`;
    case 'plain-http':
      return `This address is plain http: ${NEEDS} Put TLS in front of it (a tunnel or a reverse proxy with a certificate).`;
    default:
      return null;
  }
}

/** Whether a provider can deliver there: a public https address. */
export function providersReach(raw: string | null | undefined): boolean {
  return urlReach(raw)?.reach === 'public';
}
