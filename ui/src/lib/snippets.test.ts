import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkoutVariants } from './snippets';

describe('checkoutVariants', () => {
  it('offers Next.js, Node/Express, Python and curl, Next.js first', () => {
    expect(checkoutVariants('whop', 'production', 'biz_1').map((v) => v.label)).toEqual([
      'Next.js',
      'Node / Express',
      'Python',
      'curl',
    ]);
  });

  it('puts the visitor and session into Whop checkout metadata in every stack', () => {
    for (const v of checkoutVariants('whop', 'production', 'biz_Qm4')) {
      expect(v.snippet.code, v.id).toContain('faurya_visitor_id');
      expect(v.snippet.code, v.id).toContain('faurya_session_id');
      expect(v.snippet.code, v.id).toContain('metadata');
      expect(v.snippet.code, v.id).toContain('https://api.whop.com');
      expect(v.snippet.code, v.id).not.toContain('sandbox');
    }
    const [, express, python] = checkoutVariants('whop', 'sandbox', 'biz_Qm4');
    expect(express.snippet.code).toContain('req.cookies.faurya_visitor_id');
    expect(express.snippet.code).toContain('biz_Qm4');
    expect(python.snippet.code).toContain('request.cookies.get("faurya_session_id")');
    expect(python.snippet.code).toContain('https://sandbox-api.whop.com/api/v1');
  });

  it("puts them into Paddle's custom_data, with the token, in every stack", () => {
    for (const v of checkoutVariants('paddle', 'sandbox', null)) {
      for (const key of [
        'custom_data',
        'faVisitorId',
        'faSessionId',
        'faAttributionToken',
        'https://sandbox-api.paddle.com',
      ])
        expect(v.snippet.code, `${v.id}: ${key}`).toContain(key);
    }
    expect(checkoutVariants('paddle', 'production', null)[3].snippet.code).toContain(
      'curl -sS -X POST "https://api.paddle.com/transactions"',
    );
  });

  it('names a file and a language for each', () => {
    for (const v of checkoutVariants('paddle', 'production', null)) {
      expect(v.snippet.filename).toBeTruthy();
      expect(v.snippet.language).toBeTruthy();
    }
  });
});

describe('the Node/Express routes', () => {
  it('are valid JavaScript', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'faurya-snippets-'));
    for (const provider of ['whop', 'paddle']) {
      const file = path.join(dir, `${provider}.js`);
      writeFileSync(file, checkoutVariants(provider, 'production', 'biz_1')[1].snippet.code);
      const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
      expect(check.status, check.stderr).toBe(0);
    }
  });
});
