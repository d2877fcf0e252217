// Reads a CDP CPU profile (Profiler.stop) for e2e/round-1m.spec.ts: the hottest functions by self
// time over the whole profile, and the longest busy stretch of the main thread — consecutive
// samples none of which is '(idle)', which is what a main-thread block is — with its hottest
// functions and its heaviest stacks, so a long block can be pinned on the code that made it.

/** What this file reads of a CDP Profiler.Profile. */
interface Profile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  startTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const label = (n: Profile['nodes'][number]): string =>
  `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1}`;

function top(entries: Map<string, number>, count: number): string {
  return [...entries]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([k, ms]) => `${ms.toFixed(0).padStart(6)} ms ${k}`)
    .join('\n');
}

export function profileReport(profile: Profile, count = 20, stretches = 3): string {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // Sample i covers the time up to sample i + 1.
  const times: number[] = [];
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) times.push((t += deltas[i] ?? 0));
  const dur = (i: number): number => ((times[i + 1] ?? times[i]!) - times[i]!) / 1000;
  const selfOver = (from: number, to: number): Map<string, number> => {
    const byName = new Map<string, number>();
    for (let i = from; i < to; i++) {
      const key = label(nodes.get(samples[i]!)!);
      byName.set(key, (byName.get(key) ?? 0) + dur(i));
    }
    return byName;
  };
  const stackOf = (id: number): string => {
    const frames: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = nodes.get(at)!;
      if (n.callFrame.functionName === '(root)') break;
      frames.push(label(n));
    }
    return frames.slice(0, 12).join(' < ');
  };
  // Busy stretches: maximal runs of samples that are not '(idle)'.
  const runs: Array<{ from: number; to: number; ms: number }> = [];
  let from = -1;
  for (let i = 0; i <= samples.length; i++) {
    const idle = i === samples.length || nodes.get(samples[i]!)!.callFrame.functionName === '(idle)';
    if (!idle && from < 0) from = i;
    if (idle && from >= 0) {
      runs.push({ from, to: i, ms: (times[i - 1]! - times[from]!) / 1000 + dur(i - 1) });
      from = -1;
    }
  }
  runs.sort((a, b) => b.ms - a.ms);
  const out = [`whole profile, self time:\n${top(selfOver(0, samples.length), count)}`];
  for (const r of runs.slice(0, stretches)) {
    const stacks = new Map<string, number>();
    for (let i = r.from; i < r.to; i++) {
      const key = stackOf(samples[i]!);
      stacks.set(key, (stacks.get(key) ?? 0) + dur(i));
    }
    out.push(
      `busy stretch of ${r.ms.toFixed(0)} ms at +${((times[r.from]! - profile.startTime) / 1000).toFixed(0)} ms, self time:\n${top(selfOver(r.from, r.to), 12)}\n` +
        `  heaviest stacks:\n${top(stacks, 6)}`,
    );
  }
  return out.join('\n');
}
