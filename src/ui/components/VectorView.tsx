/** A real number for display: integers as they are, others to at most 6 decimals. */
export function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e12)) return v.toExponential(4);
  return String(Number(v.toFixed(6)));
}

/** A ring element (one uint32 coordinate of a masked vector) as hex. */
export function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

/** Coordinate i's name: the column name when known, else "#1", "#2", …. */
export function coordinateLabel(labels: readonly string[] | null, i: number): string {
  return labels?.[i] ?? `#${i + 1}`;
}

const SHOWN = 24;

/**
 * Per-coordinate sum and mean of a round's result, with a bar per coordinate that grows left for
 * negative sums and right for positive ones (scaled to the largest magnitude).
 */
export function VectorView({ sum: all, mean, labels }: { sum: ArrayLike<number>; mean: ArrayLike<number>; labels: readonly string[] | null }) {
  const sum = Array.from({ length: Math.min(SHOWN, all.length) }, (_, i) => all[i] as number); // only the shown rows
  const max = Math.max(1e-12, ...sum.map(Math.abs));
  return (
    <div className="table-scroll">
      <table className="vector-view">
        <thead>
          <tr>
            <th>column</th>
            <th className="num">sum</th>
            <th className="num">mean</th>
            <th className="bar-cell" aria-hidden />
          </tr>
        </thead>
        <tbody>
          {sum.slice(0, SHOWN).map((s, i) => {
            const width = `${(Math.abs(s) / max) * 50}%`;
            return (
              <tr key={i}>
                <td className="label-cell" title={coordinateLabel(labels, i)}>
                  {coordinateLabel(labels, i)}
                </td>
                <td className="num">{num(s)}</td>
                <td className="num">{num(mean[i] ?? 0)}</td>
                <td className="bar-cell" aria-hidden>
                  <span className="dbar">
                    <span className={`dbar-fill ${s < 0 ? 'neg' : 'pos'}`} style={s < 0 ? { right: '50%', width } : { left: '50%', width }} />
                  </span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {all.length > SHOWN && <p className="muted small">… and {all.length - SHOWN} more coordinates</p>}
    </div>
  );
}
