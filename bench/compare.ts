/**
 * Regression detection: each figure measured against a same-run baseline has a ratio (how many
 * times better than the baseline); a ratio that falls by more than a margin against the
 * reference run is a regression. Ratios, not raw figures, are compared, so a slower or busier
 * machine moves both sides of a ratio and does not read as a regression.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { RecordedFigure } from './report.js';

/** The fall of a ratio, as a share of the reference ratio, that counts as a regression unless `--margin` says otherwise. */
export const DEFAULT_MARGIN = 0.2;

const runsSchema = {
  runs: z.number().int().positive().optional(),
  spread: z.object({ low: z.number(), high: z.number() }).optional(),
};

const figureSchema = z.object({
  bench: z.string(),
  section: z.string(),
  what: z.string(),
  value: z.number(),
  unit: z.string(),
  ...runsSchema,
  baseline: z.object({ what: z.string(), value: z.number(), ...runsSchema }).optional(),
  better: z.enum(['higher', 'lower']).optional(),
  ratio: z.number().optional(),
});

const runSchema = z.object({
  node: z.string(),
  machine: z.string(),
  startedAt: z.string(),
  figures: z.array(figureSchema),
});

/** What `--json` writes: the run's setting and every figure. */
export type BenchRun = z.infer<typeof runSchema>;

export async function writeRun(file: string, run: BenchRun): Promise<void> {
  await writeFile(file, `${JSON.stringify(run, null, 2)}\n`);
}

/** Reads a file written by `--json`; a file of another shape is refused naming what is wrong. */
export async function readRun(file: string): Promise<BenchRun> {
  const parsed = runSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file} is not a benchmark run written by --json: ${issue.path.join('.') || 'the file'}: ${issue.message}`);
  }
  return parsed.data;
}

/** One figure's ratio in the reference run and now. */
export interface RatioChange {
  key: string;
  reference: number;
  current: number;
  /** current / reference − 1: −0.3 is a fall of 30 %. */
  change: number;
}

export interface Comparison {
  compared: RatioChange[];
  regressions: RatioChange[];
  /** Figures with a ratio in the reference that this run did not measure (a benchmark not run, a baseline skipped). */
  notMeasured: string[];
}

const keyOf = (figure: RecordedFigure) => `${figure.bench} › ${figure.section} › ${figure.what}`;

/** Compares every ratio of `current` with the same figure's ratio in `reference`. */
export function compareRuns(reference: RecordedFigure[], current: RecordedFigure[], margin: number): Comparison {
  const now = new Map(current.filter((figure) => figure.ratio !== undefined).map((figure) => [keyOf(figure), figure.ratio!]));
  const compared: RatioChange[] = [];
  const notMeasured: string[] = [];
  for (const figure of reference) {
    if (figure.ratio === undefined) continue;
    const key = keyOf(figure);
    const ratio = now.get(key);
    if (ratio === undefined) notMeasured.push(key);
    else compared.push({ key, reference: figure.ratio, current: ratio, change: ratio / figure.ratio - 1 });
  }
  return { compared, notMeasured, regressions: compared.filter((change) => change.change < -margin) };
}

/** The comparison as lines for a person. */
export function describeComparison(comparison: Comparison, margin: number): string {
  const percent = (change: number) => `${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)} %`;
  const lines = [`\n## comparison with the reference (a ratio falling by more than ${(margin * 100).toFixed(0)} % fails)`];
  for (const change of comparison.compared) {
    const verdict = comparison.regressions.includes(change) ? 'REGRESSION' : 'ok';
    lines.push(
      `  ${verdict}  ${change.key}: ratio ${change.current.toFixed(2)}× (reference ${change.reference.toFixed(2)}×, ${percent(change.change)})`,
    );
  }
  for (const key of comparison.notMeasured) lines.push(`  not measured  ${key}`);
  lines.push(
    `  ${comparison.compared.length} ratios compared, ${comparison.regressions.length} regressions, ${comparison.notMeasured.length} not measured`,
  );
  return `${lines.join('\n')}\n`;
}
