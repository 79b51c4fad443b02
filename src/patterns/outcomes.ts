/**
 * What happened after each detection: forward returns, the excursions within a window, and
 * whether the move went the pattern's way. Pure: one symbol's bars and the bar indexes of its
 * detections in, columns out.
 */
import { z } from 'zod';

/** How outcomes are measured. */
export const outcomeSettingsSchema = z
  .object({
    /** Bars after the detection at which the forward return is measured. */
    horizons: z.array(z.number().int().positive()).min(1).default([1, 5, 20]),
    /** Bars after the detection over which the favourable and adverse excursions are taken. */
    excursionBars: z.number().int().positive().default(20),
    /** The horizon whose forward return decides success; one of `horizons`. */
    successHorizon: z.number().int().positive().default(5),
    /** Success needs the return beyond this fraction in the pattern's direction (0.01 = 1 %). */
    successThreshold: z.number().min(0).default(0),
  })
  .refine((settings) => settings.horizons.includes(settings.successHorizon), {
    message: 'successHorizon must be one of horizons',
    path: ['successHorizon'],
  });

export type OutcomeSettings = z.infer<typeof outcomeSettingsSchema>;

/** The defaults: returns at 1, 5 and 20 bars, excursions over 20, success at 5 bars above 0. */
export const DEFAULT_OUTCOME_SETTINGS: OutcomeSettings = outcomeSettingsSchema.parse({});

/** The bars the outcomes are measured on (one symbol, one timeframe, ascending ts). */
export interface OutcomeBars {
  ts: ArrayLike<number>;
  high: ArrayLike<number>;
  low: ArrayLike<number>;
  close: ArrayLike<number>;
  length: number;
}

/** Success code of a detection whose success horizon has not been reached yet. */
export const PENDING = -1;

/**
 * Outcomes of n detections, column by column. A figure that needs bars the series does not
 * have yet is NaN; such a detection is relabelled when a later run has the bars.
 */
export interface OutcomeColumns {
  /** forward[k][i]: close[bar + horizons[k]] / close[bar] − 1. */
  forward: Float64Array[];
  /**
   * Best move in the pattern's direction within the excursion window, from the detection's
   * close, as a fraction ≥ 0 (a long's gain for bullish patterns, a short's for bearish).
   */
  favourable: Float64Array;
  /** Worst move against the pattern's direction within the window, as a fraction ≤ 0. */
  adverse: Float64Array;
  /** 1 success, 0 failure, PENDING (−1) before the success horizon. */
  success: Int8Array;
  /** ts of the bar at the success horizon: from its close on, the outcome is known. NaN while pending. */
  knownTs: Float64Array;
  /** True when every figure is known and the row needs no relabelling. */
  complete: Uint8Array;
}

/**
 * Outcomes of the detections at `barIndexes` (into `bars`) with `directions` (+1 bullish,
 * −1 bearish).
 */
export function measureOutcomes(
  bars: OutcomeBars,
  barIndexes: ArrayLike<number>,
  directions: ArrayLike<number>,
  settings: OutcomeSettings = DEFAULT_OUTCOME_SETTINGS,
): OutcomeColumns {
  const count = barIndexes.length;
  const out: OutcomeColumns = {
    forward: settings.horizons.map(() => new Float64Array(count).fill(NaN)),
    favourable: new Float64Array(count).fill(NaN),
    adverse: new Float64Array(count).fill(NaN),
    success: new Int8Array(count).fill(PENDING),
    knownTs: new Float64Array(count).fill(NaN),
    complete: new Uint8Array(count),
  };
  const last = bars.length - 1;
  const longest = Math.max(settings.excursionBars, ...settings.horizons);
  for (let i = 0; i < count; i++) {
    const bar = barIndexes[i];
    const direction = directions[i] > 0 ? 1 : -1;
    const entry = bars.close[bar];
    settings.horizons.forEach((horizon, k) => {
      if (bar + horizon <= last) out.forward[k][i] = bars.close[bar + horizon] / entry - 1;
    });
    if (bar + settings.excursionBars <= last) {
      let highest = -Infinity;
      let lowest = Infinity;
      for (let j = bar + 1; j <= bar + settings.excursionBars; j++) {
        if (bars.high[j] > highest) highest = bars.high[j];
        if (bars.low[j] < lowest) lowest = bars.low[j];
      }
      const up = highest / entry - 1;
      const down = lowest / entry - 1;
      out.favourable[i] = Math.max(0, direction > 0 ? up : -down);
      out.adverse[i] = Math.min(0, direction > 0 ? down : -up);
    }
    if (bar + settings.successHorizon <= last) {
      const move = (bars.close[bar + settings.successHorizon] / entry - 1) * direction;
      out.success[i] = move > settings.successThreshold ? 1 : 0;
      out.knownTs[i] = bars.ts[bar + settings.successHorizon];
    }
    out.complete[i] = bar + longest <= last ? 1 : 0;
  }
  return out;
}
