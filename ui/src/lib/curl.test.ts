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
    ['x-evil', "'; rm -rf ~; echo '"],
  ];

  it('sends the body as base64 with only the replayed headers', () => {
    const cmd = curlCommand('https://x.test/webhooks/whop/con_1', headers, {
      text: '{"a": 1}\n',
      base64: 'eyJhIjogMX0K',
    });
    expect(cmd).toBe(
      [
        "printf %s 'eyJhIjogMX0K' | base64 -d | curl -sS -X POST 'https://x.test/webhooks/whop/con_1'",
        "-H 'content-type: application/json'",
        "-H 'webhook-id: msg_1'",
        '--data-binary @-',
      ].join(' \\\n  '),
    );
  });

  it('drops a known header whose value is not plain', () => {
    const cmd = curlCommand(
      'https://x.test/h',
      [
        ['webhook-id', "a'$(id)"],
        ['paddle-signature', 'ts=1;h1=ab'],
      ],
      {
        text: null,
        base64: 'AAE=',
      },
    );
    expect(cmd).not.toContain('$(id)');
    expect(cmd).toContain("-H 'paddle-signature: ts=1;h1=ab'");
  });

  it('never puts the body text on the command line', () => {
    const cmd = curlCommand('https://x.test/h', [], { text: "'; echo pwned; '", base64: 'Jzsgb' });
    expect(cmd).not.toContain('pwned');
  });
});

describe('webhookUrl', () => {
  it('joins without double slashes', () => {
    expect(webhookUrl('https://a.test/', 'paddle', 'con_9')).toBe('https://a.test/webhooks/paddle/con_9');
  });
});
