// A founder's site for the tracker tests: small HTML pages served from a loopback port that
// Chromium opens as http://shop.test:PORT/ (its host resolver maps shop.test and *.shop.test to
// 127.0.0.1), so the page's host is not localhost and the tracker runs as on a real site.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { chromium } from 'playwright-core';
import { CHROMIUM } from './browser.mjs';

export const SHOP_HOST = 'shop.test';

/**
 * The User-Agent this Chromium sends when it has a window. Headless Chromium says "HeadlessChrome", which
 * the event endpoint rightly drops as a bot (isbot's patterns).
 */
export function visitorUserAgent() {
  let major = '120';
  try {
    const version = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    major = version.match(/(\d+)\.\d+/)?.[1] ?? major;
  } catch {
    // keep the fallback: only "not a bot" matters
  }
  return `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36`;
}

/**
 * Debian's Chromium as a visitor's browser: shop.test resolving to loopback, navigator.webdriver
 * false (no automation flag) and a User-Agent without "Headless".
 */
export async function launchForShop() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--host-resolver-rules=MAP ${SHOP_HOST} 127.0.0.1, MAP *.${SHOP_HOST} 127.0.0.1`,
      '--disable-blink-features=AutomationControlled',
      `--user-agent=${visitorUserAgent()}`,
    ],
  });
}

/** The snippet a site puts before the tracker so that calls made before it loads are queued. */
export function queueStub(calls = []) {
  return [
    'window.faurya = window.faurya || function () { (window.faurya.q = window.faurya.q || []).push(arguments) };',
    ...calls.map((args) => `faurya(${args.map((a) => JSON.stringify(a)).join(', ')});`),
  ].join('\n');
}

const escapeAttr = (v) => String(v).replace(/&/g, '&amp;').replace(/"/g, '&quot;');

/**
 * Serves the same page for every path: the tracker's script tag (src `scriptSrc`, data-site
 * `siteId`, plus `attrs` set with `serve()`) and optional inline script before it. POST /collect
 * stands for a first-party proxy (`data-api`): it records the body and answers a token.
 * @param {{ scriptSrc: string, siteId: string }} opts
 */
export async function startShopSite({ scriptSrc, siteId }) {
  let page = { attrs: {}, before: '' };
  /** Bodies POSTed to /collect, parsed. */
  const collected = [];
  const server = http.createServer(async (req, res) => {
    const { pathname } = new URL(req.url, 'http://shop');
    if (pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'POST' && pathname === '/collect') {
      let text = '';
      for await (const chunk of req) text += chunk;
      collected.push(JSON.parse(text));
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"token":"tok_from_proxy"}');
      return;
    }
    const attrs = Object.entries({ 'data-site': siteId, ...page.attrs })
      .map(([k, v]) => (v === true ? ` ${k}` : ` ${k}="${escapeAttr(v)}"`))
      .join('');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Shop</title>
${page.before ? `<script>\n${page.before}\n</script>` : ''}
<script defer src="${escapeAttr(scriptSrc)}"${attrs}></script>
</head>
<body>
<h1>Shop</h1>
<p><a href="/pricing">Pricing</a></p>
</body>
</html>
`);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    collected,
    /** `http://<host>:<port><path>`; the host defaults to shop.test. */
    url: (path = '/', host = SHOP_HOST) => `http://${host}:${port}${path}`,
    /**
     * What the next pages carry: extra script attributes (`true` for a bare attribute) and inline
     * script placed before the tracker.
     * @param {{ attrs?: Record<string, string | true>, before?: string }} [next]
     */
    serve: (next = {}) => {
      page = { attrs: next.attrs ?? {}, before: next.before ?? '' };
    },
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}
