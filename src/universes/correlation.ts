import type { DailySeries } from './performance.js';

/** The rolling windows (in daily returns) correlations are computed over. */
export const CORRELATION_WINDOWS = [60, 252] as const;
export type CorrelationWindow = (typeof CORRELATION_WINDOWS)[number];
/** A pair whose correlation moved by more than this since the previous stored date is announced. */
export const CORRELATION_MOVE_THRESHOLD = 0.2;

/** A correlation matrix over named series. */
export interface CorrelationMatrix {
  labels: string[];
  /** Row-major, labels × labels; null where a series is constant over the window. */
  matrix: Array<Array<number | null>>;
  /** Daily returns the matrix is computed from: the window, or fewer when the history is shorter. */
  observations: number;
  /** First and last session of the returns. */
  from: string | null;
  to: string | null;
}

/** Pearson correlation of two equally long arrays; null when either is constant. */
export function pearson(x: readonly number[], y: readonly number[]): number | null {
  const n = x.length;
  let meanX = 0;
  let meanY = 0;
  for (let i = 0; i < n; i++) {
    meanX += x[i] / n;
    meanY += y[i] / n;
  }
  let covariance = 0;
  let varianceX = 0;
  let varianceY = 0;
  for (let i = 0; i < n; i++) {
    covariance += (x[i] - meanX) * (y[i] - meanY);
    varianceX += (x[i] - meanX) ** 2;
    varianceY += (y[i] - meanY) ** 2;
  }
  if (varianceX === 0 || varianceY === 0) return null;
  return Math.max(-1, Math.min(1, covariance / Math.sqrt(varianceX * varianceY)));
}

/**
 * The return correlation matrix of `series` as of `asOf`: on the sessions every series has a
 * close on (on or before asOf), the last `window` simple daily returns from one such session to
 * the next.
 */
export function correlationMatrix(
  series: ReadonlyArray<{ label: string; series: DailySeries }>,
  window: number,
  asOf: string,
): CorrelationMatrix {
  const labels = series.map((entry) => entry.label);
  const closesByDate = series.map((entry) => new Map(entry.series.dates.map((date, i) => [date, entry.series.closes[i]])));
  const common =
    series.length === 0
      ? []
      : series[0].series.dates.filter((date) => date <= asOf && closesByDate.every((closes) => closes.has(date)));
  const dates = common.slice(-(window + 1));
  const returns = closesByDate.map((closes) => dates.slice(1).map((date, i) => closes.get(date)! / closes.get(dates[i])! - 1));
  const observations = Math.max(0, dates.length - 1);
  const matrix = labels.map((_, row) =>
    labels.map((__, column) => (observations < 2 ? null : pearson(returns[row], returns[column]))),
  );
  return { labels, matrix, observations, from: dates[1] ?? null, to: dates[dates.length - 1] ?? null };
}

/** A pair whose correlation moved past the threshold. */
export interface CorrelationMove {
  a: string;
  b: string;
  before: number;
  after: number;
}

/** The pairs (present in both, each once) whose correlation moved by more than CORRELATION_MOVE_THRESHOLD. */
export function correlationMoves(previous: CorrelationMatrix, current: CorrelationMatrix): CorrelationMove[] {
  const moves: CorrelationMove[] = [];
  const previousIndex = new Map(previous.labels.map((label, i) => [label, i]));
  for (let row = 0; row < current.labels.length; row++) {
    for (let column = row + 1; column < current.labels.length; column++) {
      const i = previousIndex.get(current.labels[row]);
      const j = previousIndex.get(current.labels[column]);
      if (i === undefined || j === undefined) continue;
      const before = previous.matrix[i][j];
      const after = current.matrix[row][column];
      if (before === null || after === null) continue;
      if (Math.abs(after - before) > CORRELATION_MOVE_THRESHOLD)
        moves.push({ a: current.labels[row], b: current.labels[column], before, after });
    }
  }
  return moves;
}
