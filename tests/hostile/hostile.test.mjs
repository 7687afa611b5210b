// Issue 12 item 4: hostile HTTP requests, replayed byte for byte against the running binary.
// The corpus (corpus/*.json, format in README.md) describes each request as raw bytes with
// timing and the answer it must get (a status set, or a close where HTTP has no answer) within a
// maximum time. One `faurya serve` (with a Whop connection through the fake Whop API, so a real
// webhook URL exists, and its first site) takes them all: the quick cases one after another,
// then the slow ones (slowloris, stalled bodies, floods) all at once. Afterwards the process must
// still be up, its memory bounded, and a well-formed signed Whop delivery must be accepted.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { newId, postWhop, rawJson, whopPayment, whopSignature } from '../e2e/support/deliveries.mjs';
import { fakesSkipReason, startFakeProviders } from '../e2e/support/fake-providers.mjs';
import { startFaurya } from '../e2e/support/faurya.mjs';
import { buildSegments, describeResult, isSlow, judge, loadCorpus, runConnection, segmentBytes } from './replay.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
/** HOSTILE_ONLY=<regex> replays only the cases whose name matches (the checks afterwards still run). */
const only = process.env.HOSTILE_ONLY ? new RegExp(process.env.HOSTILE_ONLY) : null;
const corpus = loadCorpus(path.join(here, 'corpus')).filter((c) => !only || only.test(c.name));
const artifacts = path.join(here, 'artifacts');

/** How long after a case's own limit the runner waits before calling the connection hung. */
const GIVE_UP_AFTER_MS = 4000;
/**
 * Memory bounds, from measurement (README.md, "Memory"): the resident set may grow by at most
 * RSS_GROWTH_MB over what it was once set up, and never exceed RSS_MAX_MB.
 */
const RSS_GROWTH_MB = Number(process.env.HOSTILE_RSS_GROWTH_MB ?? 96);
const RSS_MAX_MB = Number(process.env.HOSTILE_RSS_MAX_MB ?? 160);

function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
const mb = (kb) => (kb === null ? 'n/a' : `${(kb / 1024).toFixed(1)} MB`);
// tracing writes ANSI colours unless told not to; strip them before matching log lines.
const plain = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

describe('hostile requests against the running binary (issue 12, item 4)', { skip: fakesSkipReason() }, () => {
  let fakes;
  let app;
  let vars;
  let hook;
  const ports = {};
  const report = { startedAt: new Date().toISOString(), cases: [], rss: {} };
  let rssTimer;
  let rssPeak = 0;
  const runStarted = performance.now();

  before(async () => {
    fakes = await startFakeProviders();
    app = await startFaurya({
      env: { FAURYA_WHOP_API_BASE: fakes.whopBase, FAURYA_PADDLE_API_BASE: fakes.paddleBase },
    });
    assert.ok(app.pid, 'startFaurya exposes the pid');
    const settings = await app.api('PUT', '/api/settings', { public_url: 'https://hooks.example.com' });
    assert.equal(settings.status, 200, `PUT /api/settings: ${JSON.stringify(settings.json)}`);
    await fakes.addWhopKey('apik_hostile_7d41', 'biz_hostile', true);
    const whop = await app.api('POST', '/api/connections/whop', {
      api_key: 'apik_hostile_7d41',
      company_id: 'biz_hostile',
      environment: 'production',
    });
    assert.equal(whop.status, 201, `POST /api/connections/whop: ${JSON.stringify(whop.json)}`);
    const [webhook] = (await fakes.secrets()).whop;
    hook = { path: new URL(webhook.url).pathname, secret: webhook.secret };
    const sites = await app.api('GET', '/api/sites');
    assert.equal(sites.status, 200, `GET /api/sites: ${JSON.stringify(sites.json)}`);
    const siteId = sites.json.sites[0].id;
    const key = await app.api('GET', `/api/sites/${siteId}/write-key`);
    assert.equal(key.status, 200, `GET /api/sites/${siteId}/write-key: ${JSON.stringify(key.json)}`);

    const pub = new URL(app.publicUrl);
    const adm = new URL(app.adminUrl);
    ports.public = Number(pub.port);
    ports.admin = Number(adm.port);
    vars = {
      publicHost: pub.host,
      adminHost: adm.host,
      adminPort: adm.port,
      whopPath: hook.path,
      siteId,
      writeKey: key.json.write_key,
      adminToken: app.token,
    };
    // One well-formed delivery first: the baseline works, and the memory figure includes a
    // warmed-up ingest path.
    const warm = await postWhop(
      app.publicUrl + hook.path,
      hook.secret,
      rawJson(whopPayment({ total: '1.00', currency: 'usd' })),
    );
    assert.equal(warm.status, 200, `warm-up delivery: ${JSON.stringify(warm.json)}`);
    await new Promise((r) => setTimeout(r, 500));
    report.rss.startKb = rssKb(app.pid);
    rssPeak = report.rss.startKb ?? 0;
    rssTimer = setInterval(() => {
      const kb = rssKb(app.pid);
      if (kb !== null && kb > rssPeak) rssPeak = kb;
    }, 100);
  });

  after(async () => {
    clearInterval(rssTimer);
    report.totalMs = Math.round(performance.now() - runStarted);
    try {
      mkdirSync(artifacts, { recursive: true });
      writeFileSync(path.join(artifacts, 'last-run.json'), JSON.stringify(report, null, 2));
      writeFileSync(path.join(artifacts, 'faurya-output.log'), app?.output() ?? '');
    } catch {
      // the report is a convenience; never fail the run over it
    }
    await app?.stop();
    await fakes?.stop();
  });

  /** Runs one case (all its connections, then its probe) and returns the problems found. */
  async function play(c, t) {
    const caseVars = { ...vars, now: Math.floor(Date.now() / 1000), webhookId: newId('msg_hostile_') };
    const sign = (id, ts, body) => whopSignature(hook.secret, id, ts, body);
    const segments = buildSegments(c.steps, caseVars, sign);
    const port = ports[c.listener];
    const n = c.connections ?? 1;
    const expect = c.expect;
    // Watch after the first response only where the case asks about what follows it.
    const settleMs =
      expect.closeAfterMs !== undefined ? expect.closeAfterMs + 200 : expect.maxResponses !== undefined ? 300 : 0;
    const giveUpMs = expect.withinMs + GIVE_UP_AFTER_MS;
    if (c.startAfterMs) await new Promise((r) => setTimeout(r, c.startAfterMs));
    const started = performance.now();

    let connected = 0;
    let allConnected;
    const everyoneIn = new Promise((r) => (allConnected = r));
    const onConnect = () => {
      if (++connected === n) allConnected();
    };
    const runs = Array.from({ length: n }, () => runConnection({ port, segments, giveUpMs, settleMs, onConnect }));

    let probe = null;
    if (c.probe) {
      await Promise.race([everyoneIn, Promise.all(runs)]);
      await new Promise((r) => setTimeout(r, c.probe.afterMs ?? 500));
      const probeSegments = buildSegments(c.probe.steps, caseVars, sign);
      const pr = await runConnection({
        port: ports[c.probe.listener ?? c.listener],
        segments: probeSegments,
        giveUpMs: c.probe.expect.withinMs + GIVE_UP_AFTER_MS,
      });
      probe = { result: pr, problems: judge(pr, c.probe.expect) };
    }
    const results = await Promise.all(runs);
    const elapsedMs = Math.round(performance.now() - started);

    const problems = [];
    const tally = new Map();
    let shown = 0;
    for (const [i, r] of results.entries()) {
      const p = judge(r, expect);
      const key = r.outcome === 'response' ? `HTTP ${r.responses.map((x) => x.status).join(',')}` : r.outcome;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      if (p.length && shown < 3) {
        shown++;
        problems.push(...p.map((x) => (n > 1 ? `connection ${i + 1}: ${x}` : x)));
      }
    }
    const failing = results.filter((r) => judge(r, expect).length).length;
    if (n > 1 && failing) problems.unshift(`${failing} of ${n} connections failed`);
    if (probe?.problems.length) problems.push(...probe.problems.map((x) => `probe: ${x}`));

    // Log forging: no line of the server's output may start with the injected text.
    if (expect.noLogLineStartingWith) {
      await new Promise((r) => setTimeout(r, 200));
      const forged = plain(app.output())
        .split('\n')
        .filter((l) => l.trimStart().startsWith(expect.noLogLineStartingWith));
      if (forged.length) problems.push(`forged log line(s): ${JSON.stringify(forged.slice(0, 2))}`);
    }

    const times = results.map((r) => r.atMs).filter((x) => x !== null);
    const observed =
      n === 1
        ? describeResult(results[0])
        : `${n} connections: ${[...tally].map(([k, v]) => `${v}× ${k}`).join(', ')}` +
          (times.length ? `; answer times ${Math.min(...times)}–${Math.max(...times)} ms` : '');
    const entry = {
      name: c.name,
      file: c.file,
      listener: c.listener,
      slow: isSlow(c),
      expected: expect,
      observed,
      probe: probe ? describeResult(probe.result) : undefined,
      bytesPerConnection: segmentBytes(segments),
      elapsedMs,
      pass: problems.length === 0,
      problems,
    };
    report.cases.push(entry);
    t.diagnostic(`observed: ${observed}${probe ? `; probe: ${describeResult(probe.result)}` : ''}`);
    return problems;
  }

  const register = (c) =>
    test(`${c.name} (${c.file})`, async (t) => {
      const problems = await play(c, t);
      assert.deepEqual(problems, [], `${c.name}: ${c.why ?? ''}\n  ${problems.join('\n  ')}`);
    });

  describe('quick cases, one at a time', { concurrency: 1 }, () => {
    for (const c of corpus.filter((c) => !isSlow(c))) register(c);
  });

  describe('slow cases and floods, all at once', { concurrency: true }, () => {
    for (const c of corpus.filter(isSlow)) register(c);
  });

  describe('afterwards', { concurrency: 1 }, () => {
    test('the process is still up and answers', async () => {
      assert.equal(app.exited(), false, `faurya serve exited during the run\n${app.output().slice(-3000)}`);
      const res = await fetch(app.publicUrl + '/healthz');
      assert.equal(res.status, 200);
      const admin = await app.api('GET', '/api/health');
      assert.equal(admin.status, 200);
    });

    test(`memory stayed bounded (peak within +${RSS_GROWTH_MB} MB of the start and under ${RSS_MAX_MB} MB)`, async (t) => {
      // Give the server a moment to drop what the last connections held.
      await new Promise((r) => setTimeout(r, 1000));
      const endKb = rssKb(app.pid);
      Object.assign(report.rss, { peakKb: rssPeak, endKb, growthLimitMb: RSS_GROWTH_MB, maxMb: RSS_MAX_MB });
      const start = report.rss.startKb;
      t.diagnostic(`RSS: start ${mb(start)}, peak ${mb(rssPeak)}, end ${mb(endKb)}`);
      assert.ok(start, 'read VmRSS at the start');
      const problems = [];
      if (rssPeak - start > RSS_GROWTH_MB * 1024)
        problems.push(`peak ${mb(rssPeak)} is more than ${RSS_GROWTH_MB} MB above the start (${mb(start)})`);
      if (rssPeak > RSS_MAX_MB * 1024) problems.push(`peak ${mb(rssPeak)} is above ${RSS_MAX_MB} MB`);
      if (endKb - start > RSS_GROWTH_MB * 1024)
        problems.push(`end ${mb(endKb)} is more than ${RSS_GROWTH_MB} MB above the start`);
      assert.deepEqual(problems, []);
    });

    test('a well-formed signed Whop delivery sent right after is accepted and listed', async () => {
      const payment = whopPayment({ total: '42.00', currency: 'eur', email: 'after-the-storm@example.com' });
      const sent = await postWhop(app.publicUrl + hook.path, hook.secret, rawJson(payment));
      assert.equal(sent.status, 200, `delivery answered ${sent.status}: ${JSON.stringify(sent.json)}`);
      assert.equal(sent.json.status, 'processed');
      const events = await app.api('GET', '/api/events?provider=whop');
      assert.equal(events.status, 200);
      const listed = events.json.events.find((e) => e.id === sent.json.id);
      assert.ok(listed, `delivery ${sent.json.id} is not in GET /api/events`);
      assert.equal(listed.delivery_id, sent.webhookId);
      assert.equal(listed.status, 'processed');
      report.after = { delivery: sent.json };
    });
  });
});
