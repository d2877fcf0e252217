// `aegis verify FILE [--json]`: check an exported audit log offline. Exit 0 when every check passes,
// 1 with the failures otherwise (the caller maps a missing or unreadable file to a usage error).
import { readFileSync } from 'node:fs';
import { abbreviatedList, verifyExportedLog, type Verdict } from '../core/ledger/verify.ts';
import { detectEd25519Backend } from '../platform/webcrypto-ed25519.ts';

export interface VerifyArgs {
  file: string;
  json: boolean;
}

export interface VerifyReport extends Verdict {
  file: string;
  timeMs: number;
}

export async function verifyFile(file: string): Promise<VerifyReport> {
  const text = readFileSync(file, 'utf8');
  // WebCrypto Ed25519 where Node has it (after a known-answer self-test), noble otherwise.
  const verifier = await detectEd25519Backend();
  const started = performance.now();
  const verdict = await verifyExportedLog(text, { verifier });
  return { file, ...verdict, timeMs: Math.round((performance.now() - started) * 10) / 10 };
}

export async function runVerify(args: VerifyArgs): Promise<number> {
  const r = await verifyFile(args.file);
  if (args.json) {
    console.log(JSON.stringify(r));
    return r.ok ? 0 : 1;
  }
  console.log(
    r.ok
      ? `✓ valid audit log: ${r.entries} entries, ${r.heads} signed heads (${r.timeMs} ms)`
      : `✗ INVALID audit log: ${r.failures.length} failure${r.failures.length === 1 ? '' : 's'} (${r.timeMs} ms)`,
  );
  for (const f of r.failures) console.log(`  ✗ ${f.where}: ${f.reason}`);
  console.log(receiptsLine(r));
  console.log('checked:');
  for (const c of r.checked) console.log(`  - ${c}`);
  return r.ok ? 0 : 1;
}

/** Which receipts were checked in full, or why their QCs were not. */
function receiptsLine(r: Verdict): string {
  if (r.receiptQcs === 'no-receipts') return 'receipts: none in the log';
  if (r.receiptQcs === 'not-checked') return "receipts: QCs not checked (the export carries no genesis and set-change certificates)";
  const n = r.receiptsFullyChecked.length;
  return `receipts: ${n} fully checked offline through genesis ${r.genesisHash?.slice(0, 16) ?? '?'}… and its certificates${n > 0 ? ` (entries ${abbreviatedList(r.receiptsFullyChecked)})` : ''}`;
}
