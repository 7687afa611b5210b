// Starts the real backend (`faurya serve`) on free loopback ports with a fresh data dir, and
// stops it again. The binary comes from FAURYA_BIN or <repo>/target/debug/faurya.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { repoRoot, uiDist } from './paths.mjs';

export const fauryaBin = process.env.FAURYA_BIN ?? path.join(repoRoot, 'target', 'debug', 'faurya');

export function haveFaurya() {
  return existsSync(fauryaBin);
}

const LOGIN_LINE = /Admin login URL:\s*(http:\/\/\S+\/login\?token=\S+)/;
const PUBLIC_LINE = /Public listener:\s*(http:\/\/\S+)/;

/**
 * @param {{ env?: Record<string,string>, args?: string[], timeoutMs?: number }} [opts]
 * @returns {Promise<{ loginUrl: string, adminUrl: string, publicUrl: string, token: string,
 *   dataDir: string, pid: number, exited: () => boolean, output: () => string, stop: () => Promise<void>,
 *   api: (method: string, path: string, body?: unknown) => Promise<{ status: number, json: any }> }>}
 */
export async function startFaurya(opts = {}) {
  if (!haveFaurya()) throw new Error(`faurya binary not found at ${fauryaBin} (build it, or set FAURYA_BIN)`);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'faurya-e2e-'));
  const token = randomBytes(24).toString('hex');
  // FAURYA_* settings from the developer's shell must not leak into the test.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FAURYA_')));
  const env = {
    ...inherited,
    FAURYA_ADMIN_TOKEN: token,
    FAURYA_MASTER_KEY: randomBytes(32).toString('base64'),
    FAURYA_NO_KEYCHAIN: '1',
    FAURYA_UI_DIR: uiDist,
    RUST_LOG: process.env.RUST_LOG ?? 'info',
    ...opts.env,
  };

  const child = spawn(
    fauryaBin,
    [
      'serve',
      '--data-dir',
      dataDir,
      '--public-addr',
      '127.0.0.1:0',
      '--admin-addr',
      '127.0.0.1:0',
      ...(opts.args ?? []),
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines = [];
  const remember = (l) => {
    lines.push(l);
    if (lines.length > 2000) lines.shift();
  };
  readline.createInterface({ input: child.stderr }).on('line', remember);
  const out = readline.createInterface({ input: child.stdout });

  let exited = false;
  const exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    }),
  );

  const cleanup = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(t);
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    const { loginUrl, publicUrl } = await new Promise((resolve, reject) => {
      let login = null;
      let pub = null;
      const timer = setTimeout(
        () => reject(new Error(`faurya serve did not print its URLs within ${opts.timeoutMs ?? 30000} ms`)),
        opts.timeoutMs ?? 30_000,
      );
      out.on('line', (l) => {
        remember(l);
        login ??= l.match(LOGIN_LINE)?.[1] ?? null;
        pub ??= l.match(PUBLIC_LINE)?.[1] ?? null;
        if (login && pub) {
          clearTimeout(timer);
          resolve({ loginUrl: login, publicUrl: pub });
        }
      });
      exit.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`faurya serve exited early (code ${code}, signal ${signal})`));
      });
    });
    const adminUrl = new URL(loginUrl).origin;
    /** The admin API with the bearer token: `await app.api('PUT', '/api/settings', {...})`. */
    const api = async (method, p, body) => {
      const res = await fetch(adminUrl + p, {
        method,
        headers: { Authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = text;
      }
      return { status: res.status, json };
    };
    return {
      api,
      /** The `faurya serve` process id (e.g. to read /proc/<pid>/status), and whether it exited. */
      pid: child.pid,
      exited: () => exited,
      loginUrl,
      adminUrl,
      publicUrl: publicUrl.replace(/\/+$/, ''),
      token,
      dataDir,
      output: () => lines.join('\n'),
      stop: cleanup,
    };
  } catch (e) {
    await cleanup();
    e.message += `\n--- faurya output ---\n${lines.join('\n')}`;
    throw e;
  }
}
