import { useState, type ChangeEvent } from 'react';
import { CSV_DEFAULTS, parseCsv, parseNumberList, type ParsedCsv } from '../../core/secagg/csv.ts';
import { bytes } from '../format.ts';
import { coordinateLabel, num } from './VectorView.tsx';

interface Draft {
  values: number[];
  labels: string[] | null;
  /** "typed", or the CSV file's name. */
  source: string;
}

const PREVIEW = 16;
/** A CSV vector up to this length is also written into the text box, where it can be edited. */
const TEXT_ECHO_MAX = 64;

/**
 * Type numbers or load a CSV file; check what will be contributed (columns, rows, values the
 * clipping range will clip); then hand it to the node. A bad file leaves everything as it was.
 */
export function InputEditor({
  input,
  inputLabels,
  clippingRange,
  onUse,
}: {
  input: readonly number[] | null;
  inputLabels: readonly string[] | null;
  clippingRange: number | null;
  onUse: (values: readonly number[] | null, labels: readonly string[] | null) => void;
}) {
  const [text, setText] = useState('');
  const [textError, setTextError] = useState<string | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [csv, setCsv] = useState<{ name: string; parsed: ParsedCsv } | null>(null);
  const [csvError, setCsvError] = useState<string | null>(null);

  const onText = (value: string): void => {
    setText(value);
    if (value.trim() === '') {
      setTextError(null);
      setDraft(null);
      return;
    }
    const r = parseNumberList(value);
    if (!r.ok) {
      setTextError(r.error);
      setDraft(null);
      return;
    }
    setTextError(null);
    // Edited numbers keep the CSV's column names only while there are as many of them.
    const labels = draft?.labels && draft.labels.length === r.value.length ? draft.labels : null;
    const from = draft?.source.replace(/ \(edited\)$/, '');
    setDraft({ values: r.value, labels, source: labels && from && from !== 'typed' ? `${from} (edited)` : 'typed' });
  };

  const onFile = async (e: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const el = e.currentTarget;
    const file = el.files?.[0];
    el.value = ''; // choosing the same file again must fire a change
    if (!file) return;
    if (file.size > CSV_DEFAULTS.maxBytes) {
      setCsvError(`${file.name}: the file is ${bytes(file.size)}, over the ${bytes(CSV_DEFAULTS.maxBytes)} limit`);
      return;
    }
    let textContent: string;
    try {
      textContent = await file.text();
    } catch (err) {
      setCsvError(`${file.name}: could not be read (${err instanceof Error ? err.message : String(err)})`);
      return;
    }
    const r = parseCsv(textContent);
    if (!r.ok) {
      setCsvError(`${file.name}: ${r.error}`);
      return;
    }
    setCsvError(null);
    setCsv({ name: file.name, parsed: r.value });
    setDraft({ values: r.value.vector, labels: r.value.columns, source: file.name });
    setTextError(null);
    setText(r.value.vector.length <= TEXT_ECHO_MAX ? r.value.vector.map(num).join(', ') : '');
  };

  const c = clippingRange;
  const clipped = (v: number): boolean => c !== null && Math.abs(v) > c;
  const clippedCount = draft ? draft.values.filter(clipped).length : 0;

  return (
    <div className="secagg-input" aria-label="your input">
      <h3>Your private input</h3>
      <label className="field">
        <span className="small muted">Numbers, separated by commas or spaces</span>
        <textarea
          data-testid="secagg-input"
          rows={2}
          value={text}
          placeholder={csv && draft?.source === csv.name && !text ? `${draft.values.length} values from ${csv.name}` : 'e.g. 1.5, -2, 3.25'}
          onChange={(e) => onText(e.target.value)}
          spellCheck={false}
        />
      </label>
      {textError && (
        <p className="warn small" data-testid="secagg-input-error" role="alert">
          {textError}
        </p>
      )}
      <label className="field file">
        <span className="small muted">or load a CSV file (header row, then numeric rows)</span>
        <input data-testid="secagg-csv" type="file" accept=".csv,text/csv" onChange={(e) => void onFile(e)} />
      </label>
      {csvError && (
        <p className="error-text small" data-testid="csv-error" role="alert">
          {csvError}
        </p>
      )}
      {csv && (
        <p className="small" data-testid="csv-summary">
          <b>{csv.name}</b>: {csv.parsed.columns.length} numeric column{csv.parsed.columns.length === 1 ? '' : 's'}
          {csv.parsed.columns.length <= 12 && <> ({csv.parsed.columns.join(', ')})</>}, {csv.parsed.rows} row
          {csv.parsed.rows === 1 ? '' : 's'}
          {csv.parsed.rows > 1 && ' → the per-column sum is contributed'}
          {csv.parsed.ignoredColumns.length > 0 && (
            <span className="muted"> · text columns ignored: {csv.parsed.ignoredColumns.join(', ')}</span>
          )}
        </p>
      )}
      {draft && (
        <div className="draft" data-testid="secagg-draft">
          <p className="small">
            {draft.values.length} value{draft.values.length === 1 ? '' : 's'}
            {draft.source !== 'typed' && <> from {draft.source}</>}
            {c !== null && (
              <>
                {' '}
                · clipping range ±{num(c)}
                {clippedCount > 0 && (
                  <span className="warn">
                    {' '}
                    · {clippedCount} will be clipped
                  </span>
                )}
              </>
            )}
          </p>
          <ul className="chips">
            {draft.values.slice(0, PREVIEW).map((v, i) => (
              <li key={i} className={clipped(v) ? 'clipped' : ''} title={clipped(v) ? `will be clipped to ${v < 0 ? '-' : ''}${num(c as number)}` : undefined}>
                <span className="muted">{coordinateLabel(draft.labels, i)}</span> {num(v)}
                {clipped(v) && <span className="warn"> will be clipped</span>}
              </li>
            ))}
            {draft.values.length > PREVIEW && <li className="muted">… {draft.values.length - PREVIEW} more</li>}
          </ul>
        </div>
      )}
      <div className="row">
        <button type="button" data-testid="secagg-use-input" disabled={!draft} onClick={() => draft && onUse(draft.values, draft.labels)}>
          Use as my input
        </button>
        {input && (
          <button type="button" className="secondary" data-testid="secagg-clear-input" onClick={() => onUse(null, null)}>
            Stop contributing
          </button>
        )}
      </div>
      <p className="small current-input" data-testid="current-input">
        {input ? (
          <>
            Joining rounds with{' '}
            <code>
              [{input.slice(0, PREVIEW).map((v, i) => `${inputLabels ? `${coordinateLabel(inputLabels, i)}: ` : ''}${num(v)}`).join(', ')}
              {input.length > PREVIEW ? ', …' : ''}]
            </code>{' '}
            <span className="muted">
              ({input.length} value{input.length === 1 ? '' : 's'}; never leaves this device unmasked)
            </span>
          </>
        ) : (
          <span className="muted">No input set: this node only watches rounds.</span>
        )}
      </p>
    </div>
  );
}
