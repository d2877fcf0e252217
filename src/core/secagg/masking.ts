// Vector arithmetic in Z_2^32: masking an input and removing masks from a sum. Uint32Array stores
// reduce modulo 2^32 by themselves (ToUint32), so plain += and -= are ring operations.
import type { PrgBackend } from '../crypto/prg.ts';

export interface PairMask {
  seed: Uint8Array;
  sign: 1 | -1;
}

/** y = x + PRG(b) + Σ sign·PRG(s_uv)  (Bonawitz §4, MaskedInputCollection). Returns a new vector. */
export async function maskInput(encoded: Uint32Array, selfSeed: Uint8Array, pairs: readonly PairMask[], prg: PrgBackend): Promise<Uint32Array> {
  const y = encoded.slice();
  addStream(y, await prg.expand(selfSeed, y.length), 1);
  for (const p of pairs) addStream(y, await prg.expand(p.seed, y.length), p.sign);
  return y;
}

/** acc += sign · v (mod 2^32), in place. */
export function addStream(acc: Uint32Array, v: Uint32Array, sign: 1 | -1): void {
  const n = acc.length;
  if (sign === 1) for (let i = 0; i < n; i++) acc[i] = (acc[i] as number) + (v[i] as number);
  else for (let i = 0; i < n; i++) acc[i] = (acc[i] as number) - (v[i] as number);
}

/** Σ vectors (mod 2^32). */
export function sumVectors(vectors: readonly Uint32Array[], dimension: number): Uint32Array {
  const acc = new Uint32Array(dimension);
  for (const v of vectors) addStream(acc, v, 1);
  return acc;
}
