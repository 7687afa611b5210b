import { describe, expect, it } from 'vitest';
import { curlCommand, shellQuote, webhookUrl } from './curl';

describe('shellQuote', () => {
  it('keeps everything literal', () => {
    expect(shellQuote(`it's $HOME "x"`)).toBe(`'it'\\''s $HOME "x"'`);
  });
});

describe('curlCommand', () => {
  const headers: [string, string][] = [
    ['host', 'abc.example'],
    ['content-type', 'application/json'],
    ['webhook-id', 'msg_1'],
    ['Content-Length', '17'],
  ];

  it('replays text bodies byte-exact with every header but hop-by-hop ones', () => {
    const cmd = curlCommand('https://x.test/webhooks/whop/con_1', headers, {
      text: '{"a": 1}\n',
      base64: '',
    });
    expect(cmd).toBe(
      [
        "curl -sS -X POST 'https://x.test/webhooks/whop/con_1'",
        "-H 'content-type: application/json'",
        "-H 'webhook-id: msg_1'",
        `--data-raw '{"a": 1}\n'`,
      ].join(' \\\n  '),
    );
  });

  it('pipes binary bodies through base64', () => {
    const cmd = curlCommand('https://x.test/h', [], { text: null, base64: 'AAE=' });
    expect(cmd).toBe("printf %s 'AAE=' | base64 -d | curl -sS -X POST 'https://x.test/h' \\\n  --data-binary @-");
  });
});

describe('webhookUrl', () => {
  it('joins without double slashes', () => {
    expect(webhookUrl('https://a.test/', 'paddle', 'con_9')).toBe('https://a.test/webhooks/paddle/con_9');
  });
});
