// What the tracker sends, seen from both ends: the requests Chromium makes to the event endpoint,
// and the sessions the real server built from them (admin API).
import assert from 'node:assert/strict';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `fn` until it returns something truthy; that value is the answer. */
export async function until(fn, { timeout = 10_000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${message} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`,
      );
    await sleep(interval);
  }
}

/**
 * Every request the page makes to `eventUrl` (attempts included, answered or not), in the order
 * Chromium issued them.
 */
export function watchEvents(page, eventUrl) {
  const requests = [];
  page.on('request', (req) => {
    if (req.url() === eventUrl) requests.push(req);
  });
  const watcher = {
    requests,
    count: () => requests.length,
    /** The parsed JSON bodies, from index `from` on. */
    bodies: (from = 0) => requests.slice(from).map((r) => JSON.parse(r.postData() ?? 'null')),
    /** Wait until `n` requests were made in all; answers their bodies. */
    waitFor: (n, message = `${n} event request(s)`) =>
      until(() => requests.length >= n && watcher.bodies(), { message: `${message}, saw ${requests.length}` }),
  };
  return watcher;
}

/**
 * An init script: records every string written to document.cookie in window.__cookieWrites, so a
 * test sees the attributes the tracker asked for (Chromium reports a cookie set without SameSite
 * as Lax too).
 */
export function recordCookieWrites() {
  const desc = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  window.__cookieWrites = [];
  Object.defineProperty(Document.prototype, 'cookie', {
    configurable: true,
    get() {
      return desc.get.call(this);
    },
    set(value) {
      window.__cookieWrites.push(String(value));
      desc.set.call(this, value);
    },
  });
}

/** The tracker's offline queue in the page's localStorage (an empty list when unset). */
export async function storedQueue(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem('faurya_queue') || '[]'));
}

/** `GET /api/sessions/{id}` once the server has it and `ready(session)` holds. */
export async function sessionWhen(app, sessionId, ready = () => true, message = `session ${sessionId}`) {
  return until(
    async () => {
      const { status, json } = await app.api('GET', `/api/sessions/${encodeURIComponent(sessionId)}`);
      return status === 200 && ready(json) && json;
    },
    { message },
  );
}

/** The session `sessionId` as it appears in `GET /api/sessions?site=…`. */
export async function listedSession(app, siteId, sessionId) {
  return until(
    async () => {
      const { status, json } = await app.api('GET', `/api/sessions?site=${encodeURIComponent(siteId)}`);
      assert.equal(status, 200, `GET /api/sessions?site=${siteId}: ${JSON.stringify(json)}`);
      return json.sessions.find((s) => s.id === sessionId);
    },
    { message: `session ${sessionId} in the list of ${siteId}` },
  );
}

/** The pathname of a landing page given as a path or as a full URL. */
export const pathOf = (urlOrPath) => new URL(urlOrPath, 'http://x').pathname;
