/**
 * The columnar input of the pattern analytics — detections with their outcomes and context,
 * the session grid with its regimes, each symbol's span on the grid — and the success-rate
 * figure every analysis reports.
 */
import { z } from 'zod';
import type { SuccessRate } from './analytics-schemas.js';
import { wilsonInterval } from './analytics-statistics.js';

/** One row per detection, column by column; categorical columns hold indexes. */
export interface DetectionColumns {
  count: number;
  /** The stored detection's id (what the predictions route calls `patternId`). */
  id: Float64Array;
  /** Index into `AnalyticsInput.symbols`. */
  symbol: Int32Array;
  /** Index into the session grid (bars of the timeframe); lags are differences of these. */
  session: Int32Array;
  /** Bar start, epoch ms. */
  ts: Float64Array;
  /** Index into `AnalyticsInput.patterns`. */
  pattern: Int32Array;
  /** +1 bullish, −1 bearish. */
  direction: Int8Array;
  strength: Float64Array;
  /** Forward return at the success horizon (NaN while unknown). */
  forwardReturn: Float64Array;
  /** 1 success, 0 failure, −1 not known yet. */
  success: Int8Array;
  /** Session at whose close the outcome became known (the horizon bar), −1 while pending. */
  knownSession: Int32Array;
  /** Index into REGIMES at the detection's session, −1 unknown. */
  regime: Int8Array;
  /** Index into VOLATILITY_REGIMES, −1 unknown. */
  volatility: Int8Array;
  /** Index into `AnalyticsInput.sectors`, −1 unknown. */
  sector: Int32Array;
  /** Month 1–12 in exchange time. */
  month: Int8Array;
  /** ISO weekday 1 (Monday) – 7 in exchange time. */
  weekday: Int8Array;
  /** Hour 0–23 in exchange time for intraday bars, −1 for daily and longer. */
  hour: Int8Array;
}

/** Everything one analysis runs on. */
export interface AnalyticsInput {
  detections: DetectionColumns;
  patterns: string[];
  symbols: string[];
  sectors: string[];
  /** The session grid: regimes of each session (−1 unknown). */
  sessions: { count: number; regime: Int8Array; volatility: Int8Array };
  /** Each symbol's first and last session with a bar, −1 when it has none. */
  symbolSpan: { first: Int32Array; last: Int32Array };
}

/** Settings of one analysis; every route's figures depend on these. */
export const analysisSettingsSchema = z.object({
  /** Level of every confidence interval. */
  confidence: z.number().gt(0).lt(1).default(0.95),
  /** False discovery rate at which an adjusted p-value counts as significant. */
  alpha: z.number().gt(0).lt(1).default(0.05),
  /** Sessions after a detection in which another pattern "follows" it. */
  followWindow: z.number().int().positive().max(250).default(10),
  /** Sessions per time block of the correlation strata (trials are stratified by symbol and block). */
  strataSessions: z.number().int().positive().default(60),
  /** Fewest detections with an outcome for a cell to be ranked (optimal conditions). */
  minCellCount: z.number().int().positive().default(30),
  model: z
    .object({
      /** Walk-forward folds the out-of-sample accuracy is measured on. */
      folds: z.number().int().positive().max(50).default(8),
      /** Most recent known outcomes a model is fitted on. */
      trainingCap: z.number().int().min(50).default(2000),
      /**
       * Known outcomes needed before the first out-of-sample prediction: the historical rates
       * of a young history are mostly prior, and a model fitted on them extrapolates badly.
       */
      minTraining: z.number().int().min(20).default(500),
      /** Gradient steps of the logistic regression. */
      steps: z.number().int().positive().default(150),
      /** Pseudo-observations shrinking each historical rate towards its parent rate. */
      priorWeight: z.number().positive().default(20),
      /** Detections in this many last sessions get a prediction. */
      recentSessions: z.number().int().positive().default(5),
    })
    .default({ folds: 8, trainingCap: 2000, minTraining: 500, steps: 150, priorWeight: 20, recentSessions: 5 }),
});

export type AnalysisSettings = z.infer<typeof analysisSettingsSchema>;

export const DEFAULT_ANALYSIS_SETTINGS: AnalysisSettings = analysisSettingsSchema.parse({});

/** The success-rate figure of `successes` out of `count`. */
export function successRate(successes: number, count: number, confidence: number): SuccessRate {
  if (count === 0) return { successRate: null, count, successes, confidenceInterval: null };
  return { successRate: successes / count, count, successes, confidenceInterval: wilsonInterval(successes, count, confidence) };
}

/**
 * Counts of detections with a known outcome, and of their successes, by pattern × category.
 * `category(i)` returns the row's category in [0, categories) or −1 to leave it out.
 */
export function countByPattern(
  input: AnalyticsInput,
  categories: number,
  category: (row: number) => number,
): { count: Int32Array; successes: Int32Array } {
  const { detections } = input;
  const count = new Int32Array(input.patterns.length * categories);
  const successes = new Int32Array(input.patterns.length * categories);
  for (let i = 0; i < detections.count; i++) {
    if (detections.success[i] < 0) continue;
    const bucket = category(i);
    if (bucket < 0) continue;
    const cell = detections.pattern[i] * categories + bucket;
    count[cell]++;
    successes[cell] += detections.success[i];
  }
  return { count, successes };
}

/** One pattern's 2 × categories table (successes, failures) for a χ² test of homogeneity. */
export function homogeneityTable(
  counts: { count: Int32Array; successes: Int32Array },
  pattern: number,
  categories: number,
): number[][] {
  const successes: number[] = [];
  const failures: number[] = [];
  for (let k = 0; k < categories; k++) {
    const cell = pattern * categories + k;
    successes.push(counts.successes[cell]);
    failures.push(counts.count[cell] - counts.successes[cell]);
  }
  return [successes, failures];
}

/**
 * Row indexes 0 … count − 1 ordered by an integer key in [0, keys), ties in index order; rows
 * whose key is negative are left out. A counting sort: linear, where a comparison sort of a
 * million rows would dominate the analysis.
 */
export function orderByKey(count: number, key: (row: number) => number, keys: number): Int32Array {
  const starts = new Int32Array(keys + 1);
  let kept = 0;
  for (let i = 0; i < count; i++) {
    const k = key(i);
    if (k < 0) continue;
    starts[k + 1]++;
    kept++;
  }
  for (let k = 0; k < keys; k++) starts[k + 1] += starts[k];
  const order = new Int32Array(kept);
  for (let i = 0; i < count; i++) {
    const k = key(i);
    if (k >= 0) order[starts[k]++] = i;
  }
  return order;
}
