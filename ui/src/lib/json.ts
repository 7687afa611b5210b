// A lossless JSON pretty-printer: it re-indents the text token by token, so numbers such as
// 10.430 or 12345678901234567890 stay exactly as the provider sent them (JSON.parse would not).

export type JsonTokenKind = 'key' | 'string' | 'number' | 'literal' | 'punct' | 'space';
export interface JsonToken {
  kind: JsonTokenKind;
  text: string;
}

/** Tokens of the re-indented document, or null when the text is not valid JSON. */
export function prettyJsonTokens(text: string, indent = 2): JsonToken[] | null {
  try {
    JSON.parse(text);
  } catch {
    return null;
  }
  const out: JsonToken[] = [];
  let depth = 0;
  const newline = () => out.push({ kind: 'space', text: '\n' + ' '.repeat(depth * indent) });
  const n = text.length;
  let i = 0;
  const nextSignificant = (from: number) => {
    let j = from;
    while (j < n && /\s/.test(text[j])) j++;
    return j;
  };

  while (i < n) {
    const c = text[i];
    if (c === ' ' || c === '\n' || c === '\r' || c === '\t') {
      i++;
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      const j = nextSignificant(i + 1);
      if (text[j] === close) {
        out.push({ kind: 'punct', text: c + close });
        i = j + 1;
      } else {
        out.push({ kind: 'punct', text: c });
        depth++;
        newline();
        i++;
      }
    } else if (c === '}' || c === ']') {
      depth--;
      newline();
      out.push({ kind: 'punct', text: c });
      i++;
    } else if (c === ',') {
      out.push({ kind: 'punct', text: ',' });
      newline();
      i++;
    } else if (c === ':') {
      out.push({ kind: 'punct', text: ': ' });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const s = text.slice(i, j + 1);
      const after = nextSignificant(j + 1);
      out.push({ kind: text[after] === ':' ? 'key' : 'string', text: s });
      i = j + 1;
    } else {
      let j = i;
      while (j < n && !/[\s,\]}:]/.test(text[j])) j++;
      const s = text.slice(i, j);
      out.push({ kind: /^[-\d]/.test(s) ? 'number' : 'literal', text: s });
      i = j;
    }
  }
  return out;
}

export function prettyJson(text: string, indent = 2): string | null {
  const tokens = prettyJsonTokens(text, indent);
  return tokens ? tokens.map((t) => t.text).join('') : null;
}
