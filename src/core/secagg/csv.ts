// Turns a user's CSV file (or a typed list of numbers) into a secure-aggregation input vector.
// Pure: text in, a value or a reason out; it never throws, because the text is untrusted.
//
// Format (RFC 4180 with a few leniencies for hand-written files):
// - Comma-separated; LF, CRLF or CR line ends; a UTF-8 byte-order mark is ignored; blank lines are
//   skipped (so an empty trailing line is fine).
// - Fields may be quoted ("a, b" and "say ""hi""" as in RFC 4180 §2); spaces around fields are ignored.
// - The first record is a header with column names, unless every one of its fields is a number
//   (`header: 'auto'`, the default); then the columns are named "column 1", "column 2", ….
// - A column with no number in it at all (e.g. "name") is a text column: it is skipped and listed in
//   `ignoredColumns`. Every other column is numeric, and every cell of it must be a finite decimal
//   number (`-1.5`, `2e3`); empty cells, `NaN` and `Infinity` are refused.
// - Every record has as many fields as the header.
//
// The contributed vector is the per-column SUM over the data rows, one coordinate per numeric
// column: a file with one data row contributes that row; a file with many rows (e.g. one per
// patient) contributes their totals, so the round's sum is the total over everyone's rows. The rows
// themselves are kept in `rowVectors` (`aegis sim secagg --inputs FILE.csv`: row i is node i's input).
import type { Result } from '../result.ts';
import { MAX_DIMENSION } from './params.ts';

export interface CsvOptions {
  /** Data rows (header excluded) accepted at most; default 100 000. */
  maxRows?: number;
  /** Fields per record accepted at most; default MAX_DIMENSION (2^21). */
  maxColumns?: number;
  /** UTF-8 size accepted at most; default 16 MiB. */
  maxBytes?: number;
  /** Whether the first record names the columns; default 'auto' (a header unless all numeric). */
  header?: 'auto' | 'present' | 'absent';
}

export interface ParsedCsv {
  /** Names of the numeric columns: coordinate i of the vector is column i of this list. */
  columns: string[];
  /** Text columns (no number in any row), skipped. */
  ignoredColumns: string[];
  hasHeader: boolean;
  /** Data rows (blank lines and the header excluded). */
  rows: number;
  /** Each data row's numeric values, in file order. */
  rowVectors: number[][];
  /** The contribution: per-column sum over the data rows. */
  vector: number[];
}

export const CSV_DEFAULTS = { maxRows: 100_000, maxColumns: MAX_DIMENSION, maxBytes: 16 * 1024 * 1024 } as const;

interface Field {
  text: string;
  quoted: boolean;
  line: number;
}

interface CsvRecord {
  line: number;
  fields: Field[];
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;

/** Parse a decimal number token; null when it is not one (NaN, Infinity and overflow included). */
export function parseNumberToken(token: string): number | null {
  if (!NUMBER.test(token)) return null;
  const v = Number(token);
  return Number.isFinite(v) ? v : null;
}

const looksNumeric = (t: string): boolean => NUMBER.test(t) || NON_FINITE.test(t);

function quote(s: string, max = 24): string {
  const shown = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(shown);
}

function notANumber(token: string): string {
  if (token === '') return 'empty value, a number is needed';
  if (looksNumeric(token)) return `${quote(token)} is not a finite number`;
  return `${quote(token)} is not a number`;
}

/** UTF-8 length of `text`, counting only up to `limit + 1` (enough to say it is over). */
function utf8LengthUpTo(text: string, limit: number): number {
  let n = 0;
  for (let i = 0; i < text.length && n <= limit; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function sizeLabel(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`;
}

/** Split into records of fields, tracking the 1-based line each record and field starts on. */
function tokenize(text: string, maxRecords: number, maxColumns: number): Result<CsvRecord[]> {
  const records: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  const isEol = (c: string | undefined): boolean => c === '\n' || c === '\r';
  const skipEol = (): void => {
    if (text[i] === '\r' && text[i + 1] === '\n') i += 2;
    else i += 1;
    line++;
  };
  while (i < n) {
    const rec: CsvRecord = { line, fields: [] };
    for (;;) {
      // One field.
      while (text[i] === ' ' || text[i] === '\t') i++;
      const fieldLine = line;
      if (text[i] === '"') {
        i++;
        let value = '';
        for (;;) {
          if (i >= n) return { ok: false, error: `line ${fieldLine}, column ${rec.fields.length + 1}: a quoted field is never closed` };
          const c = text[i] as string;
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (isEol(c)) {
            value += c === '\r' && text[i + 1] === '\n' ? '\r\n' : c;
            skipEol();
            continue;
          }
          value += c;
          i++;
        }
        while (text[i] === ' ' || text[i] === '\t') i++;
        if (i < n && text[i] !== ',' && !isEol(text[i]))
          return { ok: false, error: `line ${line}, column ${rec.fields.length + 1}: unexpected ${quote(text[i] as string)} after a closing quote` };
        rec.fields.push({ text: value, quoted: true, line: fieldLine });
      } else {
        const start = i;
        while (i < n && text[i] !== ',' && !isEol(text[i])) i++;
        rec.fields.push({ text: text.slice(start, i).trim(), quoted: false, line: fieldLine });
      }
      if (rec.fields.length > maxColumns)
        return { ok: false, error: `line ${rec.line}: more than ${maxColumns} columns (the limit)` };
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (i < n) skipEol();
      break;
    }
    const only = rec.fields[0];
    const blank = rec.fields.length === 1 && only !== undefined && !only.quoted && only.text === '';
    if (!blank) {
      records.push(rec);
      if (records.length > maxRecords) return { ok: false, error: `more than ${maxRecords - 1} data rows (the limit); line ${rec.line} is one too many` };
    }
  }
  return { ok: true, value: records };
}

/** Parse a CSV file's text into an input vector (see the format at the top of this file). */
export function parseCsv(text: string, opts: CsvOptions = {}): Result<ParsedCsv> {
  try {
    return parse(text, opts);
  } catch (e) {
    // Not expected (the parser is total); kept so a bug can never throw through the UI.
    return { ok: false, error: `could not read the file: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function parse(text: string, opts: CsvOptions): Result<ParsedCsv> {
  const maxRows = opts.maxRows ?? CSV_DEFAULTS.maxRows;
  const maxColumns = opts.maxColumns ?? CSV_DEFAULTS.maxColumns;
  const maxBytes = opts.maxBytes ?? CSV_DEFAULTS.maxBytes;
  if (typeof text !== 'string') return { ok: false, error: 'the file is not text' };
  const size = utf8LengthUpTo(text, maxBytes);
  if (size > maxBytes) return { ok: false, error: `the file is over ${sizeLabel(maxBytes)} (the limit)` };
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const t = tokenize(text, maxRows + 1, maxColumns);
  if (!t.ok) return t;
  const records = t.value;
  const first = records[0];
  if (!first) return { ok: false, error: 'the file is empty' };

  const mode = opts.header ?? 'auto';
  const hasHeader = mode === 'present' || (mode === 'auto' && !first.fields.every((f) => NUMBER.test(f.text.trim())));
  const width = first.fields.length;
  const names = hasHeader
    ? first.fields.map((f, c) => (f.text.trim() === '' ? `column ${c + 1}` : f.text))
    : first.fields.map((_, c) => `column ${c + 1}`);
  const data = hasHeader ? records.slice(1) : records;
  if (data.length === 0) return { ok: false, error: `the file has a header (line ${first.line}) but no data rows` };
  if (data.length > maxRows) return { ok: false, error: `more than ${maxRows} data rows (the limit)` };

  const columnLabel = (c: number): string => (hasHeader ? `column ${c + 1} ${quote(names[c] as string)}` : `column ${c + 1}`);
  for (const rec of data) {
    if (rec.fields.length !== width)
      return {
        ok: false,
        error: `line ${rec.line}: ${rec.fields.length} field${rec.fields.length === 1 ? '' : 's'}, but the ${hasHeader ? 'header' : 'first row'} has ${width}`,
      };
  }

  // A column is text (ignored) when none of its cells looks like a number; otherwise all must be.
  const numeric: number[] = [];
  const ignoredColumns: string[] = [];
  for (let c = 0; c < width; c++) {
    if (data.some((rec) => looksNumeric((rec.fields[c] as Field).text.trim()))) numeric.push(c);
    else ignoredColumns.push(names[c] as string);
  }
  if (numeric.length === 0)
    return { ok: false, error: `no numeric column: ${names.length === 1 ? 'the column' : `none of the ${names.length} columns`} holds a number` };

  const rowVectors: number[][] = [];
  const vector = new Array<number>(numeric.length).fill(0);
  for (const rec of data) {
    const row = new Array<number>(numeric.length);
    for (let k = 0; k < numeric.length; k++) {
      const c = numeric[k] as number;
      const f = rec.fields[c] as Field;
      const v = parseNumberToken(f.text.trim());
      if (v === null) return { ok: false, error: `line ${f.line}, ${columnLabel(c)}: ${notANumber(f.text.trim())}` };
      row[k] = v;
      vector[k] = (vector[k] as number) + v;
    }
    rowVectors.push(row);
  }
  if (!vector.every(Number.isFinite)) return { ok: false, error: 'a column sum overflows (values too large)' };
  return {
    ok: true,
    value: { columns: numeric.map((c) => names[c] as string), ignoredColumns, hasHeader, rows: data.length, rowVectors, vector },
  };
}

/** The rows of a CSV file as vectors (row i is node i's input in `aegis sim secagg --inputs`). */
export function csvRowVectors(text: string, opts: CsvOptions = {}): Result<number[][]> {
  const r = parseCsv(text, opts);
  return r.ok ? { ok: true, value: r.value.rowVectors } : r;
}

/**
 * Parse typed numbers separated by commas, semicolons or white space ("1.5, -2 3e2").
 * Errors name the 1-based position of the offending value.
 */
export function parseNumberList(text: string, maxValues: number = MAX_DIMENSION): Result<number[]> {
  if (typeof text !== 'string') return { ok: false, error: 'not text' };
  const tokens = text.split(/[\s,;]+/).filter((s) => s !== '');
  if (tokens.length === 0) return { ok: false, error: 'type at least one number' };
  if (tokens.length > maxValues) return { ok: false, error: `${tokens.length} values, at most ${maxValues}` };
  const out: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] as string;
    const v = parseNumberToken(tok);
    if (v === null) return { ok: false, error: `value ${i + 1}: ${notANumber(tok)}` };
    out.push(v);
  }
  return { ok: true, value: out };
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() || s === '' ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Write a header and rows as CSV (CRLF, RFC 4180); `parseCsv` reads it back to the same numbers. */
export function toCsv(columns: readonly string[], rows: ReadonlyArray<readonly number[]>): string {
  const lines = [columns.map(csvField).join(',')];
  for (const r of rows) lines.push(r.map((v) => String(v)).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
