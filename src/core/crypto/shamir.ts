// Shamir secret sharing (Shamir 1979) of 32-byte secrets: the self-mask seed and the mask private key
// of Bonawitz et al. 2017 (§4, ShareKeys), so the aggregator can remove the masks of those who
// drop out, with any `threshold` of the holders and never fewer.
//
// Field: GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11b), one independent polynomial
// per secret byte, shares at x = 1..255 — the construction of SLIP-39 and HashiCorp Vault. Chosen
// over a prime field because (1) any 32 bytes can be shared as they are (a 32-byte X25519 secret or
// seed does not fit below the prime 2^255 - 19), (2) a share is exactly as long as the secret, and
// (3) arithmetic needs no BigInt: addition is XOR and multiplication by a public x is shifts and XORs,
// done here four bytes at a time in 32-bit words. The cost is the bound of 255 holders, above the
// neighbour degrees secure aggregation uses (k = 72 for n = 1000, SecAgg+).
//
// Timing: the secret bytes only ever go through XOR, AND and shifts; branches and loop bounds depend
// only on public values (x-coordinates, threshold). JavaScript promises no constant time, but no
// table is indexed by a secret.
import { ByteReader, DecodeError, safeDecode } from '../codec/index.ts';
import type { Random } from '../clock.ts';
import type { Result } from '../result.ts';

export const SHAMIR_SECRET_BYTES = 32;
export const SHAMIR_MAX_SHARES = 255;
export const SHARE_ENCODING_VERSION = 1;
/** version (1) || x (1) || y (32). */
export const ENCODED_SHARE_BYTES = 2 + SHAMIR_SECRET_BYTES;

export interface Share {
  /** The evaluation point, 1..255; never 0 (that is the secret). */
  readonly x: number;
  /** The 32 polynomial values at x, one per secret byte. */
  readonly y: Uint8Array;
}

const WORDS = SHAMIR_SECRET_BYTES / 4;

/** Multiply four packed GF(2^8) elements by x (0x02): shift each byte, reduce those that overflowed. */
function xtime4(w: number): number {
  return (((w & 0x7f7f7f7f) << 1) ^ (((w >>> 7) & 0x01010101) * 0x1b)) >>> 0;
}

/** out[i] (^)= words[i] * c for a PUBLIC field element c; branches on c's bits only. */
function mulPublicInto(words: Uint32Array, c: number, out: Uint32Array, accumulate: boolean): void {
  for (let i = 0; i < WORDS; i++) {
    let a = words[i] as number;
    let r = 0;
    for (let bit = 0; bit < 8; bit++) {
      if ((c >> bit) & 1) r ^= a;
      a = xtime4(a);
    }
    out[i] = accumulate ? ((out[i] as number) ^ r) >>> 0 : r >>> 0;
  }
}

// Log and antilog tables for the generator 0x03, used ONLY on public values (x-coordinates and the
// Lagrange coefficients made from them), where indexing by value leaks nothing.
const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
for (let i = 0, v = 1; i < 255; i++) {
  EXP[i] = v;
  EXP[i + 255] = v;
  LOG[v] = i;
  v ^= ((v << 1) ^ (v & 0x80 ? 0x11b : 0)) & 0xff; // v * 3 = v * 2 + v
}

/** Product of two public field elements. */
function gfMulPublic(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : (EXP[(LOG[a] as number) + (LOG[b] as number)] as number);
}

/** Quotient of two public field elements; b must be non-zero. */
function gfDivPublic(a: number, b: number): number {
  return a === 0 ? 0 : (EXP[(LOG[a] as number) + 255 - (LOG[b] as number)] as number);
}

function assertThreshold(threshold: number): void {
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > SHAMIR_MAX_SHARES)
    throw new Error(`"threshold" must be an integer in [1, ${SHAMIR_MAX_SHARES}], got ${threshold}`);
}

/**
 * Split `secret` (32 bytes) into `shareCount` shares at x = 1..shareCount, any `threshold` of which
 * reconstruct it; fewer reveal nothing about it (each byte's polynomial has threshold - 1 uniformly
 * random coefficients from `random`). Throws, naming the field, on invalid arguments.
 */
export function split(secret: Uint8Array, threshold: number, shareCount: number, random: Random): Share[] {
  if (!(secret instanceof Uint8Array) || secret.length !== SHAMIR_SECRET_BYTES)
    throw new Error(`"secret" must be ${SHAMIR_SECRET_BYTES} bytes`);
  assertThreshold(threshold);
  if (!Number.isInteger(shareCount) || shareCount < threshold || shareCount > SHAMIR_MAX_SHARES)
    throw new Error(`"shareCount" must be an integer in [threshold = ${threshold}, ${SHAMIR_MAX_SHARES}], got ${shareCount}`);
  // Coefficients a_0 (the secret), a_1 .. a_{t-1} (random), WORDS packed words each. Packing order
  // does not matter: every operation works on each byte lane separately.
  const coefficients = new Uint32Array(threshold * WORDS);
  const coefficientBytes = new Uint8Array(coefficients.buffer);
  coefficientBytes.set(secret);
  if (threshold > 1) {
    const randomBytes = random.bytes((threshold - 1) * SHAMIR_SECRET_BYTES);
    if (randomBytes.length !== (threshold - 1) * SHAMIR_SECRET_BYTES) throw new Error('"random" returned the wrong number of bytes');
    coefficientBytes.set(randomBytes, SHAMIR_SECRET_BYTES);
    randomBytes.fill(0);
  }
  const acc = new Uint32Array(WORDS);
  const accBytes = new Uint8Array(acc.buffer);
  const shares: Share[] = [];
  try {
    for (let x = 1; x <= shareCount; x++) {
      // Horner: ((a_{t-1} x + a_{t-2}) x + ...) x + a_0.
      acc.set(coefficients.subarray((threshold - 1) * WORDS));
      for (let i = threshold - 2; i >= 0; i--) {
        mulPublicInto(acc, x, acc, false);
        for (let w = 0; w < WORDS; w++) acc[w] = ((acc[w] as number) ^ (coefficients[i * WORDS + w] as number)) >>> 0;
      }
      shares.push({ x, y: accBytes.slice() });
    }
  } finally {
    coefficients.fill(0);
    acc.fill(0);
  }
  return shares;
}

/**
 * Reconstruct the secret from the first `threshold` of `shares` (Lagrange interpolation at x = 0).
 * For data already validated: throws, naming the field, on too few shares, a repeated or invalid x,
 * or a y of the wrong size. With fewer than the split's real threshold the result is a uniformly
 * random-looking value, not an error — nothing in the shares can tell.
 */
export function combine(shares: readonly Share[], threshold: number): Uint8Array {
  assertThreshold(threshold);
  if (!Array.isArray(shares) || shares.length < threshold)
    throw new Error(`"shares" must hold at least threshold = ${threshold} shares, got ${Array.isArray(shares) ? shares.length : typeof shares}`);
  const seen = new Set<number>();
  shares.forEach((share, i) => {
    if (!Number.isInteger(share.x) || share.x < 1 || share.x > SHAMIR_MAX_SHARES)
      throw new Error(`"shares[${i}].x" must be an integer in [1, ${SHAMIR_MAX_SHARES}], got ${share.x}`);
    if (!(share.y instanceof Uint8Array) || share.y.length !== SHAMIR_SECRET_BYTES)
      throw new Error(`"shares[${i}].y" must be ${SHAMIR_SECRET_BYTES} bytes`);
    if (seen.has(share.x)) throw new Error(`"shares[${i}].x" repeats x = ${share.x}`);
    seen.add(share.x);
  });
  const used = shares.slice(0, threshold);
  const result = new Uint32Array(WORDS);
  const y = new Uint32Array(WORDS);
  const yBytes = new Uint8Array(y.buffer);
  try {
    for (let i = 0; i < used.length; i++) {
      const xi = (used[i] as Share).x;
      // l_i(0) = prod_{j != i} x_j / (x_j - x_i); subtraction is XOR in GF(2^8).
      let numerator = 1;
      let denominator = 1;
      for (let j = 0; j < used.length; j++) {
        if (j === i) continue;
        const xj = (used[j] as Share).x;
        numerator = gfMulPublic(numerator, xj);
        denominator = gfMulPublic(denominator, xi ^ xj);
      }
      yBytes.set((used[i] as Share).y);
      mulPublicInto(y, gfDivPublic(numerator, denominator), result, true);
    }
    return new Uint8Array(result.buffer).slice();
  } finally {
    result.fill(0);
    y.fill(0);
  }
}

/** version 1 || x || y: 34 bytes. Throws, naming the field, on a share `split` could not have made. */
export function encodeShare(share: Share): Uint8Array {
  if (!Number.isInteger(share.x) || share.x < 1 || share.x > SHAMIR_MAX_SHARES)
    throw new Error(`"share.x" must be an integer in [1, ${SHAMIR_MAX_SHARES}], got ${share.x}`);
  if (!(share.y instanceof Uint8Array) || share.y.length !== SHAMIR_SECRET_BYTES)
    throw new Error(`"share.y" must be ${SHAMIR_SECRET_BYTES} bytes`);
  const out = new Uint8Array(ENCODED_SHARE_BYTES);
  out[0] = SHARE_ENCODING_VERSION;
  out[1] = share.x;
  out.set(share.y, 2);
  return out;
}

/** Strict decode of untrusted bytes: exactly 34 bytes, version 1, x in 1..255. Never throws. */
export function decodeShare(bytes: Uint8Array): Result<Share> {
  return safeDecode(() => {
    const reader = new ByteReader(bytes);
    const version = reader.u8('share version');
    if (version !== SHARE_ENCODING_VERSION) throw new DecodeError(`unknown share version ${version}`);
    const x = reader.u8('share x');
    if (x === 0) throw new DecodeError('share x must not be 0');
    const y = reader.bytes(SHAMIR_SECRET_BYTES, 'share y').slice();
    reader.end('share');
    return { x, y };
  });
}
