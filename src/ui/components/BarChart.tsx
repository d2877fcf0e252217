/** Horizontal bars with labels and values; bars scale to the largest value. */
export function BarChart({ rows }: { rows: Array<{ label: string; value: number; tone?: 'ok' | 'bad' | 'muted' }> }) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return (
    <div className="bars">
      {rows.map((r) => (
        <div className="bar-row" key={r.label} data-testid={`counter-${r.label}`}>
          <span className="bar-label">{r.label}</span>
          <span className="bar-track">
            <span className={`bar-fill ${r.tone ?? 'ok'}`} style={{ width: `${(r.value / max) * 100}%` }} />
          </span>
          <span className="bar-value">{r.value}</span>
        </div>
      ))}
    </div>
  );
}
