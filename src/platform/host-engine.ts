// The secure-aggregation engine of this host, as the worker runs it and as the page runs it when no
// worker starts: core's `localEngine` with the PRG this host has (WebCrypto AES-CTR where
// crypto.subtle exists, noble's otherwise; the words are identical) and WebCrypto's SHA-256 where
// it exists (noble's otherwise).
import { localEngine, type SecAggEngine } from '../core/secagg/engine.ts';
import { cryptoRandom } from './crypto-random.ts';
import { detectPrgBackend } from './webcrypto-prg.ts';
import { detectWebCryptoSha256 } from './webcrypto-sha256.ts';

export async function hostEngine(): Promise<SecAggEngine> {
  const [prg, digest] = await Promise.all([detectPrgBackend(), detectWebCryptoSha256()]);
  return localEngine(prg, cryptoRandom(), digest ? { digest } : {});
}
