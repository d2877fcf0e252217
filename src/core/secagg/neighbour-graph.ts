// Who masks with whom. Small rounds: the complete graph (Bonawitz et al. 2017). Larger rounds:
// the SecAgg+ graph (Bell et al. 2020): a k-regular Harary graph H(k, n) laid over a permutation of
// the participants drawn from a public round seed, so the aggregator cannot choose neighbourhoods.
// What the rule tolerates (dropout, corruption) is computed as binomial tails in threshold-rule.ts.
//
// The documented rule for k and t (overridable through num_shares / reconstruction_threshold):
//   n ≤ complete_graph_max:  k = n − 1                     (every other participant)
//   otherwise:               k = 2·⌈3.6·log2 n⌉, capped at n − 1 and at 254 (even, for Harary)
//                            → n = 1000 gives k = 72, Google's parameter finder's degree.
//   shares per secret = k + 1 (the neighbours and the node itself); threshold t = ⌊2(k+1)/3⌋ + 1,
//   so a secret survives while fewer than a third of its holders drop out, the t − 1 or fewer
//   holders an adversary might control learn nothing, and a malicious aggregator that shows
//   different survivor lists needs more than a third of a secret's holders corrupt to collect both
//   secrets. Over n neighbourhoods, random dropout must stay well below a third for none to fall
//   short: 8% at n = 1000 for a shortfall probability ≤ 1e-6 (threshold-rule.ts). Higher dropout
//   needs an explicit, lower reconstruction_threshold (thresholdForDropout), semi-honest only.
import { concatBytes, utf8ToBytes } from '../bytes.ts';
import { sha256 } from '../crypto/hash.ts';
import type { SecAggParams } from './params.ts';

export interface GraphShape {
  /** Neighbours per node. */
  degree: number;
  /** Shares per secret (degree + 1). */
  shares: number;
  threshold: number;
  complete: boolean;
}

export function graphShape(n: number, p: Pick<SecAggParams, 'num_shares' | 'reconstruction_threshold' | 'complete_graph_max'>): GraphShape {
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`"n" must be a positive integer, got ${n}`);
  let degree: number;
  let complete: boolean;
  if (p.num_shares > 0) {
    degree = Math.min(n - 1, p.num_shares - 1);
    if (degree < n - 1 && degree % 2 === 1) degree -= 1; // Harary with even degree
    complete = degree === n - 1;
  } else if (n <= p.complete_graph_max) {
    degree = n - 1;
    complete = true;
  } else {
    degree = Math.min(n - 1, 254, 2 * Math.ceil(3.6 * Math.log2(n)));
    if (degree % 2 === 1) degree -= 1;
    complete = degree === n - 1;
  }
  const shares = degree + 1;
  const threshold = p.reconstruction_threshold > 0 ? Math.min(p.reconstruction_threshold, shares) : Math.floor((2 * shares) / 3) + 1;
  return { degree, shares, threshold: Math.min(threshold, shares), complete };
}

/** Deterministic permutation of `ids` from a 32-byte public seed (SHA-256 in counter mode). */
export function seededPermutation(ids: readonly string[], seed: Uint8Array): string[] {
  const out = ids.slice().sort();
  let block: Uint8Array = new Uint8Array(0);
  let pos = 0;
  let counter = 0;
  const next = (): number => {
    if (pos + 4 > block.length) {
      block = sha256(concatBytes(seed, utf8ToBytes(`perm:${counter++}`)));
      pos = 0;
    }
    const v = ((block[pos] as number) << 24) | ((block[pos + 1] as number) << 16) | ((block[pos + 2] as number) << 8) | (block[pos + 3] as number);
    pos += 4;
    return v >>> 0;
  };
  for (let i = out.length - 1; i > 0; i--) {
    // Rejection sampling keeps the shuffle unbiased.
    const bound = i + 1;
    const limit = 2 ** 32 - (2 ** 32 % bound);
    let r = next();
    while (r >= limit) r = next();
    const j = r % bound;
    const t = out[i] as string;
    out[i] = out[j] as string;
    out[j] = t;
  }
  return out;
}

/** Who neighbours whom, asked one node at a time. */
export interface Neighbourhoods {
  /** The neighbours of `id` (undefined for an id not in the round). */
  get(id: string): ReadonlySet<string> | undefined;
}

/**
 * Neighbours of every participant (symmetric, no self-loops): complete, or the Harary graph H(k, n)
 * over the seeded permutation — node at position i neighbours positions i ± 1 … i ± k/2 (mod n).
 * Built on demand: a participant asks for its own neighbours and theirs (O(k²)), so it need not
 * build all n·k/2 edges of a 1000-node round (the permutation, O(n), is still drawn in full).
 * Answers are cached.
 */
export function neighbourhoods(ids: readonly string[], seed: Uint8Array, shape: GraphShape): Neighbourhoods {
  const cache = new Map<string, ReadonlySet<string>>();
  if (shape.complete) {
    const all = new Set(ids);
    return {
      get(id) {
        if (!all.has(id)) return undefined;
        let set = cache.get(id);
        if (!set) cache.set(id, (set = new Set(ids.filter((v) => v !== id))));
        return set;
      },
    };
  }
  const order = seededPermutation(ids, seed);
  const position = new Map(order.map((id, i) => [id, i]));
  const n = order.length;
  const half = shape.degree / 2;
  return {
    get(id) {
      const i = position.get(id);
      if (i === undefined) return undefined;
      let set = cache.get(id);
      if (!set) {
        const s = new Set<string>();
        for (let d = 1; d <= half; d++) s.add(order[(i + d) % n] as string).add(order[(i - d + n) % n] as string);
        cache.set(id, (set = s));
      }
      return set;
    },
  };
}
