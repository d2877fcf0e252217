/**
 * The WebCrypto variant of a primitive where the host has `crypto.subtle` and the variant passes its
 * known-answer self-test; the noble fallback otherwise (insecure contexts have no crypto.subtle, and
 * some browsers lack a curve in it).
 */
export async function detectBackend<B>(
  make: (subtle: SubtleCrypto) => B,
  selfTest: (backend: B) => Promise<boolean>,
  fallback: B,
): Promise<B> {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (subtle === undefined) return fallback;
  try {
    const backend = make(subtle);
    if (await selfTest(backend)) return backend;
  } catch {
    // NotSupportedError and friends: fall through to noble.
  }
  return fallback;
}
