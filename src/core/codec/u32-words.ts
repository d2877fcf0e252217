// Big-endian u32 words to and from bytes in bulk: a byte copy and, on little-endian hosts, a byte
// swap over a Uint32Array — ~1 ms for a 1M-word vector, against ~50 ms (more on a loaded page) for
// one DataView call per word. The bytes are exactly those of `ByteWriter.u32` word by word.

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Words swapped per pass when writing (a 256 KiB scratch, not a second copy of the whole vector). */
const BLOCK_WORDS = 64 * 1024;

function swapInPlace(w: Uint32Array): void {
  for (let i = 0; i < w.length; i++) {
    const x = w[i] as number;
    w[i] = (x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
  }
}

/** `v`'s words, big-endian, into `out` from byte `offset` (the caller made room). */
export function writeU32sBE(out: Uint8Array, offset: number, v: Uint32Array): void {
  if (!LITTLE_ENDIAN) {
    out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), offset);
    return;
  }
  const scratch = new Uint32Array(Math.min(BLOCK_WORDS, v.length));
  const scratchBytes = new Uint8Array(scratch.buffer);
  for (let start = 0; start < v.length; start += BLOCK_WORDS) {
    const n = Math.min(BLOCK_WORDS, v.length - start);
    const block = n === scratch.length ? scratch : scratch.subarray(0, n);
    block.set(v.subarray(start, start + n));
    swapInPlace(block);
    out.set(scratchBytes.subarray(0, 4 * n), offset + 4 * start);
  }
}

/** The big-endian words of `bytes` (its length a multiple of 4), in a fresh array. */
export function readU32sBE(bytes: Uint8Array): Uint32Array {
  if (bytes.length % 4 !== 0) throw new Error(`"bytes" must be whole words, got ${bytes.length} bytes`);
  const out = new Uint32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  if (LITTLE_ENDIAN) swapInPlace(out);
  return out;
}
