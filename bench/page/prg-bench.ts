// Page side of the prg suite (bench/prg-suite.ts): bench/prg.ts's benchPrg in a Chromium tab, so the
// mask PRG candidates are compared where browsers run them (WebCrypto's AES-CTR is Chromium's
// BoringSSL there, noble's code is V8's JIT).
import { benchPrg, type PrgBenchOptions } from '../prg.ts';

declare global {
  interface Window {
    aegisPrgBench?: { run(options: Pick<PrgBenchOptions, 'words' | 'runs'>): ReturnType<typeof benchPrg> };
  }
}

window.aegisPrgBench = { run: (options) => benchPrg(options) };
