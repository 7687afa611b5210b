// A network failure as one plain sentence. The backend reports what its HTTP client said, e.g.
// "error sending request for url (https://x/healthz): client error (Connect): tcp connect error:
// Connection refused (os error 111)"; the founder needs to know what it means and what to check.
// The raw text stays available behind a "Details" toggle.

export interface PlainError {
  /** One sentence a founder can act on. */
  text: string;
  /** The raw error, when `text` replaces it (shown behind "Details"). */
  raw: string | null;
}

/** The host of the first URL in `text`, or of `url`, or the `host:port` it could not connect to. */
function hostIn(text: string, url?: string | null): string | null {
  for (const candidate of [url, /https?:\/\/[^\s)'"]+/.exec(text)?.[0]]) {
    if (!candidate) continue;
    try {
      return new URL(candidate).host;
    } catch {
      /* not a URL */
    }
  }
  return /\b(?:connect(?:ing)? to|dial(?:ing)?)\s+\[?([\w.:-]+?)\]?(?::\s|[\s,;]|$)/i.exec(text)?.[1] ?? null;
}

const RULES: { test: RegExp; say: (where: string) => string }[] = [
  {
    test: /connection refused|os error (111|61|10061)\b|econnrefused/i,
    say: (w) =>
      `Nothing answered at ${w}: the connection was refused. The tunnel or proxy is not running, or nothing listens there.`,
  },
  {
    test: /timed? ?out|timeout|deadline has elapsed|no answer within|os error (110|60|10060)\b|etimedout/i,
    say: (w) =>
      `No answer from ${w} in time: the tunnel may be down or still starting, or a firewall drops the traffic.`,
  },
  {
    test: /dns error|failed to lookup|lookup address|resolve|name or service not known|nodename nor servname|no such host|nxdomain|getaddrinfo|enotfound|eai_again|temporary failure in name resolution/i,
    say: (w) =>
      `${w} could not be found (DNS): check the address for typos. A new tunnel's name can take a minute to be known everywhere.`,
  },
  {
    test: /certificate|\btls\b|\bssl\b|handshake|unknownissuer|self[- ]signed|x509|invalid peer/i,
    say: (w) =>
      `The https certificate of ${w} was not accepted (TLS): it is self-signed, expired or made for another name. Whop and Paddle refuse it too.`,
  },
  {
    test: /connection reset|broken pipe|os error (104|54|32)\b|econnreset|connection closed before/i,
    say: (w) => `The connection to ${w} was cut off before Faurya answered: a proxy or tunnel in between dropped it.`,
  },
  {
    test: /network is unreachable|no route to host|host is unreachable|os error (101|113|51|65)\b|enetunreach|ehostunreach/i,
    say: (w) => `This computer has no route to ${w}: check its network connection.`,
  },
];

/** A client library's error chain (not a sentence the backend wrote for people), or a bare phrase. */
function looksRaw(text: string): boolean {
  if (
    /os error \d+|error sending request|tcp connect error|client error \(|dns error|failed to lookup address|invalid peer certificate|unknownissuer|hyper::|reqwest::|io error/i.test(
      text,
    )
  )
    return true;
  return text.length < 80 && !/[.!?]\s/.test(text);
}

/** What an HTTP status in place of Faurya's health check means. */
function statusSentence(status: number, where: string): string {
  if (status === 404)
    return `${where} answered 404 Not Found: a server is there, but it does not forward to Faurya's public listener.`;
  if (status === 502 || status === 503 || status === 504)
    return `${where} answered ${status}: the tunnel or proxy is up, but cannot reach Faurya's public listener behind it.`;
  if (status === 401 || status === 403)
    return `${where} answered ${status}: something in front of Faurya (an access policy, a login page) blocks the request; providers would be blocked too.`;
  return `${where} answered HTTP ${status} instead of Faurya's health check.`;
}

/**
 * One sentence for a failed request. `status` is the HTTP status when one came back; `url` the
 * address that was asked. Text that matches no known failure, or that is a sentence already, is
 * kept as it is (capitalized).
 */
export function plainError(raw: string | null | undefined, status?: number | null, url?: string | null): PlainError {
  const text = (raw ?? '').trim();
  const host = hostIn(text, url);
  const where = host ?? 'the public URL';
  if (status && (status < 200 || status >= 300)) return { text: statusSentence(status, where), raw: text || null };
  if (!text) return { text: 'The request failed without a reason.', raw: null };
  // A sentence the backend wrote for people stays as it is; only raw chains are rewritten.
  const rule = looksRaw(text) ? RULES.find((r) => r.test.test(text)) : undefined;
  if (rule) return { text: rule.say(where), raw: text };
  return { text: text.charAt(0).toUpperCase() + text.slice(1), raw: null };
}
