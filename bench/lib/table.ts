// Markdown tables for the bench's printed summary (padded so they also read well in a terminal).

export type Cell = string | number | null | undefined;

export function formatNumber(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function cellText(c: Cell): string {
  if (c === null || c === undefined) return '—';
  return typeof c === 'number' ? formatNumber(c) : c;
}

/** Columns whose header starts with '>' are right-aligned (the marker is not printed). */
export function markdownTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const right = headers.map((h) => h.startsWith('>'));
  const names = headers.map((h) => (h.startsWith('>') ? h.slice(1) : h));
  const body = rows.map((r) => names.map((_, i) => cellText(r[i])));
  const widths = names.map((h, i) => Math.max(3, h.length, ...body.map((r) => (r[i] as string).length)));
  const pad = (s: string, i: number): string => (right[i] ? s.padStart(widths[i] as number) : s.padEnd(widths[i] as number));
  const line = (cells: string[]): string => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(names), rule, ...body.map(line)].join('\n');
}
