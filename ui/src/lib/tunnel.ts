// The tunnel form (Settings → Where providers send webhooks) as plain data, and the
// `PUT /api/settings` body it turns into (docs/API.md "Tunnel"). The API's rule for every tunnel
// field: absent keeps the saved value, `null` clears it. So the update carries only what the
// user changed, and a secret only when one was typed (or `null` after an explicit "Clear"):
// re-saving never wipes a stored secret.

import type { Settings, SettingsUpdate, TunnelBackend, TunnelState, TunnelStatus } from './types';
import { publicUrlProblem } from './validation';

/** bore's control port: the server listens on it itself, so it cannot be the remote port. */
export const BORE_CONTROL_PORT = 7835;

export const BACKEND_NAMES: Record<TunnelBackend, string> = {
  cloudflared: 'Cloudflare quick tunnel',
  ngrok: 'ngrok',
  bore: 'bore',
  manual: 'Manual URL',
  none: 'No tunnel',
};

export const STATE_LABELS: Record<TunnelState, string> = {
  off: 'off',
  starting: 'starting',
  up: 'up',
  down: 'down',
};

export interface TunnelForm {
  backend: TunnelBackend;
  /** The manual backend's URL. */
  publicUrl: string;
  /** A newly typed authtoken; empty keeps the stored one. */
  ngrokToken: string;
  /** "Clear" was pressed for the stored authtoken. */
  ngrokTokenClear: boolean;
  ngrokDomain: string;
  boreHost: string;
  /** The remote port as typed; empty means 0 (any free port). */
  borePort: string;
  /** A newly typed secret; empty keeps the stored one. */
  boreSecret: string;
  /** "Clear" was pressed for the stored secret. */
  boreSecretClear: boolean;
  borePublicUrl: string;
}

/** The form as the saved settings fill it. Secrets are never sent back, so they start empty. */
export function formFrom(s: Settings | null | undefined): TunnelForm {
  const t = s?.tunnel;
  return {
    backend: t?.backend ?? 'none',
    // The API reveals the manual URL only while it is the effective one.
    publicUrl: s?.public_url_source === 'settings' ? (s.public_url ?? '') : '',
    ngrokToken: '',
    ngrokTokenClear: false,
    ngrokDomain: t?.ngrok?.domain ?? '',
    boreHost: t?.bore?.host ?? '',
    borePort: String(t?.bore?.port ?? 0),
    boreSecret: '',
    boreSecretClear: false,
    borePublicUrl: t?.bore?.public_url ?? '',
  };
}

/** `""` → 0; a whole number 0..=65535 other than the control port; else undefined. */
export function parseBorePort(raw: string): number | undefined {
  const v = raw.trim();
  if (v === '') return 0;
  if (!/^\d{1,5}$/.test(v)) return undefined;
  const n = Number(v);
  return n <= 65535 && n !== BORE_CONTROL_PORT ? n : undefined;
}

export function borePortProblem(raw: string): string | undefined {
  if (parseBorePort(raw) !== undefined) return undefined;
  if (raw.trim() === String(BORE_CONTROL_PORT))
    return `${BORE_CONTROL_PORT} is bore's control port, which the server itself listens on. Enter another port, or 0 to let the server pick one.`;
  return 'Enter a port from 0 to 65535 (0 lets the bore server pick a free one).';
}

/** What differs between `a` and the saved `b` as the API would store it ("" and null are the same). */
function changed(a: string, b: string | null | undefined): boolean {
  return a.trim() !== (b ?? '').trim();
}

/**
 * The `PUT /api/settings` body for the form, or field errors (keyed like the API's) for what
 * cannot be sent. Only the chosen backend's fields are sent.
 */
export function tunnelUpdate(
  form: TunnelForm,
  saved: Settings | null | undefined,
): { body: SettingsUpdate; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const t: TunnelStatus | undefined = saved?.tunnel;
  const body: SettingsUpdate = t ? { tunnel: { backend: form.backend } } : {};
  const tunnel = body.tunnel;

  if (form.backend === 'manual' || !t) {
    const url = form.publicUrl.trim();
    const problem = publicUrlProblem(url);
    if (problem) errors.public_url = problem;
    const savedUrl = saved?.public_url_source === 'settings' ? saved.public_url : null;
    // Empty with no URL known to be saved: leave it to the API (a URL saved earlier is used,
    // else it says that the manual tunnel needs one). Empty over the saved URL clears it.
    if (url) {
      if (changed(url, savedUrl)) body.public_url = url;
    } else if (savedUrl) body.public_url = null;
  }

  if (tunnel && form.backend === 'ngrok') {
    const ngrok: NonNullable<typeof tunnel.ngrok> = {};
    const token = form.ngrokToken.trim();
    if (token) ngrok.authtoken = token;
    else if (form.ngrokTokenClear) ngrok.authtoken = null;
    if (changed(form.ngrokDomain, t?.ngrok?.domain)) ngrok.domain = form.ngrokDomain.trim() || null;
    if (Object.keys(ngrok).length) tunnel.ngrok = ngrok;
  }

  if (tunnel && form.backend === 'bore') {
    const bore: NonNullable<typeof tunnel.bore> = {};
    if (changed(form.boreHost, t?.bore?.host)) bore.host = form.boreHost.trim() || null;
    const port = parseBorePort(form.borePort);
    if (port === undefined) errors['tunnel.bore.port'] = borePortProblem(form.borePort) ?? '';
    else if (port !== (t?.bore?.port ?? 0)) bore.port = port;
    const secret = form.boreSecret.trim();
    if (secret) bore.secret = secret;
    else if (form.boreSecretClear) bore.secret = null;
    const publicUrl = form.borePublicUrl.trim();
    const problem = publicUrlProblem(publicUrl);
    if (problem) errors['tunnel.bore.public_url'] = problem;
    else if (changed(publicUrl, t?.bore?.public_url)) bore.public_url = publicUrl || null;
    if (Object.keys(bore).length) tunnel.bore = bore;
  }

  return { body, errors };
}

/** Whether saving the form would change anything (or show a field error). */
export function formDirty(form: TunnelForm, saved: Settings | null | undefined): boolean {
  const { body, errors } = tunnelUpdate(form, saved);
  const t = body.tunnel;
  return (
    Object.keys(errors).length > 0 ||
    'public_url' in body ||
    !!t?.ngrok ||
    !!t?.bore ||
    (!!t && t.backend !== saved?.tunnel?.backend)
  );
}

export interface TextPart {
  kind: 'text' | 'code' | 'link';
  text: string;
}

/**
 * Splits the backend's install hint ("... run `sudo dpkg -i x.deb`, see https://...") into
 * text, `code` and links, so it renders as commands to copy and addresses to open.
 */
export function hintParts(hint: string): TextPart[] {
  const parts: TextPart[] = [];
  hint.split('`').forEach((chunk, i) => {
    if (!chunk) return;
    if (i % 2 === 1) {
      parts.push({ kind: 'code', text: chunk });
      return;
    }
    let rest = chunk;
    const url = /https?:\/\/[^\s)]+[^\s).,;:]/;
    for (let m = url.exec(rest); m; m = url.exec(rest)) {
      if (m.index > 0) parts.push({ kind: 'text', text: rest.slice(0, m.index) });
      parts.push({ kind: 'link', text: m[0] });
      rest = rest.slice(m.index + m[0].length);
    }
    if (rest) parts.push({ kind: 'text', text: rest });
  });
  return parts;
}

/**
 * The part of a "cloudflared is not installed" error before the install hint (which is shown on
 * its own): "cloudflared is not installed: there is no executable at /x (FAURYA_CLOUDFLARED)."
 */
export function withoutHint(error: string | null | undefined, hint: string | null | undefined): string | null {
  if (!error) return null;
  const cut = hint ? error.indexOf(hint) : -1;
  const text = (cut >= 0 ? error.slice(0, cut) : error).trim();
  return text || null;
}

/** `text` ending like a sentence, to put another one after it. */
export function sentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** An error from the backend as a sentence: capitalized, unless it starts with a program's name. */
export function capitalized(text: string): string {
  if (/^(cloudflared|ngrok|bore)\b/.test(text)) return text;
  return text.charAt(0).toUpperCase() + text.slice(1);
}
