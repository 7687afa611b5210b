// "Copy as curl": a command that replays a stored delivery to the public webhook URL with every
// header and the byte-exact body.

/** Quote for a POSIX shell: everything inside single quotes is literal. */
export function shellQuote(s: string): string {
  return "'" + s.replace(/'/g, `'\\''`) + "'";
}

// Set by curl itself or meaningless on a new connection.
const SKIPPED = new Set([
  'host',
  'content-length',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'upgrade',
  'expect',
  'proxy-connection',
]);

export interface RawBody {
  /** The body as text when it is UTF-8, else null. */
  text: string | null;
  /** The body, byte-exact. */
  base64: string;
}

export function curlCommand(url: string, headers: [string, string][], body: RawBody): string {
  const parts = ['curl -sS -X POST ' + shellQuote(url)];
  for (const [name, value] of headers) {
    if (SKIPPED.has(name.toLowerCase())) continue;
    parts.push('-H ' + shellQuote(`${name}: ${value}`));
  }
  // --data-raw sends the argument exactly (no '@file' reading, no newline stripping). A shell
  // argument cannot hold a NUL byte, so bodies that are not plain text go through base64.
  const text = body.text;
  if (text !== null && !text.includes('\0')) {
    parts.push('--data-raw ' + shellQuote(text));
    return parts.join(' \\\n  ');
  }
  parts.push('--data-binary @-');
  return `printf %s ${shellQuote(body.base64)} | base64 -d | ` + parts.join(' \\\n  ');
}

/** The public URL a delivery was sent to: {public_url}/webhooks/{provider}/{connection_id}. */
export function webhookUrl(publicUrl: string, provider: string, connectionId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/webhooks/${encodeURIComponent(provider)}/${encodeURIComponent(connectionId)}`;
}
