import { describe, expect, it } from 'vitest';
import { prettyJson, prettyJsonTokens } from './json';

describe('prettyJson', () => {
  it('indents like JSON.stringify for ordinary documents', () => {
    const doc = { a: 1, b: [1, 2, { c: 'x,y:{"}' }], d: {}, e: [], f: null, g: true };
    expect(prettyJson(JSON.stringify(doc))).toBe(JSON.stringify(doc, null, 2));
  });

  it('keeps number text exactly', () => {
    expect(prettyJson('{"total":10.430,"big":12345678901234567890,"e":1e2}')).toBe(
      '{\n  "total": 10.430,\n  "big": 12345678901234567890,\n  "e": 1e2\n}',
    );
  });

  it('handles escaped quotes inside strings', () => {
    expect(prettyJson('{"a":"say \\"hi\\""}')).toBe('{\n  "a": "say \\"hi\\""\n}');
  });

  it('returns null for invalid JSON', () => {
    expect(prettyJson('{"a":')).toBeNull();
    expect(prettyJson('not json')).toBeNull();
  });

  it('tells keys from string values', () => {
    const kinds = prettyJsonTokens('{"k": "v"}')!.filter((t) => t.kind === 'key' || t.kind === 'string');
    expect(kinds.map((t) => t.kind)).toEqual(['key', 'string']);
  });
});
