// "Copy as curl": a command that replays a verified delivery to the public webhook URL with its
// signature headers and the byte-exact body. Only verified deliveries get one: a rejected
// attempt's headers and body are written by anyone on the internet, and a pasted command must
// not be theirs to shape. So the body always travels as base64 (no quoting of sender bytes at
// all), and only known headers with plain values are passed; the command then reads the same in
// bash, zsh and fish.

/** Quote for a POSIX shell: everything inside single quotes is literal. */
export function shellQuote(s: string): string {
  return "'" + s.replace(/'/g, `'\\''`) + "'";
}

/** The headers a provider's delivery is verified and parsed by; nothing else is replayed. */
const REPLAYED = new Set([
  'content-type',
  'user-agent',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'paddle-signature',
  'paddle-version',
]);

/** Values made only of these characters need no escaping in any common shell. */
const PLAIN_VALUE = /^[A-Za-z0-9 ._,;:=/+@()-]{0,1000}$/;

export interface RawBody {
  /** The body as text when it is UTF-8, else null. */
  text: string | null;
  /** The body, byte-exact. */
  base64: string;
}

export function curlCommand(url: string, headers: [string, string][], body: RawBody): string {
  const parts = ['curl -sS -X POST ' + shellQuote(url)];
  for (const [name, value] of headers) {
    if (!REPLAYED.has(name.toLowerCase()) || !PLAIN_VALUE.test(value)) continue;
    parts.push('-H ' + shellQuote(`${name.toLowerCase()}: ${value}`));
  }
  parts.push('--data-binary @-');
  return `printf %s ${shellQuote(body.base64)} | base64 -d | ` + parts.join(' \\\n  ');
}

/** The public URL a delivery was sent to: {public_url}/webhooks/{provider}/{connection_id}. */
export function webhookUrl(publicUrl: string, provider: string, connectionId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/webhooks/${encodeURIComponent(provider)}/${encodeURIComponent(connectionId)}`;
}
