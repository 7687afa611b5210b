import { describe, expect, it } from 'vitest';
import { SseParser } from './sse';

describe('SseParser', () => {
  it('dispatches events with and without data, across chunk boundaries, skipping comments', () => {
    const got: [string, string][] = [];
    const p = new SseParser((e, d) => got.push([e, d]));
    p.push(': keep-alive\n\nevent: deliv');
    p.push('ery\ndata: d_12\n\nevent: settings\n\n');
    p.push('event: payment\r\ndata:7\r\n\r\ndata: a\ndata: b\n\n');
    expect(got).toEqual([
      ['delivery', 'd_12'],
      ['settings', ''],
      ['payment', '7'],
      ['message', 'a\nb'],
    ]);
  });
});
