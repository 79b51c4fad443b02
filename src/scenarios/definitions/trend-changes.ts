import { SMA, hasCrossedOver, hasCrossedUnder } from 'trading-signals';
import { z } from 'zod';
import { atLeast } from '../checks.js';
import {
  annualToDaily,
  modelParamsShape,
  phasesByShare,
  volatilityParam,
  type Phase,
  type ScenarioDefinition,
} from '../model.js';

const params = z
  .object({
    ...modelParamsShape(),
    upReturn: z.number().min(0.02).max(3).default(0.35).describe('return of each up leg'),
    downReturn: z.number().min(-0.9).max(-0.02).default(-0.3).describe('return of the down leg'),
    volatility: volatilityParam(0.13),
    baseShare: z
      .number()
      .min(0.05)
      .max(0.5)
      .default(0.16)
      .describe('share of sessions in the sideways base before the first up leg'),
    trendBand: z.number().min(0).max(0.05).default(0.002).describe('daily log drift beyond which a segment counts as trending'),
    minRun: z.number().int().min(2).max(120).default(20).describe('fewest sessions of a fitted trend segment'),
    minTrendChanges: z.number().int().min(1).max(50).default(4).describe('trend changes the detector must find'),
  })
  .strict();

export type TrendChangesParams = z.output<typeof params>;

/** The class of a trend segment. */
export type TrendState = 'up' | 'down' | 'flat';

/** A run of closes in one trend class. */
export interface TrendRun {
  state: TrendState;
  /** First close index of the run and the end (exclusive). */
  start: number;
  end: number;
  /** Fitted drift per session (log units). */
  slope: number;
}

/** Most segments the trend fit considers. */
const MAX_SEGMENTS = 12;

/**
 * The major trends of a price path: the split of its daily log returns into segments of
 * constant drift (at least `minRun` sessions each, found by dynamic programming) with the
 * fewest breaks the Bayesian information criterion supports, each segment classified by its
 * mean drift per session (up above `band`, down below −band, flat between) and neighbours of
 * the same class merged. The number of trend changes is the number of runs less one.
 */
export function trendRuns(closes: ArrayLike<number>, band: number, minRun: number): TrendRun[] {
  const n = closes.length - 1;
  // Prefix sums of r and r² make the squared error of any stretch around its mean O(1).
  const sum = new Float64Array(n + 1);
  const squares = new Float64Array(n + 1);
  for (let t = 0; t < n; t++) {
    const r = Math.log(closes[t + 1] / closes[t]);
    sum[t + 1] = sum[t] + r;
    squares[t + 1] = squares[t] + r * r;
  }
  const drift = (i: number, j: number) => (sum[j] - sum[i]) / (j - i);
  const error = (i: number, j: number) => Math.max(0, squares[j] - squares[i] - (sum[j] - sum[i]) ** 2 / (j - i));
  const segments = Math.max(1, Math.min(MAX_SEGMENTS, Math.floor(n / minRun)));
  // cost[k][j]: least error of k + 1 segments covering returns [0, j); from[k][j]: the last break.
  const cost = Array.from({ length: segments }, () => new Float64Array(n + 1).fill(Infinity));
  const from = Array.from({ length: segments }, () => new Int32Array(n + 1));
  for (let j = minRun; j <= n; j++) cost[0][j] = error(0, j);
  for (let k = 1; k < segments; k++) {
    for (let j = (k + 1) * minRun; j <= n; j++) {
      for (let i = k * minRun; i <= j - minRun; i++) {
        const candidate = cost[k - 1][i] + error(i, j);
        if (candidate < cost[k][j]) {
          cost[k][j] = candidate;
          from[k][j] = i;
        }
      }
    }
  }
  let best = 0;
  let bestScore = Infinity;
  for (let k = 0; k < segments; k++) {
    if (!Number.isFinite(cost[k][n])) continue;
    // Each segment costs a mean and (but the first) a break point.
    const score = n * Math.log(Math.max(cost[k][n], 1e-300) / n) + (2 * (k + 1) - 1) * Math.log(n);
    if (score < bestScore) {
      bestScore = score;
      best = k;
    }
  }
  const bounds = [n];
  for (let k = best, j = n; k > 0; k--) {
    j = from[k][j];
    bounds.unshift(j);
  }
  bounds.unshift(0);
  const runs: TrendRun[] = [];
  for (let s = 0; s + 1 < bounds.length; s++) {
    const slope = drift(bounds[s], bounds[s + 1]);
    const state: TrendState = slope > band ? 'up' : slope < -band ? 'down' : 'flat';
    // Return t runs from close t to close t + 1: a segment of returns [i, j) spans closes i…j.
    const last = runs[runs.length - 1];
    if (last && last.state === state) {
      last.end = bounds[s + 1] + 1;
      last.slope = drift(last.start, bounds[s + 1]);
    } else runs.push({ state, start: bounds[s], end: bounds[s + 1] + 1, slope });
  }
  return runs;
}

/** Sideways base → up → down → up → sideways: four changes of trend, each leg landed exactly. */
export const trendChanges: ScenarioDefinition<TrendChangesParams> = {
  name: 'trend_changes',
  description: 'a sideways base, then up, down, up and sideways legs: four major trend changes',
  params,
  minSessions: 100,
  plan(p, sessions) {
    const daily = annualToDaily(p.volatility);
    const legShare = (1 - p.baseShare) / 4;
    return {
      phases: phasesByShare(sessions, [
        { name: 'base', share: p.baseShare, dailyVol: daily, logReturn: 0 },
        { name: 'up1', share: legShare, dailyVol: daily, logReturn: Math.log1p(p.upReturn) },
        { name: 'down', share: legShare, dailyVol: daily, logReturn: Math.log1p(p.downReturn) },
        { name: 'up2', share: legShare, dailyVol: daily, logReturn: Math.log1p(p.upReturn) },
        { name: 'sideways', share: legShare, dailyVol: daily, logReturn: 0 },
      ]),
      referenceVol: daily,
    };
  },
  accept(logCloses, p) {
    return trendRuns(logCloses.map(Math.exp), p.trendBand, p.minRun).length - 1 >= p.minTrendChanges;
  },
  targets(view, p) {
    const runs = trendRuns(view.daily.close, p.trendBand, p.minRun);
    return [
      atLeast('trendChanges', runs.length - 1, p.minTrendChanges, {
        detail: `trends found (piecewise-linear fit): ${runs.map((run) => `${run.state} from session ${run.start}`).join(' → ')}`,
      }),
    ];
  },
  indicators(view) {
    const fast = new SMA(10);
    const slow = new SMA(30);
    const crossings: Array<{ index: number; direction: 'over' | 'under' }> = [];
    let previous: { fast: number; slow: number } | undefined;
    view.daily.close.forEach((close, index) => {
      const f = fast.add(close);
      const s = slow.add(close);
      if (f === null || s === null) return;
      if (previous && hasCrossedOver(previous.fast, previous.slow, f, s)) crossings.push({ index, direction: 'over' });
      if (previous && hasCrossedUnder(previous.fast, previous.slow, f, s)) crossings.push({ index, direction: 'under' });
      previous = { fast: f, slow: s };
    });
    const reversals = reversalsOf(view.phases);
    const matched = reversals.filter((reversal) =>
      crossings.some((c) => c.direction === reversal.direction && c.index >= reversal.index && c.index < reversal.index + 30),
    );
    return [
      atLeast('smaCrossoversAtReversals', matched.length, reversals.length, {
        detail: 'SMA(10)/SMA(30) crossings (trading-signals) in the direction of each reversal within 30 sessions of it',
      }),
    ];
  },
};

/** Where the drift changes sign between consecutive legs: down after up is a cross under. */
function reversalsOf(phases: Phase[]): Array<{ index: number; direction: 'over' | 'under' }> {
  const out: Array<{ index: number; direction: 'over' | 'under' }> = [];
  for (let i = 1; i < phases.length; i++) {
    const before = phases[i - 1].logReturn ?? 0;
    const after = phases[i].logReturn ?? 0;
    if (before > 0 && after < 0) out.push({ index: phases[i].start, direction: 'under' });
    if (before < 0 && after > 0) out.push({ index: phases[i].start, direction: 'over' });
  }
  return out;
}
