/** Sample statistics the scenario generator and its validator share. */

/** Arithmetic mean of values[start, end). */
export function mean(values: ArrayLike<number>, start = 0, end = values.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += values[i];
  return end > start ? sum / (end - start) : NaN;
}

/** Sample standard deviation (n − 1 in the denominator) of values[start, end). */
export function standardDeviation(values: ArrayLike<number>, start = 0, end = values.length): number {
  const n = end - start;
  if (n < 2) return NaN;
  const centre = mean(values, start, end);
  let sum = 0;
  for (let i = start; i < end; i++) sum += (values[i] - centre) ** 2;
  return Math.sqrt(sum / (n - 1));
}

/** Sample autocorrelation at `lag` (the usual estimator: one overall mean, full-sample variance). */
export function autocorrelation(values: ArrayLike<number>, lag: number): number {
  const n = values.length;
  if (lag >= n) return NaN;
  const centre = mean(values);
  let numerator = 0;
  let denominator = 0;
  for (let i = 0; i < n; i++) {
    const deviation = values[i] - centre;
    denominator += deviation * deviation;
    if (i >= lag) numerator += deviation * (values[i - lag] - centre);
  }
  return denominator > 0 ? numerator / denominator : NaN;
}

/** Sample excess kurtosis (m4 / m2² − 3). */
export function excessKurtosis(values: ArrayLike<number>): number {
  const n = values.length;
  const centre = mean(values);
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const squared = (values[i] - centre) ** 2;
    m2 += squared;
    m4 += squared * squared;
  }
  m2 /= n;
  m4 /= n;
  return m2 > 0 ? m4 / (m2 * m2) - 3 : NaN;
}

/** Pearson correlation of two equally long samples. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  const meanA = mean(a, 0, n);
  const meanB = mean(b, 0, n);
  let covariance = 0;
  let varianceA = 0;
  let varianceB = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - meanA;
    const db = b[i] - meanB;
    covariance += da * db;
    varianceA += da * da;
    varianceB += db * db;
  }
  return varianceA > 0 && varianceB > 0 ? covariance / Math.sqrt(varianceA * varianceB) : NaN;
}

/** Log returns between consecutive values: out[i] = ln(values[i+1] / values[i]). */
export function logReturns(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(Math.max(0, values.length - 1));
  for (let i = 1; i < values.length; i++) out[i - 1] = Math.log(values[i] / values[i - 1]);
  return out;
}

export interface Drawdown {
  /** The deepest fall from a running peak, as a fraction (−0.35 = 35 % below the peak). */
  drawdown: number;
  peakIndex: number;
  troughIndex: number;
}

/** Maximum drawdown of a price series, measured from each running peak. */
export function maxDrawdown(prices: ArrayLike<number>): Drawdown {
  let peak = prices[0];
  let peakIndex = 0;
  let worst: Drawdown = { drawdown: 0, peakIndex: 0, troughIndex: 0 };
  for (let i = 1; i < prices.length; i++) {
    if (prices[i] > peak) {
      peak = prices[i];
      peakIndex = i;
    } else {
      const drawdown = prices[i] / peak - 1;
      if (drawdown < worst.drawdown) worst = { drawdown, peakIndex, troughIndex: i };
    }
  }
  return worst;
}

/** Maximum drawdown of a log-price path, in log units (≤ 0). */
export function maxLogDrawdown(logPrices: ArrayLike<number>, start = 0, end = logPrices.length): number {
  let peak = -Infinity;
  let worst = 0;
  for (let i = start; i < end; i++) {
    if (logPrices[i] > peak) peak = logPrices[i];
    else if (logPrices[i] - peak < worst) worst = logPrices[i] - peak;
  }
  return worst;
}

/** Rounds to `digits` significant digits, so reports stay compact. */
export function roundTo(value: number, digits = 4): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(digits));
}
