// Ring addition in Z_2^32 with WebAssembly SIMD (i32x4.add / i32x4.sub, four lanes at a time). Adding
// a mask stream in a JavaScript loop costs ~1.4 ns per word on the 2-core test machines — about as
// much as producing the word with WebCrypto's AES-NI — while copying the stream into WebAssembly
// memory and adding it there costs ~0.25 ns (bench/secagg.ts compares whole maskings both ways).
// Lanes wrap modulo 2^32 exactly like Uint32Array stores, so both paths give the same bits.
//
// The module is hand-assembled (WebAssembly core spec 2.0, binary format §5) so the project ships no
// build step for it. In text format:
//   (module
//     (import "env" "memory" (memory 1))
//     (func (export "add") (param $dst i32) (param $src i32) (param $bytes i32)  ;; dst[i] += src[i]
//       (local $end i32)
//       (local.set $end (i32.add (local.get $dst) (local.get $bytes)))
//       (loop $next                                ;; runs at least once: callers pass bytes >= 16
//         (v128.store (local.get $dst) (i32x4.add (v128.load (local.get $dst)) (v128.load (local.get $src))))
//         (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
//         (local.set $src (i32.add (local.get $src) (i32.const 16)))
//         (br_if $next (i32.lt_u (local.get $dst) (local.get $end)))))
//     (func (export "sub") ... the same with i32x4.sub ...))
// Hosts without SIMD (Safari before 16.4) fail `WebAssembly.validate`; pages whose CSP forbids
// WebAssembly throw on compile. Both get `null` here and use the JavaScript loop.

/** The slice of the WebAssembly JS API used here (core compiles without the DOM and Node typings). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}

const OP_I32X4_ADD = 0xae;
const OP_I32X4_SUB = 0xb1;

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

const section = (id: number, body: number[]): number[] => [id, ...leb128(body.length), ...body];
const vector = (items: number[][]): number[] => [...leb128(items.length), ...items.flat()];
const name = (s: string): number[] => [...leb128(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/** Body of `dst[i] op= src[i]` over `bytes` bytes (locals: 0 dst, 1 src, 2 bytes, 3 end). */
function loopBody(simdOp: number): number[] {
  const get = (i: number): number[] => [0x20, i];
  const set = (i: number): number[] => [0x21, i];
  const v128Load = [0xfd, 0x00, 0x04, 0x00]; // align 2^4, offset 0
  const v128Store = [0xfd, 0x0b, 0x04, 0x00];
  const code = [
    0x01, 0x01, 0x7f, // one local of type i32: $end
    ...get(0), ...get(2), 0x6a, ...set(3), // end = dst + bytes
    0x03, 0x40, // loop (no result)
    ...get(0), ...get(0), ...v128Load, ...get(1), ...v128Load, 0xfd, ...leb128(simdOp), ...v128Store,
    ...get(0), 0x41, 0x10, 0x6a, ...set(0), // dst += 16
    ...get(1), 0x41, 0x10, 0x6a, ...set(1), // src += 16
    ...get(0), ...get(3), 0x49, 0x0d, 0x00, // br_if 0 (dst <u end)
    0x0b, // end loop
    0x0b, // end function
  ];
  return [...leb128(code.length), ...code];
}

export const RING_SIMD_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  ...section(1, vector([[0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00]])), // type 0: (i32 i32 i32) -> ()
  ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])), // memory, min 1 page
  ...section(3, vector([[0x00], [0x00]])), // two functions of type 0
  ...section(7, vector([[...name('add'), 0x00, 0x00], [...name('sub'), 0x00, 0x01]])),
  ...section(10, vector([loopBody(OP_I32X4_ADD), loopBody(OP_I32X4_SUB)])),
]);

const WASM_PAGE_BYTES = 65_536;

let compiled: object | null | undefined;

function wasmApi(): WasmApi | undefined {
  return (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
}

/** The compiled module, or null where WebAssembly SIMD is unavailable (tried once per realm). */
function simdModule(): object | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  const wasm = wasmApi();
  try {
    if (wasm !== undefined && wasm.validate(RING_SIMD_MODULE)) compiled = new wasm.Module(RING_SIMD_MODULE);
  } catch {
    // CompileError / EvalError under a CSP without 'wasm-unsafe-eval': the JavaScript loop it is.
  }
  return compiled;
}

export function simdAvailable(): boolean {
  return simdModule() !== null;
}

type RingOp = (dstOffset: number, srcOffset: number, bytes: number) => void;

/** One instance and its memory. Offsets and lengths are in bytes. */
export class SimdRing {
  constructor(
    private readonly memory: WasmMemory,
    /** dst[i] += src[i] for the `bytes / 4` words at the two offsets; `bytes` a positive multiple of 16. */
    readonly add: RingOp,
    readonly sub: RingOp,
  ) {}

  /** The memory; a new ArrayBuffer after `reserve` grew it, so take views after reserving. */
  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (have < bytes) this.memory.grow(Math.ceil((bytes - have) / WASM_PAGE_BYTES));
  }
}

/**
 * One instance kept between calls. A fresh memory costs a page fault per 4 KiB on first touch —
 * 3.2 ms for a 1M-word sum, more than the additions save — so finished sums hand theirs back here.
 * Held: the largest sum so far plus its staging area (~4.3 MB after a 1M-entry round).
 */
let idle: SimdRing | null = null;

/** An instance with at least `bytes` of memory, for one caller until `releaseSimdRing`; null without SIMD. */
export function acquireSimdRing(bytes: number): SimdRing | null {
  const module = simdModule();
  const wasm = wasmApi();
  if (module === null || wasm === undefined) return null;
  let ring = idle;
  idle = null;
  if (ring === null) {
    const memory = new wasm.Memory({ initial: Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES)) });
    const { exports } = new wasm.Instance(module, { env: { memory } });
    ring = new SimdRing(memory, exports['add'] as RingOp, exports['sub'] as RingOp);
  }
  ring.reserve(bytes);
  return ring;
}

/** Give an instance back (its caller wiped what it must); the larger of two idle ones is kept. */
export function releaseSimdRing(ring: SimdRing): void {
  if (idle === null || idle.buffer.byteLength < ring.buffer.byteLength) idle = ring;
}
