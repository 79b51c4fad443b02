/**
 * Fair timing for benchmarks that set a figure beside a baseline: one untimed warm-up of each
 * contender, then `runs` timed rounds that alternate which contender goes first, each run
 * after an untimed `prepare` (an empty table, rows to update). The figure is the median; the
 * spread (fastest and slowest run) and the run count travel with it.
 */

/** What a contender's runs took, in seconds. */
export interface Sample {
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** A figure's statistics in its own unit: the median, its run count and its spread. */
export interface Measured {
  value: number;
  runs: number;
  spread: { low: number; high: number };
}

export interface Contender {
  /** Untimed work before each run, warm-up included. */
  prepare?: () => unknown;
  run: () => unknown;
}

/** Runs given by TICKFORGE_BENCH_RUNS (odd, so the median is one run), else `fallback`. */
export function benchRuns(fallback = 5): number {
  const runs = Number(process.env.TICKFORGE_BENCH_RUNS ?? fallback);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`TICKFORGE_BENCH_RUNS must be a whole number ≥ 1, got ${runs}`);
  return runs;
}

export function summarize(seconds: number[]): Sample {
  const sorted = [...seconds].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: sorted.length };
}

export async function timed(run: () => unknown): Promise<number> {
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

/**
 * Times every contender `runs` times after one warm-up each; round i runs them in the given
 * order when i is even and in reverse when odd, so neither always runs on a warmer cache.
 */
export async function interleaved<K extends string>(
  contenders: Record<K, Contender>,
  runs = benchRuns(),
): Promise<Record<K, Sample>> {
  const names = Object.keys(contenders) as K[];
  for (const name of names) {
    await contenders[name].prepare?.();
    await contenders[name].run();
  }
  const seconds = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < runs; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      await contenders[name].prepare?.();
      seconds[name].push(await timed(contenders[name].run));
    }
  }
  return Object.fromEntries(names.map((name) => [name, summarize(seconds[name])])) as Record<K, Sample>;
}

/** `count` items per run as a rate per second: the median run's rate, spread from the slowest to the fastest run. */
export function rate(count: number, sample: Sample): Measured {
  return { value: count / sample.median, runs: sample.runs, spread: { low: count / sample.max, high: count / sample.min } };
}

/** A sample in seconds as it is. */
export function duration(sample: Sample): Measured {
  return { value: sample.median, runs: sample.runs, spread: { low: sample.min, high: sample.max } };
}
