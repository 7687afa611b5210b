// The tracking script's install snippets. The plain one comes from GET /api/sites/{id}/install;
// these build the first-party proxy variant (the script and the event endpoint served from the
// founder's own domain) and the Next.js rewrites that make it work.

import type { Snippet } from './snippets';

/** Where the proxy serves Faurya on the founder's site; a prefix keeps clear of their own /api. */
export const PROXY_PREFIX = '/faurya';

function attr(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** `<script defer src=… data-site=… [data-…]></script>` */
export function scriptTag(src: string, siteId: string, extra: Record<string, string> = {}): string {
  const attrs = [`defer`, `src="${attr(src)}"`, `data-site="${attr(siteId)}"`];
  for (const [k, v] of Object.entries(extra)) attrs.push(`data-${k}="${attr(v)}"`);
  return `<script ${attrs.join(' ')}></script>`;
}

function cleanPrefix(prefix: string): string {
  const p = '/' + prefix.replace(/^\/+|\/+$/g, '');
  return p === '/' ? '' : p;
}

/** The script tag for a site that proxies Faurya under `prefix` on its own domain. */
export function proxySnippet(siteId: string, prefix = PROXY_PREFIX): string {
  const p = cleanPrefix(prefix);
  return scriptTag(`${p}/js/script.js`, siteId, { api: `${p}/api/event` });
}

/** next.config.js with the two rewrites, pointing at Faurya's public URL (or a placeholder). */
export function nextRewrites(publicUrl: string | null, prefix = PROXY_PREFIX): Snippet {
  const p = cleanPrefix(prefix);
  const target = (publicUrl ?? 'https://faurya.example.com').replace(/\/+$/, '');
  return {
    filename: 'next.config.js',
    language: 'JavaScript (Next.js)',
    code: `// Serve Faurya's script and event endpoint from your own domain.
// When Faurya's public address changes, update FAURYA_URL where
// you deploy: the script tag on your pages stays the same.
const FAURYA_URL =
  process.env.FAURYA_URL ?? "${target}";

/** @type {import('next').NextConfig} */
const nextConfig = {
  async rewrites() {
    return [
      {
        source: "${p}/js/script.js",
        destination: \`\${FAURYA_URL}/js/script.js\`,
      },
      {
        source: "${p}/api/event",
        destination: \`\${FAURYA_URL}/api/event\`,
      },
    ];
  },
};

module.exports = nextConfig;
`,
  };
}
