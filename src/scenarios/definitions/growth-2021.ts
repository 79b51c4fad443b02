import { RSI } from 'trading-signals';
import { z } from 'zod';
import { atLeast, within } from '../checks.js';
import {
  annualToDaily,
  modelParamsShape,
  phaseNamed,
  phasesByShare,
  volatilityParam,
  type ScenarioDefinition,
} from '../model.js';
import { mean } from '../../shared/statistics.js';

const params = z
  .object({
    ...modelParamsShape(),
    totalReturn: z.number().min(-0.5).max(3).default(0.25).describe('return from the first open to the last close'),
    tolerance: z.number().min(0).max(0.2).default(0.01).describe('accepted distance of the measured return from the target'),
    volatility: volatilityParam(0.32, 'annualised volatility (0.32 ≈ 2 % a day)'),
    recoveryShare: z.number().min(0.05).max(0.8).default(0.3).describe('share of sessions in the recovery phase'),
    momentumShare: z.number().min(0.1).max(0.9).default(0.5).describe('share of sessions in the momentum phase'),
  })
  .strict()
  .refine((p) => p.recoveryShare + p.momentumShare <= 0.95, {
    message: 'recoveryShare + momentumShare must leave at least 5 % of the sessions for the consolidation',
    path: ['momentumShare'],
  });

export type Growth2021Params = z.output<typeof params>;

/** Of the total log return, the share each phase earns (the consolidation gives a little back). */
const RETURN_SPLIT = { recovery: 0.35, momentum: 0.75, consolidation: -0.1 };

/** Recovery 30 % → momentum 50 % → consolidation 20 %, landing the total return exactly. */
export const growth2021: ScenarioDefinition<Growth2021Params> = {
  name: 'growth_2021',
  description: 'steady bull market: recovery, momentum, consolidation; total return landed exactly',
  params,
  minSessions: 40,
  plan(p, sessions) {
    const total = Math.log1p(p.totalReturn);
    const daily = annualToDaily(p.volatility);
    return {
      phases: phasesByShare(sessions, [
        { name: 'recovery', share: p.recoveryShare, dailyVol: daily * 1.1, logReturn: total * RETURN_SPLIT.recovery },
        { name: 'momentum', share: p.momentumShare, dailyVol: daily * 0.95, logReturn: total * RETURN_SPLIT.momentum },
        {
          name: 'consolidation',
          share: 1 - p.recoveryShare - p.momentumShare,
          dailyVol: daily * 0.9,
          logReturn: total * RETURN_SPLIT.consolidation,
        },
      ]),
      referenceVol: daily,
    };
  },
  targets(view, p) {
    const { open, close } = view.daily;
    return [
      within('totalReturn', close[close.length - 1] / open[0] - 1, p.totalReturn - p.tolerance, p.totalReturn + p.tolerance),
    ];
  },
  indicators(view) {
    const momentum = phaseNamed(view.phases, 'momentum');
    const rsi = new RSI(14);
    const values: number[] = [];
    view.daily.close.forEach((close, index) => {
      const value = rsi.add(close);
      if (value !== null && index >= momentum.start && index < momentum.end) values.push(value);
    });
    return [
      atLeast('rsiBullishInMomentum', mean(values), 50, {
        strict: true,
        detail: 'mean RSI(14) over the momentum phase (trading-signals)',
      }),
    ];
  },
};
