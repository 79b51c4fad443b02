/** One measured figure, optionally beside the baseline it is compared with in the same run. */
export interface Figure {
  what: string;
  value: number;
  unit: string;
  baseline?: { what: string; value: number };
  /** Whether a larger value is better (throughput) or a smaller one (latency). */
  better?: 'higher' | 'lower';
}

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3);
}

/** Prints a figure on one line: value, unit, and against the baseline the ratio. */
export function report(figure: Figure): void {
  let line = `  ${figure.what}: ${format(figure.value)} ${figure.unit}`;
  if (figure.baseline) {
    const ratio =
      (figure.better ?? 'higher') === 'higher' ? figure.value / figure.baseline.value : figure.baseline.value / figure.value;
    line += `  | baseline ${figure.baseline.what}: ${format(figure.baseline.value)} ${figure.unit}  | ratio ${ratio.toFixed(2)}×`;
  }
  process.stdout.write(`${line}\n`);
}

export function section(title: string): void {
  process.stdout.write(`\n## ${title}\n`);
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
