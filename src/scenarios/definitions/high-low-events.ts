import { DonchianChannels } from 'trading-signals';
import { z } from 'zod';
import { atLeast, atMost } from '../checks.js';
import {
  annualToDaily,
  meanReversionParam,
  modelParamsShape,
  reversionPhi,
  volatilityParam,
  type ScenarioDefinition,
} from '../model.js';

const params = z
  .object({
    ...modelParamsShape(),
    window: z.number().int().min(2).max(250).default(20).describe('sessions of the rolling high and low'),
    cycleSessions: z.number().min(6).max(250).default(30).describe('typical length of one swing cycle, in sessions'),
    swing: z.number().min(0).max(1).default(0.02).describe('amplitude of the swings in log price'),
    meanReversion: meanReversionParam(0.3, 'the swing path'),
    volatility: volatilityParam(0.2),
    minBreaches: z.number().int().min(0).default(22).describe('breaches of the rolling high or low required'),
    minHighs: z.number().int().min(0).default(12).describe('breaches of the rolling high required'),
    minLows: z.number().int().min(0).default(10).describe('breaches of the rolling low required'),
  })
  .strict();

export type HighLowEventsParams = z.output<typeof params>;

/** Counts of rolling-high and rolling-low breaks. */
export interface Breaches {
  highs: number;
  lows: number;
}

/**
 * Sessions whose high exceeds the highest high of the `window` sessions before it, and
 * sessions whose low undercuts the lowest low of the window before it.
 */
export function thresholdBreaches(high: ArrayLike<number>, low: ArrayLike<number>, window: number): Breaches {
  let highs = 0;
  let lows = 0;
  for (let t = window; t < high.length; t++) {
    let highest = -Infinity;
    let lowest = Infinity;
    for (let k = t - window; k < t; k++) {
      if (high[k] > highest) highest = high[k];
      if (low[k] < lowest) lowest = low[k];
    }
    if (high[t] > highest) highs++;
    if (low[t] < lowest) lows++;
  }
  return { highs, lows };
}

/**
 * Prices swing around a sine path (period and phase drawn per symbol) and revert to it
 * quickly, so the rolling 20-session high and low are broken again and again.
 */
export const highLowEvents: ScenarioDefinition<HighLowEventsParams> = {
  name: 'high_low_events',
  description: 'swinging market that keeps breaking its rolling 20-session high and low',
  params,
  minSessions: 60,
  plan(p, sessions, random) {
    const period = p.cycleSessions * (0.85 + 0.3 * random.uniform());
    const phase = 2 * Math.PI * random.uniform();
    const anchor = new Float64Array(sessions);
    // Anchored at the first open: the swing path starts at 0 and oscillates around it.
    for (let t = 0; t < sessions; t++) anchor[t] = p.swing * (Math.sin((2 * Math.PI * t) / period + phase) - Math.sin(phase));
    const daily = annualToDaily(p.volatility);
    return {
      phases: [{ name: 'swings', start: 0, end: sessions, dailyVol: daily }],
      reversion: { phi: reversionPhi(p.meanReversion), anchor },
      totalLogReturn: 0,
      referenceVol: daily,
    };
  },
  targets(view, p) {
    const { highs, lows } = thresholdBreaches(view.daily.high, view.daily.low, p.window);
    return [
      atLeast('breaches', highs + lows, p.minBreaches, { detail: `breaches of the rolling ${p.window}-session high or low` }),
      atLeast('highBreaches', highs, p.minHighs),
      atLeast('lowBreaches', lows, p.minLows),
    ];
  },
  indicators(view, p) {
    const ours = thresholdBreaches(view.daily.high, view.daily.low, p.window);
    const channel = new DonchianChannels(p.window);
    let highs = 0;
    let lows = 0;
    for (let t = 0; t < view.daily.high.length; t++) {
      // The channel before this session's candle is the window of the sessions before it.
      const before = channel.getResult();
      if (before) {
        if (view.daily.high[t] > before.upper) highs++;
        if (view.daily.low[t] < before.lower) lows++;
      }
      channel.add({ high: view.daily.high[t], low: view.daily.low[t] });
    }
    return [
      atMost('donchianBreachesAgree', Math.abs(highs - ours.highs) + Math.abs(lows - ours.lows), 0, {
        detail: `Donchian(${p.window}) channel breaks counted by trading-signals: ${highs} highs, ${lows} lows`,
      }),
    ];
  },
};
