import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvRowVectors, parseCsv, parseNumberList, toCsv, type ParsedCsv } from '../../src/core/secagg/csv.ts';

function ok(text: string, opts = {}): ParsedCsv {
  const r = parseCsv(text, opts);
  if (!r.ok) throw new Error(`expected a parse, got: ${r.error}`);
  return r.value;
}

function error(text: string, opts = {}): string {
  const r = parseCsv(text, opts);
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.value)}`);
  return r.error;
}

describe('parseCsv', () => {
  it('reads a header and one data row into the vector', () => {
    const p = ok('age,income,score\n34,52000.5,-1.25\n');
    expect(p.columns).toEqual(['age', 'income', 'score']);
    expect(p.rows).toBe(1);
    expect(p.hasHeader).toBe(true);
    expect(p.vector).toEqual([34, 52000.5, -1.25]);
    expect(p.rowVectors).toEqual([[34, 52000.5, -1.25]]);
  });

  it('sums several rows per column, and keeps the rows', () => {
    const p = ok('a,b\n1,2\n3,4\n5,-6\n');
    expect(p.rows).toBe(3);
    expect(p.vector).toEqual([9, 0]);
    expect(p.rowVectors).toEqual([
      [1, 2],
      [3, 4],
      [5, -6],
    ]);
  });

  it('handles CRLF, lone CR, a BOM, blank lines and a missing final newline', () => {
    expect(ok('\uFEFFx,y\r\n1,2\r\n\r\n3,4').vector).toEqual([4, 6]);
    expect(ok('x,y\r1,2\r3,4\r').vector).toEqual([4, 6]);
    expect(ok('x\n\n1\n\n\n2\n\n').rowVectors).toEqual([[1], [2]]);
  });

  it('reads quoted fields: commas, doubled quotes and line breaks inside, quoted numbers', () => {
    const p = ok('"name, full","say ""hi""","v"\n"Ann, B.","x\ny","2.5"\n"Bo","z",3\n');
    expect(p.columns).toEqual(['v']);
    expect(p.ignoredColumns).toEqual(['name, full', 'say "hi"']);
    expect(p.vector).toEqual([5.5]);
  });

  it('names the line of a record after a multi-line quoted field correctly', () => {
    expect(error('t,v\n"a\nb",1\nc,zz\n')).toBe('line 4, column 2 "v": "zz" is not a number');
  });

  it('skips text columns but refuses a non-number in a numeric column, naming line and column', () => {
    expect(error('name,age\nann,34\nbob,abc\n')).toBe('line 3, column 2 "age": "abc" is not a number');
    expect(error('a,b\n1,\n2,3\n')).toBe('line 2, column 2 "b": empty value, a number is needed');
  });

  it('refuses NaN, Infinity and overflowing values', () => {
    expect(error('a,b\n1,NaN\n')).toBe('line 2, column 2 "b": "NaN" is not a finite number');
    expect(error('a\n1\n-Infinity\n')).toBe('line 3, column 1 "a": "-Infinity" is not a finite number');
    expect(error('a\n1e400\n')).toBe('line 2, column 1 "a": "1e400" is not a finite number');
    expect(error('a\n1e308\n1e308\n')).toMatch(/overflows/);
  });

  it('refuses ragged rows', () => {
    expect(error('a,b,c\n1,2,3\n4,5\n')).toBe('line 3: 2 fields, but the header has 3');
    expect(error('a,b\n1,2,3\n')).toBe('line 2: 3 fields, but the header has 2');
  });

  it('refuses empty, header-only and text-only files', () => {
    expect(error('')).toBe('the file is empty');
    expect(error('\uFEFF\n\r\n  \n')).toBe('the file is empty');
    expect(error('a,b,c\n')).toBe('the file has a header (line 1) but no data rows');
    expect(error('name\nann\nbob\n')).toMatch(/no numeric column/);
  });

  it('refuses an unclosed quote and junk after a closing quote', () => {
    expect(error('a,b\n1,"2\n')).toBe('line 2, column 2: a quoted field is never closed');
    expect(error('a,b\n1,"2"x\n')).toBe('line 2, column 2: unexpected "x" after a closing quote');
  });

  it('enforces the size, row and column limits', () => {
    expect(error('a\n1\n2\n3\n', { maxRows: 2 })).toMatch(/more than 2 data rows/);
    expect(ok('a\n1\n2\n', { maxRows: 2 }).rows).toBe(2);
    expect(error('a,b,c\n1,2,3\n', { maxColumns: 2 })).toBe('line 1: more than 2 columns (the limit)');
    expect(error('a\n12345\n', { maxBytes: 4 })).toMatch(/over 4 B/);
    expect(error('é\n1\n', { maxBytes: 4 })).toMatch(/over/); // é is 2 bytes in UTF-8: 5 bytes in all
    expect(ok('é\n1\n', { maxBytes: 5 }).columns).toEqual(['é']);
  });

  it('detects a missing header when the first row is all numbers', () => {
    const p = ok('1,2\n3,4\n');
    expect(p.hasHeader).toBe(false);
    expect(p.columns).toEqual(['column 1', 'column 2']);
    expect(p.rows).toBe(2);
    expect(error('1,x\n2,3\n', { header: 'absent' })).toBe('line 1, column 2: "x" is not a number');
    expect(ok('1,2\n3,4\n', { header: 'present' }).columns).toEqual(['1', '2']);
    expect(csvRowVectors('1,2\n3,4\n')).toEqual({ ok: true, value: [[1, 2], [3, 4]] });
  });

  it('tolerates spaces around fields and names empty header cells', () => {
    const p = ok(' a , ,"c"\n 1 , 2 , "3"\n');
    expect(p.columns).toEqual(['a', 'column 2', 'c']);
    expect(p.vector).toEqual([1, 2, 3]);
  });

  it('round-trips numbers through toCsv and parseCsv exactly (property)', () => {
    const name = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim() !== '');
    // Bounded so that the per-column sums stay finite (an overflowing sum is refused).
    const value = fc.double({ min: -1e300, max: 1e300, noNaN: true }).map((v) => (Object.is(v, -0) ? 0 : v));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((cols) =>
          fc.tuple(fc.array(name, { minLength: cols, maxLength: cols }), fc.array(fc.array(value, { minLength: cols, maxLength: cols }), { minLength: 1, maxLength: 8 })),
        ),
        ([columns, rows]) => {
          const r = parseCsv(toCsv(columns, rows), { header: 'present' });
          expect(r.ok).toBe(true);
          if (!r.ok) return;
          expect(r.value.rowVectors).toEqual(rows);
          expect(r.value.rows).toBe(rows.length);
          expect(r.value.columns).toEqual(columns);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary text, and an error always says where when it is about a cell', () => {
    const alphabet = fc.constantFrom('a', '1', '-', '.', 'e', ',', '"', '\n', '\r', ' ', 'N', '\uFEFF', '9');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: alphabet, maxLength: 60 })), (text) => {
        const r = parseCsv(text, { maxRows: 20, maxColumns: 20, maxBytes: 400 });
        if (r.ok) {
          expect(r.value.vector.every(Number.isFinite)).toBe(true);
          expect(r.value.rowVectors.length).toBe(r.value.rows);
        } else {
          expect(r.error.length).toBeGreaterThan(0);
          if (/is not a|empty value/.test(r.error)) expect(r.error).toMatch(/^line \d+, column \d+/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseNumberList', () => {
  it('accepts commas, semicolons and white space', () => {
    expect(parseNumberList('1.5, -2 3e2;\n.5')).toEqual({ ok: true, value: [1.5, -2, 300, 0.5] });
  });

  it('names the position of a bad value', () => {
    expect(parseNumberList('1, 2, abc')).toEqual({ ok: false, error: 'value 3: "abc" is not a number' });
    expect(parseNumberList('1 Infinity')).toEqual({ ok: false, error: 'value 2: "Infinity" is not a finite number' });
    expect(parseNumberList('  ,, ')).toEqual({ ok: false, error: 'type at least one number' });
    expect(parseNumberList('1 2 3', 2)).toEqual({ ok: false, error: '3 values, at most 2' });
  });

  it('never throws and round-trips joined numbers (property)', () => {
    fc.assert(fc.property(fc.string(), (s) => void parseNumberList(s)));
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v)), { minLength: 1 }), (xs) => {
        expect(parseNumberList(xs.join(', '))).toEqual({ ok: true, value: xs });
      }),
    );
  });
});
