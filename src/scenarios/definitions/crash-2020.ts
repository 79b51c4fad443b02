import { RSI, getMaxDrawdown } from 'trading-signals';
import { z } from 'zod';
import { atLeast, atMost, closesOf, phaseReturns, within } from '../checks.js';
import { annualToDaily, modelParamsShape, phaseNamed, phasesByShare, type ScenarioDefinition } from '../model.js';
import { maxDrawdown, standardDeviation } from '../../shared/statistics.js';

const params = z
  .object({
    ...modelParamsShape(),
    normalShare: z.number().min(0.1).max(0.85).default(0.6).describe('share of sessions before the crash'),
    crashShare: z.number().min(0.03).max(0.4).default(0.1).describe('share of sessions in the crash'),
    calmVolatility: z.number().min(0.02).max(1).default(0.15).describe('annualised volatility before the crash'),
    crashVolatility: z.number().min(0.02).max(3).default(0.65).describe('annualised volatility in the crash'),
    recoveryVolatility: z.number().min(0.02).max(2).default(0.3).describe('annualised volatility in the recovery'),
    normalReturn: z.number().min(-0.2).max(0.5).default(0.05).describe('return of the calm phase'),
    recoveryReturn: z.number().min(-0.2).max(2).default(0.25).describe('return of the recovery phase (from the crash close)'),
    drawdown: z.number().min(-0.9).max(-0.05).default(-0.35).describe('maximum drawdown of the closes'),
    drawdownTolerance: z
      .number()
      .min(0)
      .max(0.2)
      .default(0.05)
      .describe('accepted distance of the measured drawdown from the target'),
    minVolatilityRatio: z
      .number()
      .min(1)
      .max(20)
      .default(2.5)
      .describe('crash volatility must be at least this multiple of the calm one'),
    maxCrashMove: z.number().min(0.01).max(0.9).default(0.25).describe('largest accepted single-session move in the crash'),
  })
  .strict()
  .refine((p) => p.normalShare + p.crashShare <= 0.95, {
    message: 'normalShare + crashShare must leave at least 5 % of the sessions for the recovery',
    path: ['crashShare'],
  });

export type Crash2020Params = z.output<typeof params>;

/** Calm 60 % → crash 10 % → recovery 30 %, with the drawdown landed on its target. */
export const crash2020: ScenarioDefinition<Crash2020Params> = {
  name: 'crash_2020',
  description: 'calm market, a fast crash with extreme volatility, then a partial recovery (COVID 2020)',
  params,
  minSessions: 60,
  plan(p, sessions) {
    return {
      phases: phasesByShare(sessions, [
        {
          name: 'normal',
          share: p.normalShare,
          dailyVol: annualToDaily(p.calmVolatility),
          logReturn: Math.log1p(p.normalReturn),
        },
        { name: 'crash', share: p.crashShare, dailyVol: annualToDaily(p.crashVolatility), logReturn: Math.log1p(p.drawdown) },
        {
          name: 'recovery',
          share: 1 - p.normalShare - p.crashShare,
          dailyVol: annualToDaily(p.recoveryVolatility),
          logReturn: Math.log1p(p.recoveryReturn),
        },
      ]),
      exactVolatility: ['crash'],
      drawdown: { phase: 'crash', target: p.drawdown },
      referenceVol: annualToDaily(p.calmVolatility),
    };
  },
  targets(view, p) {
    const calm = standardDeviation(phaseReturns(view, phaseNamed(view.phases, 'normal')));
    const crashReturns = phaseReturns(view, phaseNamed(view.phases, 'crash'));
    const largest = crashReturns.reduce((max, r) => Math.max(max, Math.abs(Math.expm1(r))), 0);
    return [
      within(
        'maxDrawdown',
        maxDrawdown(view.daily.close).drawdown,
        p.drawdown - p.drawdownTolerance,
        p.drawdown + p.drawdownTolerance,
      ),
      atLeast('crashVolatilityRatio', standardDeviation(crashReturns) / calm, p.minVolatilityRatio, {
        detail: 'standard deviation of daily returns in the crash over that of the calm phase',
      }),
      atMost('largestCrashMove', largest, p.maxCrashMove, { detail: 'largest absolute daily return in the crash' }),
    ];
  },
  indicators(view) {
    const crash = phaseNamed(view.phases, 'crash');
    const rsi = new RSI(14);
    let lowest = Infinity;
    view.daily.close.forEach((close, index) => {
      const value = rsi.add(close);
      if (value !== null && index >= crash.start && index < Math.min(view.daily.close.length, crash.end + 5)) {
        lowest = Math.min(lowest, value);
      }
    });
    const ours = -maxDrawdown(view.daily.close).drawdown * 100;
    const theirs = getMaxDrawdown(closesOf(view));
    return [
      atMost('rsiOversoldInCrash', lowest, 30, {
        strict: true,
        detail: 'lowest RSI(14) from the crash start to 5 sessions after its end (trading-signals)',
      }),
      atMost('maxDrawdownAgrees', Math.abs(ours - theirs), 0.001, {
        detail: 'difference in percentage points between our maximum drawdown and trading-signals getMaxDrawdown',
      }),
    ];
  },
};
