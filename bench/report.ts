/** How many runs a median took and how far they spread (slowest to fastest, in the figure's unit). */
export interface Runs {
  runs?: number;
  spread?: { low: number; high: number };
}

/** One measured figure, optionally beside the baseline it is compared with in the same run. */
export interface Figure extends Runs {
  what: string;
  value: number;
  unit: string;
  baseline?: { what: string; value: number } & Runs;
  /** Whether a larger value is better (throughput) or a smaller one (latency). */
  better?: 'higher' | 'lower';
}

/** A figure as `--json` writes it: where it was measured and, with a baseline, how it compares. */
export interface RecordedFigure extends Figure {
  bench: string;
  section: string;
  /** How many times better than the baseline (above 1: better); present when there is a baseline. */
  ratio?: number;
}

const recorded: RecordedFigure[] = [];
let currentBench = '';
let currentSection = '';

export function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3);
}

/** How many times better than its baseline a figure is, whichever way is better. */
function ratioOf(figure: Figure): number | undefined {
  if (!figure.baseline) return undefined;
  return (figure.better ?? 'higher') === 'higher' ? figure.value / figure.baseline.value : figure.baseline.value / figure.value;
}

/** ` (median of 5 runs, 1.20–1.31)` with a spread, ` (of 30 runs)` for a quantile, ` (1 run)` otherwise. */
export function describeRuns(runs: Runs): string {
  if (runs.runs === undefined || runs.runs === 1) return ' (1 run)';
  if (!runs.spread) return ` (of ${runs.runs} runs)`;
  return ` (median of ${runs.runs} runs, ${format(runs.spread.low)}–${format(runs.spread.high)})`;
}

/** Prints a figure on one line: value, unit, and against the baseline the ratio; keeps it for `--json`. */
export function report(figure: Figure): void {
  const ratio = ratioOf(figure);
  let line = `  ${figure.what}: ${format(figure.value)} ${figure.unit}${describeRuns(figure)}`;
  if (figure.baseline && ratio !== undefined) {
    line += `  | baseline ${figure.baseline.what}: ${format(figure.baseline.value)} ${figure.unit}${describeRuns(figure.baseline)}  | ratio ${ratio.toFixed(2)}×`;
  }
  process.stdout.write(`${line}\n`);
  recorded.push({ ...figure, bench: currentBench, section: currentSection, ...(ratio === undefined ? {} : { ratio }) });
}

export function section(title: string): void {
  currentSection = title;
  process.stdout.write(`\n## ${title}\n`);
}

/** Names the benchmark whose figures follow. */
export function beginBench(name: string): void {
  currentBench = name;
  currentSection = '';
}

/** Every figure reported so far in this run. */
export function recordedFigures(): RecordedFigure[] {
  return [...recorded];
}

/** Median of a sample. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The q-quantile (0…1) of a sample, nearest rank. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
