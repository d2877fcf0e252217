// `aegis sim audit --entries N --seed S --export FILE`: write the exported audit log of one
// simulated node (src/sim/audit-sim.ts): seeded entries of every kind, a head every few entries,
// inclusion proofs for every entry and consistency proofs between successive heads.
import { writeFileSync } from 'node:fs';
import { simulateAuditLog } from '../sim/audit-sim.ts';
import { detectEd25519Backend } from '../platform/webcrypto-ed25519.ts';

export interface SimAuditArgs {
  entries: number;
  seed: number;
  exportPath: string;
  headEvery?: number;
  json: boolean;
}

export async function runSimAudit(args: SimAuditArgs): Promise<number> {
  const started = performance.now();
  // Ed25519 is deterministic (RFC 8032): WebCrypto and noble write the same file, WebCrypto faster.
  const backend = await detectEd25519Backend();
  const r = await simulateAuditLog({
    entries: args.entries,
    seed: args.seed,
    backend,
    ...(args.headEvery !== undefined ? { headEvery: args.headEvery } : {}),
  });
  const text = `${JSON.stringify(r.exported, null, 1)}\n`;
  writeFileSync(args.exportPath, text);
  const report = {
    file: args.exportPath,
    bytes: Buffer.byteLength(text),
    entries: r.exported.entries.length,
    heads: r.exported.heads.length,
    kinds: r.kinds,
    origin: r.exported.origin,
    wallMs: Math.round(performance.now() - started),
  };
  if (args.json) console.log(JSON.stringify(report));
  else {
    console.log(`simulated audit log (seed ${args.seed}) → ${report.file}, ${report.bytes} bytes`);
    console.log(`  ${report.entries} entries, ${report.heads} signed heads, log ${report.origin}`);
    console.log(`  kinds: ${Object.entries(report.kinds).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    console.log(`  check it: aegis verify ${report.file}`);
  }
  return 0;
}
