// Where each field of a JSON text sits: every key and every scalar value with its byte span and its
// path with array indices folded to [] ("entries[].inclusion.proof[]"), so a test can pick byte
// positions that cover every field of a document instead of a blind stride. ASCII text assumed
// (exports are: base64, hex, numbers and ASCII notes), so character offsets are byte offsets.

export interface FieldSpan {
  /** Path with array indices folded ("entries[].leaf"); keys end in "#key". */
  path: string;
  start: number;
  end: number;
}

export function jsonFieldSpans(text: string): FieldSpan[] {
  const spans: FieldSpan[] = [];
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const str = (): number => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return start;
  };
  const value = (path: string): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      while (text[i] !== '}') {
        const ks = str();
        const key = JSON.parse(text.slice(ks, i)) as string;
        spans.push({ path: `${path}${path ? '.' : ''}${key}#key`, start: ks, end: i });
        ws();
        i++; // :
        value(`${path}${path ? '.' : ''}${key}`);
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '[') {
      i++;
      ws();
      while (text[i] !== ']') {
        value(`${path}[]`);
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '"') {
      const s = str();
      spans.push({ path, start: s, end: i });
    } else {
      const s = i;
      while (i < text.length && !',]} \n\r\t'.includes(text[i] as string)) i++;
      spans.push({ path, start: s, end: i });
    }
  };
  value('');
  return spans;
}

/**
 * Byte positions covering every field: every byte of the first instance of each field path (of a
 * long value, its first and last `edge` bytes, where base64 padding and length live), and one
 * byte of every other instance (a different offset each time).
 */
export function fieldCoveringPositions(text: string, edge = 24): Set<number> {
  const out = new Set<number>();
  const seen = new Set<string>();
  jsonFieldSpans(text).forEach((s, k) => {
    const len = s.end - s.start;
    if (!seen.has(s.path)) {
      seen.add(s.path);
      for (let p = s.start; p < s.end; p++) if (p - s.start < edge || s.end - p <= edge) out.add(p);
    } else out.add(s.start + ((k * 7) % len));
  });
  return out;
}
