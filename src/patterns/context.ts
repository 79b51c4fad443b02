/**
 * Market context per session, from a benchmark's daily closes: the trend regime and the
 * volatility regime. Pure: closes in, one code per session out, each using only that session
 * and earlier ones.
 */
import { z } from 'zod';
import { mean, standardDeviation } from '../shared/statistics.js';

/** Trend regimes; a session's code is the index here, UNKNOWN before enough history. */
export const REGIMES = ['bull', 'bear', 'neutral'] as const;
export type Regime = (typeof REGIMES)[number];

/** Volatility regimes (terciles); a session's code is the index here. */
export const VOLATILITY_REGIMES = ['low', 'normal', 'high'] as const;
export type VolatilityRegime = (typeof VOLATILITY_REGIMES)[number];

/** Code of a session without enough history for a regime. */
export const UNKNOWN = -1;

/** How the context is computed. */
export const contextSettingsSchema = z.object({
  /** The benchmark symbol whose daily closes define the regimes. */
  benchmark: z.string().min(1).default('SPY'),
  /** Sessions in the trend's simple moving average. */
  trendSessions: z.number().int().min(2).default(200),
  /** The SMA is rising when it is above its value this many sessions before. */
  slopeSessions: z.number().int().positive().default(20),
  /** Daily log returns in the realised volatility. */
  volatilitySessions: z.number().int().min(2).default(20),
  /** Sessions of realised volatility the terciles are taken over (a trading year). */
  volatilityYear: z.number().int().min(3).default(252),
});

export type ContextSettings = z.infer<typeof contextSettingsSchema>;

export const DEFAULT_CONTEXT_SETTINGS: ContextSettings = contextSettingsSchema.parse({});

/**
 * The trend regime of every session: bull when the close is above its SMA and the SMA is
 * higher than `slopeSessions` earlier, bear when below and lower, neutral otherwise.
 */
export function trendRegimes(closes: ArrayLike<number>, settings: ContextSettings = DEFAULT_CONTEXT_SETTINGS): Int8Array {
  const { trendSessions: window, slopeSessions: slope } = settings;
  const regimes = new Int8Array(closes.length).fill(UNKNOWN);
  const average = new Float64Array(closes.length).fill(NaN);
  for (let i = window - 1; i < closes.length; i++) average[i] = mean(closes, i - window + 1, i + 1);
  for (let i = window - 1 + slope; i < closes.length; i++) {
    const rising = average[i] > average[i - slope];
    const falling = average[i] < average[i - slope];
    if (closes[i] > average[i] && rising) regimes[i] = REGIMES.indexOf('bull');
    else if (closes[i] < average[i] && falling) regimes[i] = REGIMES.indexOf('bear');
    else regimes[i] = REGIMES.indexOf('neutral');
  }
  return regimes;
}

/**
 * Realised volatility of every session: the annualised sample standard deviation of the
 * `volatilitySessions` daily log returns ending at that session (NaN before enough history).
 */
export function realisedVolatility(
  closes: ArrayLike<number>,
  settings: ContextSettings = DEFAULT_CONTEXT_SETTINGS,
): Float64Array {
  const window = settings.volatilitySessions;
  const returns = new Float64Array(closes.length).fill(NaN);
  for (let i = 1; i < closes.length; i++) returns[i] = Math.log(closes[i] / closes[i - 1]);
  const volatility = new Float64Array(closes.length).fill(NaN);
  for (let i = window; i < closes.length; i++) {
    volatility[i] = standardDeviation(returns, i - window + 1, i + 1) * Math.sqrt(252);
  }
  return volatility;
}

/**
 * The volatility regime of every session: where its realised volatility ranks among the
 * `volatilityYear` sessions ending at it — low in the bottom third (rank share ≤ 1/3), high in
 * the top third (> 2/3), normal between.
 */
export function volatilityRegimes(closes: ArrayLike<number>, settings: ContextSettings = DEFAULT_CONTEXT_SETTINGS): Int8Array {
  const volatility = realisedVolatility(closes, settings);
  const year = settings.volatilityYear;
  const regimes = new Int8Array(closes.length).fill(UNKNOWN);
  for (let i = settings.volatilitySessions + year - 1; i < closes.length; i++) {
    let atOrBelow = 0;
    for (let j = i - year + 1; j <= i; j++) if (volatility[j] <= volatility[i]) atOrBelow++;
    const share = atOrBelow / year;
    regimes[i] = share <= 1 / 3 ? 0 : share > 2 / 3 ? 2 : 1;
  }
  return regimes;
}
