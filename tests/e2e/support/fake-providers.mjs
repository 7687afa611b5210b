// The fake Whop and Paddle APIs of crates/faurya-fakes, run as a process (`faurya-fakes`), with
// its /__fake control API. Point the backend at it with FAURYA_WHOP_API_BASE/FAURYA_PADDLE_API_BASE.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { repoRoot } from './paths.mjs';

export const fakesBin = process.env.FAURYA_FAKES_BIN ?? path.join(repoRoot, 'target', 'debug', 'faurya-fakes');

export function haveFakes() {
  return existsSync(fakesBin);
}

/**
 * Why tests that need the fakes binary should be skipped, or false to run them. Under CI
 * (CI=true) they always run, so a missing binary fails the suite instead of skipping silently.
 */
export function fakesSkipReason() {
  if (haveFakes() || isCI()) return false;
  return `needs ${fakesBin} (cargo build -p faurya-fakes)`;
}

export function isCI() {
  return !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
}

export async function startFakeProviders() {
  if (!haveFakes())
    throw new Error(
      `faurya-fakes binary not found at ${fakesBin}: run cargo build -p faurya-fakes (or set FAURYA_FAKES_BIN)`,
    );
  const child = spawn(fakesBin, ['127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  readline.createInterface({ input: child.stderr }).on('line', (l) => lines.push(l));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const info = await new Promise((resolve, reject) => {
    const found = {};
    const timer = setTimeout(() => reject(new Error(`faurya-fakes did not start:\n${lines.join('\n')}`)), 15_000);
    readline.createInterface({ input: child.stdout }).on('line', (l) => {
      lines.push(l);
      const m = l.match(/^(Fake providers|Whop API base|Paddle API base):\s*(\S+)/);
      if (m) found[m[1]] = m[2];
      if (found['Fake providers'] && found['Whop API base'] && found['Paddle API base']) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`faurya-fakes exited (${code}):\n${lines.join('\n')}`));
    });
  });
  const base = info['Fake providers'];
  const control = async (method, p, body) => {
    const res = await fetch(`${base}/__fake${p}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`fake control ${method} ${p}: HTTP ${res.status}`);
    return res.json();
  };
  return {
    base,
    whopBase: info['Whop API base'],
    paddleBase: info['Paddle API base'],
    addWhopKey: (key, company_id, can_manage_webhooks = true) =>
      control('POST', '/whop/keys', { key, company_id, can_manage_webhooks }),
    addPaddleKey: (key, can_read = true, can_write = true) =>
      control('POST', '/paddle/keys', { key, can_read, can_write }),
    fail: (failure) => control('POST', '/fail', failure),
    requests: async () => (await control('GET', '/requests')).requests,
    state: () => control('GET', '/state'),
    /** `{whop: [{id, url, secret}], paddle: [{id, destination, secret}]}`: to sign deliveries. */
    secrets: () => control('GET', '/secrets'),
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
