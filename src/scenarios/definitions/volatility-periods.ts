import { BollingerBandsWidth, BollingerBands } from 'trading-signals';
import { z } from 'zod';
import { atLeast, within } from '../checks.js';
import {
  annualToDaily,
  meanReversionParam,
  modelParamsShape,
  reversionPhi,
  volatilityParam,
  type Phase,
  type ScenarioDefinition,
} from '../model.js';
import { autocorrelation } from '../../shared/statistics.js';

const params = z
  .object({
    // Lighter tails keep single outliers from masking the clustering the scenario promises.
    ...modelParamsShape({ nu: 8 }),
    tradingRange: z.number().min(0.02).max(3).default(0.3).describe('max(high) / min(low) − 1 over the whole run'),
    rangeTolerance: z.number().min(0).max(0.5).default(0.05).describe('accepted distance of the measured range from the target'),
    meanReversion: meanReversionParam(0.65, 'the centre'),
    volatility: volatilityParam(0.15, 'annualised volatility of the calm periods'),
    turbulence: z.number().min(1).max(10).default(3.5).describe('volatility of the turbulent periods over that of the calm ones'),
    periodSessions: z.number().min(3).max(250).default(30).describe('mean length of a calm or turbulent period, in sessions'),
    netTolerance: z.number().min(0).max(0.5).default(0.01).describe('accepted distance of the net return from zero'),
    minAbsReturnAutocorrelation: z
      .number()
      .min(-1)
      .max(1)
      .default(0.1)
      .describe('lag-1 autocorrelation of |returns| must exceed this'),
  })
  .strict();

export type VolatilityPeriodsParams = z.output<typeof params>;

/** Bollinger band width must swing at least this much between calm and turbulent periods. */
const MIN_WIDTH_RATIO = 2;

/**
 * Sideways, mean-reverting prices with alternating calm and turbulent periods (each a phase
 * of its own, lengths drawn around the mean); the whole path is scaled so the trading range
 * is exact.
 */
export const volatilityPeriods: ScenarioDefinition<VolatilityPeriodsParams> = {
  name: 'volatility_periods',
  description: 'sideways, mean-reverting market with clustered calm and turbulent periods; trading range landed exactly',
  params,
  minSessions: 60,
  plan(p, sessions, random) {
    const daily = annualToDaily(p.volatility);
    const phases: Phase[] = [];
    for (let start = 0, turbulent = false; start < sessions; turbulent = !turbulent) {
      // Period lengths spread evenly over 0.6–1.4 × the mean, at least 3 sessions.
      const length = Math.max(3, Math.round(p.periodSessions * (0.6 + 0.8 * random.uniform())));
      const end = Math.min(sessions, start + length);
      phases.push({
        name: `${turbulent ? 'turbulent' : 'calm'}${phases.length + 1}`,
        start,
        end,
        dailyVol: turbulent ? daily * p.turbulence : daily,
      });
      start = end;
    }
    return {
      phases,
      reversion: { phi: reversionPhi(p.meanReversion) },
      totalLogReturn: 0,
      tradingRange: p.tradingRange,
      referenceVol: daily * Math.sqrt((1 + p.turbulence * p.turbulence) / 2),
    };
  },
  accept(logCloses, p) {
    const absolute = new Float64Array(logCloses.length - 1);
    for (let t = 1; t < logCloses.length; t++) absolute[t - 1] = Math.abs(logCloses[t] - logCloses[t - 1]);
    return autocorrelation(absolute, 1) > p.minAbsReturnAutocorrelation;
  },
  targets(view, p) {
    const { open, close, high, low } = view.daily;
    const range = Math.max(...high) / Math.min(...low) - 1;
    const absolute = view.returns.map(Math.abs);
    return [
      within('tradingRange', range, p.tradingRange - p.rangeTolerance, p.tradingRange + p.rangeTolerance),
      within(
        'netReturn',
        close[close.length - 1] / open[0] - 1,
        -p.netTolerance,
        p.netTolerance,
        'sideways: the last close is back at the first open',
      ),
      atLeast('absReturnAutocorrelationLag1', autocorrelation(absolute, 1), p.minAbsReturnAutocorrelation, { strict: true }),
    ];
  },
  indicators(view) {
    const width = new BollingerBandsWidth(new BollingerBands(20, 2));
    const widths: number[] = [];
    for (const close of view.daily.close) {
      const value = width.add(close);
      if (value !== null) widths.push(value);
    }
    return [
      atLeast('bollingerWidthSwing', Math.max(...widths) / Math.min(...widths), MIN_WIDTH_RATIO, {
        detail: 'widest over narrowest Bollinger band width (20, 2σ), trading-signals',
      }),
    ];
  },
};
