// The raw-socket engine behind hostile.test.mjs: turns a corpus case into bytes, sends them on a
// plain net.Socket exactly as written (with the pauses it asks for), and records what the server
// did: the HTTP/1 responses it sent, when it closed the connection, or that it did neither.
// No HTTP client library is involved, so nothing normalises, fixes or refuses the hostile bytes.
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Placeholders a case may use in its `send` strings, besides {bodyLength} and {signature}. */
export const VARIABLES = [
  'publicHost',
  'adminHost',
  'whopPath',
  'siteId',
  'writeKey',
  'adminToken',
  'adminPort',
  'now',
  'webhookId',
];

/** Every case of every corpus file, in file order then case order, each with its `file`. */
export function loadCorpus(dir) {
  const cases = [];
  const names = new Set();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const doc = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    const list = Array.isArray(doc) ? doc : doc.cases;
    if (!Array.isArray(list)) throw new Error(`${file}: expected an array of cases or {"cases": [...]}`);
    for (const c of list) {
      validateCase(c, file);
      if (names.has(c.name)) throw new Error(`${file}: duplicate case name ${c.name}`);
      names.add(c.name);
      cases.push({ ...c, file });
    }
  }
  return cases;
}

function validateCase(c, file) {
  const where = `${file}: case ${JSON.stringify(c?.name)}`;
  if (typeof c?.name !== 'string' || !c.name) throw new Error(`${file}: a case without a name`);
  if (!['public', 'admin'].includes(c.listener)) throw new Error(`${where}: listener must be "public" or "admin"`);
  if (!Array.isArray(c.steps)) throw new Error(`${where}: steps must be an array`);
  for (const s of c.steps) validateStep(s, where);
  const e = c.expect;
  if (!e || typeof e.withinMs !== 'number') throw new Error(`${where}: expect.withinMs is required`);
  if (!Array.isArray(e.status) && e.closed !== true)
    throw new Error(`${where}: expect needs status [...] and/or closed: true`);
  if (c.connections !== undefined && !(Number.isInteger(c.connections) && c.connections > 0)) {
    throw new Error(`${where}: connections must be a positive integer`);
  }
  if (c.startAfterMs !== undefined && typeof c.startAfterMs !== 'number')
    throw new Error(`${where}: startAfterMs must be a number`);
  if (c.probe) {
    if (!Array.isArray(c.probe.steps) || !c.probe.expect) throw new Error(`${where}: probe needs steps and expect`);
    for (const s of c.probe.steps) validateStep(s, `${where} (probe)`);
  }
}

function validateStep(s, where) {
  const data = ['send', 'sendBase64', 'sendHex'].filter((k) => k in s);
  if ('pauseMs' in s) {
    if (data.length || 'repeat' in s) throw new Error(`${where}: a pause step has nothing else`);
    return;
  }
  if ('repeat' in s) {
    const r = s.repeat;
    const inner = ['send', 'sendBase64', 'sendHex'].filter((k) => k in r);
    if (inner.length !== 1 || !Number.isInteger(r.times) || r.times < 1) {
      throw new Error(`${where}: repeat needs exactly one of send/sendBase64/sendHex and times >= 1`);
    }
    return;
  }
  if (data.length !== 1) throw new Error(`${where}: a step is one of send, sendBase64, sendHex, repeat, pauseMs`);
}

/** A case is "slow" (run concurrently with the other slow ones) when it may legitimately take seconds. */
export function isSlow(c) {
  return Math.max(c.expect.withinMs, c.expect.closeAfterMs ?? 0) > 3000 || (c.connections ?? 1) > 1;
}

// ---- building the bytes -------------------------------------------------------------------------

function substitute(text, vars) {
  return text.replace(/\{([A-Za-z]+)\}/g, (whole, name) =>
    VARIABLES.includes(name) && name in vars ? String(vars[name]) : whole,
  );
}

function dataOf(step, vars) {
  if ('send' in step) return Buffer.from(substitute(step.send, vars), 'utf8');
  if ('sendBase64' in step) return Buffer.from(step.sendBase64, 'base64');
  return Buffer.from(step.sendHex.replace(/\s+/g, ''), 'hex');
}

/**
 * The case's steps as segments: {bytes} | {pauseMs} | {bytes, times, everyMs?}.
 * {bodyLength} and {signature} are filled in last, from the whole request as it will be sent
 * (the bytes after the first CRLFCRLF are the body), so a case may sign exactly what it sends.
 * @param {(webhookId: string, timestamp: string, body: Buffer) => string} sign
 */
export function buildSegments(steps, vars, sign) {
  let segments = steps.map((s) => {
    if ('pauseMs' in s) return { pauseMs: s.pauseMs };
    if ('repeat' in s) return { bytes: dataOf(s.repeat, vars), times: s.repeat.times, everyMs: s.repeat.everyMs };
    return { bytes: dataOf(s, vars) };
  });
  const late = (b) => b.includes('{bodyLength}') || b.includes('{signature}');
  if (segments.some((s) => s.bytes && late(s.bytes))) {
    if (segments.some((s) => s.pauseMs || s.everyMs))
      throw new Error('{bodyLength}/{signature} need a request without pauses');
    const whole = Buffer.concat(segments.filter((s) => s.bytes).flatMap((s) => Array(s.times ?? 1).fill(s.bytes)));
    const end = whole.indexOf('\r\n\r\n');
    if (end < 0) throw new Error('{bodyLength}/{signature}: the request has no end of headers');
    const body = whole.subarray(end + 4);
    const fill = { bodyLength: String(body.length) };
    if (whole.includes('{signature}')) fill.signature = sign(String(vars.webhookId), String(vars.now), body);
    segments = segments.map((s) => {
      if (!s.bytes || !late(s.bytes)) return s;
      // latin1 round-trips every byte, so raw non-UTF-8 bytes around the placeholder survive.
      const text = s.bytes.toString('latin1').replace(/\{(bodyLength|signature)\}/g, (_, k) => fill[k]);
      return { ...s, bytes: Buffer.from(text, 'latin1') };
    });
  }
  return segments;
}

/** Total bytes the segments send (for the report). */
export function segmentBytes(segments) {
  return segments.reduce((n, s) => n + (s.bytes ? s.bytes.length * (s.times ?? 1) : 0), 0);
}

// ---- one connection -----------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Largest single write: bytes without a pause between them are sent in writes of this size. */
const WRITE_UNIT = 1024 * 1024;

/**
 * Sends `segments` on a fresh connection to 127.0.0.1:port and watches the answer.
 * Sending stops as soon as the server has answered or closed (an attacker's endless body is
 * simulated, not actually sent forever). Times are in ms since the TCP connection was made.
 * After the first response it keeps watching for `settleMs` (more responses, or the close).
 * @param {{ port: number, segments: any[], giveUpMs: number, settleMs?: number, onConnect?: () => void }} o
 * @returns {Promise<Result>}
 *
 * @typedef {{ outcome: 'response'|'closed'|'hung'|'connect-failed', atMs: number|null,
 *   responses: {status: number, atMs: number, headers: Record<string,string>, head: string}[],
 *   closedAtMs: number|null, closeReason: string|null, sentBytes: number, sendDoneMs: number|null,
 *   nonHttp: boolean, received: Buffer, connectMs: number, error?: string }} Result
 */
export function runConnection({ port, segments, giveUpMs, settleMs = 0, onConnect }) {
  return new Promise((resolve) => {
    const started = performance.now();
    let t0 = null;
    const now = () => (t0 === null ? 0 : Math.round(performance.now() - t0));
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.setNoDelay(true);
    const received = [];
    let pending = Buffer.alloc(0);
    /** @type {Result['responses']} */
    const responses = [];
    let reader = { state: 'head' };
    let nonHttp = false;
    let closedAtMs = null;
    let closeReason = null;
    let sentBytes = 0;
    let sendDoneMs = null;
    let finished = false;
    const waiters = new Set(); // wakes the sender and the watcher when something happens
    const poke = () => {
      for (const w of [...waiters]) w();
    };
    const waitEvent = (ms) =>
      new Promise((r) => {
        const done = () => {
          clearTimeout(t);
          waiters.delete(done);
          r();
        };
        const t = setTimeout(done, Math.max(0, ms));
        waiters.add(done);
      });
    const answered = () => responses.length > 0 || closedAtMs !== null;

    const parse = () => {
      for (;;) {
        if (nonHttp) {
          pending = Buffer.alloc(0);
          return;
        }
        if (reader.state === 'head') {
          if (pending.length >= 5 && !pending.subarray(0, 5).equals(Buffer.from('HTTP/'))) {
            nonHttp = true; // e.g. an HTTP/2 SETTINGS frame: not an HTTP/1 answer
            continue;
          }
          const end = pending.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = pending.subarray(0, end).toString('latin1');
          pending = pending.subarray(end + 4);
          const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
          if (!m) {
            nonHttp = true;
            continue;
          }
          const status = Number(m[1]);
          const headers = {};
          for (const line of head.split('\r\n').slice(1)) {
            const i = line.indexOf(':');
            if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
          }
          if (status >= 100 && status < 200) continue; // interim (100 Continue): not an answer
          responses.push({ status, atMs: now(), headers, head: head.split('\r\n')[0] });
          poke();
          if (/chunked/i.test(headers['transfer-encoding'] ?? '')) reader = { state: 'chunked' };
          else if (headers['content-length'] !== undefined)
            reader = { state: 'length', left: Number(headers['content-length']) };
          else reader = { state: 'until-close' };
        } else if (reader.state === 'length') {
          const take = Math.min(reader.left, pending.length);
          pending = pending.subarray(take);
          reader.left -= take;
          if (reader.left > 0) return;
          reader = { state: 'head' };
        } else if (reader.state === 'chunked') {
          const eol = pending.indexOf('\r\n');
          if (eol < 0) return;
          const size = parseInt(pending.subarray(0, eol).toString('latin1'), 16);
          if (Number.isNaN(size)) {
            nonHttp = true;
            continue;
          }
          if (size === 0) {
            if (pending.length < eol + 4) return;
            if (pending.subarray(eol + 2, eol + 4).toString('latin1') === '\r\n') {
              pending = pending.subarray(eol + 4);
            } else {
              const end = pending.indexOf('\r\n\r\n', eol + 2);
              if (end < 0) return;
              pending = pending.subarray(end + 4);
            }
            reader = { state: 'head' };
          } else {
            if (pending.length < eol + 2 + size + 2) return;
            pending = pending.subarray(eol + 2 + size + 2);
          }
        } else {
          pending = Buffer.alloc(0); // body runs until the close
          return;
        }
      }
    };

    sock.on('data', (d) => {
      received.push(d);
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      parse();
    });
    const closed = (reason) => {
      if (closedAtMs !== null) return;
      closedAtMs = now();
      closeReason = reason;
      poke();
    };
    sock.on('end', () => closed('FIN'));
    sock.on('error', (e) => closed(e.code ?? e.message));
    sock.on('close', () => closed('close'));

    const write = (buf) =>
      new Promise((r) => {
        if (sock.destroyed || closedAtMs !== null) return r();
        sentBytes += buf.length;
        if (sock.write(buf)) return r();
        const done = () => {
          sock.off('drain', done);
          sock.off('close', done);
          r();
        };
        sock.on('drain', done);
        sock.on('close', done);
      });

    // Bytes with no pause between them go out in writes of up to WRITE_UNIT, as one client
    // would send them: a server that answers early (413, 431) and closes then still has its
    // answer read here instead of the test tripping over its own later writes (EPIPE).
    const send = async () => {
      let run = [];
      let runLength = 0;
      const flush = async () => {
        if (!runLength) return;
        const buf = run.length === 1 ? run[0] : Buffer.concat(run, runLength);
        run = [];
        runLength = 0;
        await write(buf);
      };
      const add = async (buf) => {
        run.push(buf);
        runLength += buf.length;
        if (runLength >= WRITE_UNIT) await flush();
      };
      const pause = async (ms) => {
        const until = performance.now() + ms;
        while (!answered() && performance.now() < until) await waitEvent(until - performance.now());
      };
      for (const seg of segments) {
        if (answered()) return;
        if (seg.pauseMs) {
          await flush();
          await pause(seg.pauseMs);
          continue;
        }
        const times = seg.times ?? 1;
        if (seg.everyMs) {
          await flush();
          for (let i = 0; i < times && !answered(); i++) {
            await write(seg.bytes);
            if (i < times - 1) await pause(seg.everyMs);
          }
          continue;
        }
        // Repeats are added in batches of about 64 KiB.
        const per = Math.max(1, Math.min(times, Math.floor(65536 / seg.bytes.length)));
        const batch = per > 1 ? Buffer.concat(Array(per).fill(seg.bytes)) : seg.bytes;
        let left = times;
        while (left > 0) {
          if (answered()) return;
          const n = Math.min(per, left);
          await add(n === per ? batch : Buffer.concat(Array(n).fill(seg.bytes)));
          left -= n;
        }
      }
      await flush();
      if (closedAtMs === null) sendDoneMs = now();
    };

    const finish = (result) => {
      if (finished) return;
      finished = true;
      sock.destroy();
      resolve(result);
    };

    const connectTimer = setTimeout(() => {
      if (t0 === null) {
        finish({
          outcome: 'connect-failed',
          atMs: null,
          responses,
          closedAtMs,
          closeReason: 'connect timeout',
          sentBytes: 0,
          sendDoneMs: null,
          nonHttp,
          received: Buffer.alloc(0),
          connectMs: Math.round(performance.now() - started),
        });
      }
    }, 20_000);
    sock.once('error', (e) => {
      if (t0 === null) {
        clearTimeout(connectTimer);
        finish({
          outcome: 'connect-failed',
          atMs: null,
          responses,
          closedAtMs: null,
          closeReason: e.code ?? e.message,
          sentBytes: 0,
          sendDoneMs: null,
          nonHttp,
          received: Buffer.alloc(0),
          connectMs: Math.round(performance.now() - started),
          error: e.message,
        });
      }
    });

    sock.once('connect', async () => {
      clearTimeout(connectTimer);
      t0 = performance.now();
      onConnect?.();
      const sending = send().catch(() => {});
      // Wait for the first answer (a final response or a close) or give up.
      while (!answered() && now() < giveUpMs) await waitEvent(giveUpMs - now());
      const firstResponse = responses[0];
      const outcome =
        firstResponse && (closedAtMs === null || firstResponse.atMs <= closedAtMs)
          ? 'response'
          : closedAtMs !== null
            ? 'closed'
            : 'hung';
      const atMs = outcome === 'response' ? firstResponse.atMs : outcome === 'closed' ? closedAtMs : null;
      // After an answer, watch a little longer: more responses (smuggling) or the close.
      if (outcome === 'response') {
        const until = now() + settleMs;
        while (closedAtMs === null && now() < until) await waitEvent(until - now());
      }
      await Promise.race([sending, sleep(50)]);
      finish({
        outcome,
        atMs,
        responses: [...responses],
        closedAtMs,
        closeReason,
        sentBytes,
        sendDoneMs,
        nonHttp,
        received: Buffer.concat(received),
        connectMs: Math.round(t0 - started),
      });
    });
  });
}

// ---- judging ------------------------------------------------------------------------------------

/** What happened, in one line, for the report. */
export function describeResult(r) {
  if (r.outcome === 'connect-failed') return `could not connect (${r.closeReason})`;
  const statuses = r.responses.map((x) => x.status).join(',');
  const close =
    r.closedAtMs !== null
      ? `closed at ${r.closedAtMs} ms (${r.closeReason})`
      : 'still open when the runner stopped watching';
  const sent = `wrote ${r.sentBytes} B${r.sendDoneMs !== null ? '' : ' (stopped early)'}`;
  if (r.outcome === 'response') return `HTTP ${statuses} at ${r.atMs} ms, ${close}; ${sent}`;
  if (r.outcome === 'closed') return `no response, ${close}${r.nonHttp ? ' after non-HTTP/1 bytes' : ''}; ${sent}`;
  return `HUNG: no answer and still open when the test gave up; ${sent}${r.nonHttp ? '; got non-HTTP/1 bytes' : ''}`;
}

/**
 * Problems with `r` against `expect` (empty when it passed).
 * expect: { status?: number[], closed?: boolean, withinMs: number, maxResponses?: number,
 *           closeAfterMs?: number, bodyMustNotContain?: string, noHeader?: string[] }
 */
export function judge(r, expect) {
  const problems = [];
  const allowed = [...(expect.status ?? []).map(String), ...(expect.closed ? ['closed'] : [])].join(' or ');
  if (r.outcome === 'connect-failed') {
    problems.push(`could not connect: ${r.closeReason}`);
    return problems;
  }
  if (r.outcome === 'hung') {
    problems.push(`expected ${allowed} within ${expect.withinMs} ms, got nothing (connection still open)`);
    return problems;
  }
  if (r.outcome === 'closed' && !expect.closed) {
    problems.push(`expected HTTP ${allowed}, the connection was closed without a response (${r.closeReason})`);
  }
  if (r.outcome === 'response') {
    for (const [i, res] of r.responses.entries()) {
      if (!(expect.status ?? []).includes(res.status)) {
        problems.push(
          `${i === 0 ? 'response' : `response #${i + 1}`} was HTTP ${res.status} (${res.head}), expected ${allowed}`,
        );
      }
      if (res.status === 503 && !res.headers['retry-after']) problems.push('a 503 without Retry-After');
    }
  }
  if (r.atMs > expect.withinMs) problems.push(`answered after ${r.atMs} ms, allowed ${expect.withinMs} ms`);
  if (expect.maxResponses !== undefined && r.responses.length > expect.maxResponses) {
    problems.push(
      `${r.responses.length} responses on one connection (at most ${expect.maxResponses}): ${r.responses.map((x) => x.status).join(',')}`,
    );
  }
  if (expect.closeAfterMs !== undefined && r.outcome === 'response') {
    if (r.closedAtMs === null)
      problems.push(`the connection was not closed within ${expect.closeAfterMs} ms of the response`);
    else if (r.closedAtMs - r.atMs > expect.closeAfterMs) {
      problems.push(`closed ${r.closedAtMs - r.atMs} ms after the response, allowed ${expect.closeAfterMs} ms`);
    }
  }
  for (const name of expect.noHeader ?? []) {
    const offending = r.responses.find((res) => res.headers[name.toLowerCase()] !== undefined);
    if (offending) problems.push(`HTTP ${offending.status} carries ${name}: ${offending.headers[name.toLowerCase()]}`);
  }
  if (expect.bodyMustNotContain && r.received.includes(expect.bodyMustNotContain)) {
    problems.push(`the answer contains ${JSON.stringify(expect.bodyMustNotContain)}`);
  }
  return problems;
}
