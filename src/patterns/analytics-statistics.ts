/**
 * The statistics behind the pattern analytics: interval estimates, tests of association and of
 * homogeneity, multiple-comparison adjustment and the scores of probabilistic forecasts.
 * Distribution functions come from jstat; what is here is the arithmetic around them.
 */
import jstat from 'jstat';
import type { DependenceTest } from './analytics-schemas.js';

const { jStat } = jstat;

/** A two-sided interval [low, high]. */
export type Interval = [number, number];

/** The standard normal quantile for a two-sided interval of `confidence` (1.96 for 0.95). */
export function normalCritical(confidence: number): number {
  return jStat.normal.inv(1 - (1 - confidence) / 2, 0, 1);
}

/**
 * Wilson score interval for a binomial proportion. It keeps its coverage near the nominal
 * level for small counts and rates near 0 or 1, where the normal (Wald) interval does not.
 * [NaN, NaN] when there are no trials.
 */
export function wilsonInterval(successes: number, trials: number, confidence = 0.95): Interval {
  if (trials <= 0) return [NaN, NaN];
  const z = normalCritical(confidence);
  const rate = successes / trials;
  const z2n = (z * z) / trials;
  const centre = (rate + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((rate * (1 - rate)) / trials + z2n / (4 * trials));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Upper tail of the χ² distribution: P(X ≥ statistic). */
export function chiSquareSurvival(statistic: number, degreesOfFreedom: number): number {
  if (!(statistic > 0)) return 1;
  return Math.max(0, 1 - jStat.chisquare.cdf(statistic, degreesOfFreedom));
}

/** Pearson's χ² test of independence of a contingency table. */
export interface ContingencyTest {
  statistic: number;
  degreesOfFreedom: number;
  pValue: number;
  /** Cramér's V: the strength of the association, 0 (none) to 1 (complete). */
  cramersV: number;
  /** Observations in the table. */
  total: number;
}

/**
 * Pearson's χ² test of independence (no continuity correction) on the rows × columns table of
 * counts. Rows or columns that are all zero carry no information and are left out; a table
 * left with fewer than two rows or columns has p = 1.
 */
export function chiSquareIndependence(table: readonly (readonly number[])[]): ContingencyTest {
  const columns = table[0]?.length ?? 0;
  const rowTotals = table.map((row) => row.reduce((sum, count) => sum + count, 0));
  const columnTotals = Array.from({ length: columns }, (_, j) => table.reduce((sum, row) => sum + row[j], 0));
  const total = rowTotals.reduce((sum, count) => sum + count, 0);
  const rows = rowTotals.filter((count) => count > 0).length;
  const usedColumns = columnTotals.filter((count) => count > 0).length;
  if (rows < 2 || usedColumns < 2) return { statistic: 0, degreesOfFreedom: 0, pValue: 1, cramersV: 0, total };
  let statistic = 0;
  table.forEach((row, i) => {
    if (rowTotals[i] === 0) return;
    row.forEach((count, j) => {
      if (columnTotals[j] === 0) return;
      const expected = (rowTotals[i] * columnTotals[j]) / total;
      statistic += (count - expected) ** 2 / expected;
    });
  });
  const degreesOfFreedom = (rows - 1) * (usedColumns - 1);
  return {
    statistic,
    degreesOfFreedom,
    pValue: chiSquareSurvival(statistic, degreesOfFreedom),
    cramersV: Math.sqrt(statistic / (total * (Math.min(rows, usedColumns) - 1))),
    total,
  };
}

/** A χ² dependence test per table (one per pattern), p-values adjusted across the tables. */
export function dependenceTests(tables: number[][][]): DependenceTest[] {
  const tests = tables.map((table) => chiSquareIndependence(table));
  const adjusted = adjustBenjaminiHochberg(tests.map((test) => (test.degreesOfFreedom > 0 ? test.pValue : NaN)));
  return tests.map((test, k) => ({
    chiSquare: test.statistic,
    degreesOfFreedom: test.degreesOfFreedom,
    pValue: test.pValue,
    adjustedPValue: Number.isNaN(adjusted[k]) ? 1 : adjusted[k],
    cramersV: test.cramersV,
  }));
}

/**
 * Benjamini–Hochberg adjusted p-values (false discovery rate), in the input's order. NaN
 * entries stay NaN and do not count towards the number of tests.
 */
export function adjustBenjaminiHochberg(pValues: ArrayLike<number>): Float64Array {
  const adjusted = new Float64Array(pValues.length).fill(NaN);
  const order = Array.from({ length: pValues.length }, (_, i) => i)
    .filter((i) => !Number.isNaN(pValues[i]))
    .sort((i, j) => pValues[j] - pValues[i]);
  const tests = order.length;
  let running = 1;
  order.forEach((index, position) => {
    const rank = tests - position;
    running = Math.min(running, (pValues[index] * tests) / rank);
    adjusted[index] = running;
  });
  return adjusted;
}

/** Mean squared difference between forecast probabilities and 0/1 outcomes. */
export function brierScore(probabilities: ArrayLike<number>, outcomes: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < probabilities.length; i++) sum += (probabilities[i] - outcomes[i]) ** 2;
  return probabilities.length > 0 ? sum / probabilities.length : NaN;
}

/** Mean negative log-likelihood of 0/1 outcomes, probabilities clipped to [1e-15, 1 − 1e-15]. */
export function logLoss(probabilities: ArrayLike<number>, outcomes: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const p = Math.min(1 - 1e-15, Math.max(1e-15, probabilities[i]));
    sum -= outcomes[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return probabilities.length > 0 ? sum / probabilities.length : NaN;
}

/**
 * Area under the ROC curve: the probability that a random success is scored above a random
 * failure, ties counting one half (the Mann–Whitney U statistic over n₁·n₀). NaN without
 * both classes.
 */
export function areaUnderRoc(scores: ArrayLike<number>, outcomes: ArrayLike<number>): number {
  let positives = 0;
  for (let i = 0; i < scores.length; i++) if (outcomes[i] === 1) positives++;
  const positive = new Float64Array(positives);
  const negative = new Float64Array(scores.length - positives);
  for (let i = 0, p = 0, n = 0; i < scores.length; i++) {
    if (outcomes[i] === 1) positive[p++] = scores[i];
    else negative[n++] = scores[i];
  }
  if (positive.length === 0 || negative.length === 0) return NaN;
  positive.sort();
  negative.sort();
  // For each success, count the failures scored below it, and half those scored equal.
  let below = 0;
  let equal = 0;
  let wins = 0;
  for (const score of positive) {
    while (below < negative.length && negative[below] < score) below++;
    equal = Math.max(equal, below);
    while (equal < negative.length && negative[equal] === score) equal++;
    wins += below + (equal - below) / 2;
  }
  return wins / (positive.length * negative.length);
}

/** A stratified association: observed events against what each stratum's margins predict. */
export interface StratifiedAssociation {
  /** Which test gave the p-value: exact Poisson when fewer than 5 events are expected. */
  test: 'mantel-haenszel' | 'poisson-exact';
  pValue: number;
  observed: number;
  expected: number;
  /** Σ of the strata's hypergeometric variances. */
  variance: number;
  /** observed / expected: how many times chance the events occur. */
  lift: number;
  /** (observed − expected) / √(variance · trials): φ for a single stratum, −1 … 1. */
  strength: number;
}

/**
 * The Cochran–Mantel–Haenszel test (no continuity correction) of `observed` exposed events
 * against their expectation and variance summed over strata — χ² = (O − E)² / V with one degree
 * of freedom. With fewer than 5 expected events the χ² approximation is poor, so the two-sided
 * exact Poisson test of O against E decides instead (the rare-event limit of the strata's
 * hypergeometric distributions).
 */
export function mantelHaenszel(observed: number, expected: number, variance: number, trials: number): StratifiedAssociation {
  const lift = expected > 0 ? observed / expected : NaN;
  const strength = variance > 0 && trials > 0 ? (observed - expected) / Math.sqrt(variance * trials) : 0;
  const base = { observed, expected, variance, lift, strength };
  if (expected < 5) {
    const below = jStat.poisson.cdf(observed, expected);
    const above = observed > 0 ? 1 - jStat.poisson.cdf(observed - 1, expected) : 1;
    return { ...base, test: 'poisson-exact', pValue: Math.min(1, 2 * Math.min(below, above)) };
  }
  return { ...base, test: 'mantel-haenszel', pValue: chiSquareSurvival((observed - expected) ** 2 / variance, 1) };
}

/** log(p / (1 − p)). */
export function logit(probability: number): number {
  return Math.log(probability / (1 - probability));
}

/** The logistic function 1 / (1 + e^−x). */
export function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
