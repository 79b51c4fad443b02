/**
 * The JSON the analytics routes serve, as zod schemas: the computations return these types,
 * and the OpenAPI document shows these schemas, so the two cannot drift apart.
 */
import { z } from 'zod';
import { REGIMES, VOLATILITY_REGIMES } from './context.js';

const probability = z.number().min(0).max(1);
const interval = z.tuple([z.number(), z.number()]).describe('[low, high]');

export const successRateSchema = z
  .object({
    successRate: probability.nullable().describe('successes / count; null without a detection with a known outcome'),
    count: z.number().int().describe('detections with a known outcome'),
    successes: z.number().int(),
    confidenceInterval: interval.nullable().describe('Wilson score interval at the analysis confidence level'),
  })
  .describe('A success rate with the counts behind it');

export const dependenceTestSchema = z
  .object({
    chiSquare: z.number(),
    degreesOfFreedom: z.number().int(),
    pValue: z.number().describe('Pearson χ² test that success does not depend on the category'),
    adjustedPValue: z.number().describe('Benjamini–Hochberg adjusted across the patterns'),
    cramersV: z.number().describe('strength of the dependence, 0 (none) to 1'),
  })
  .describe('A χ² test of success against a category');

export const regimeImpactSchema = z.object({
  pattern: z.string(),
  overall: successRateSchema,
  bullMarketSuccessRate: successRateSchema,
  bearMarketSuccessRate: successRateSchema,
  neutralMarketSuccessRate: successRateSchema,
  regimeDependence: dependenceTestSchema,
  volatilityImpactFactor: z.number().nullable().describe('success rate in high volatility / in low volatility (1: no impact)'),
  byVolatility: z.object({ low: successRateSchema, normal: successRateSchema, high: successRateSchema }),
  volatilityDependence: dependenceTestSchema,
  sectorDependency: dependenceTestSchema.extend({
    sectors: z.array(successRateSchema.extend({ sector: z.string() })),
  }),
  optimalMarketConditions: successRateSchema
    .extend({ regime: z.enum(REGIMES), volatilityRegime: z.enum(VOLATILITY_REGIMES) })
    .nullable()
    .describe('the regime × volatility cell with the highest lower confidence bound among cells with enough detections'),
});

export const seasonalBreakdownSchema = z.object({
  seasons: z.array(successRateSchema.extend({ season: z.number().int().describe('month 1–12, ISO weekday 1–7 or hour 0–23') })),
  significance: dependenceTestSchema,
});

export const seasonalPatternSchema = z.object({
  pattern: z.string(),
  byMonth: seasonalBreakdownSchema,
  byWeekday: seasonalBreakdownSchema,
  byHour: seasonalBreakdownSchema.nullable().describe('intraday timeframes only'),
});

export const correlatedPatternSchema = z.object({
  pattern: z.string(),
  strength: z.number().describe('stratified φ: (observed − expected) / √(variance · trials), −1 … 1'),
  lift: z.number().describe('follows observed / follows expected from the strata'),
  lagSessions: z.number().int().describe('the lag with the largest excess over the background density'),
  pValue: z.number().describe('Benjamini–Hochberg adjusted over every pair tested'),
  rawPValue: z.number(),
  test: z.enum(['mantel-haenszel', 'poisson-exact']),
  followed: z.number().int(),
  expectedFollowed: z.number().describe('what chance would give'),
});

export const lagProfileSchema = z.object({
  pattern: z.string(),
  lags: z.array(
    z.object({ lagSessions: z.number().int(), count: z.number().int(), expected: z.number(), lift: z.number().nullable() }),
  ),
  peakLagSessions: z.number().int(),
  medianLagSessions: z.number().int().nullable(),
});

const regimeLift = z.object({ lift: z.number().nullable(), detections: z.number().int(), followed: z.number().int() });

export const contextSensitivitySchema = z.object({
  pattern: z.string(),
  liftByRegime: z.object({ bull: regimeLift, bear: regimeLift, neutral: regimeLift }),
  sensitivity: z.number().nullable().describe('largest minus smallest lift across regimes (0: insensitive)'),
});

export const patternCorrelationsSchema = z.object({
  pattern: z.string(),
  detections: z.number().int().describe('detections of the pattern whose follow window lies inside the data'),
  correlatedPatterns: z.array(correlatedPatternSchema),
  timeLagAnalysis: z.array(lagProfileSchema),
  statisticalSignificance: z.object({
    method: z.string(),
    adjustment: z.literal('benjamini-hochberg'),
    alpha: z.number(),
    testedPairs: z.number().int(),
    significantPairs: z.number().int(),
  }),
  marketContextSensitivity: z.array(contextSensitivitySchema),
});

export const keyFactorSchema = z.object({
  factor: z.string(),
  importance: probability.describe("share of the prediction's log-odds deviation from the average detection"),
  effect: z.enum(['raises', 'lowers']),
  historicalRate: z.number().describe('the historical success rate behind the factor (the strength itself for signal strength)'),
  observations: z.number().int(),
});

export const successPredictionSchema = z.object({
  patternId: z.number().int().describe('the detection id'),
  symbol: z.string(),
  pattern: z.string(),
  direction: z.enum(['bullish', 'bearish']),
  ts: z.string().describe('bar start, ISO-8601 UTC'),
  predictedSuccessProbability: probability,
  confidenceInterval: interval.describe('delta-method interval from the fitted model covariance'),
  keyFactors: z.array(keyFactorSchema),
  marketContextInfluence: z.object({
    regime: z.string().nullable(),
    volatilityRegime: z.string().nullable(),
    sector: z.string().nullable(),
    probabilityWithoutContext: probability.describe('with the market-context features at their average'),
    shift: z.number().describe('predictedSuccessProbability − probabilityWithoutContext'),
  }),
});

const score = z.number().nullable();

export const historicalAccuracySchema = z.object({
  method: z.literal('walk-forward'),
  folds: z.number().int(),
  predictions: z.number().int().describe('out-of-sample predictions scored'),
  baseRate: score.describe('success rate of the detections scored'),
  brierScore: score,
  referenceBrierScore: score.describe("Brier score of forecasting each fold's training success rate"),
  brierSkillScore: score.describe('1 − brierScore / referenceBrierScore: above 0 beats the base rate'),
  logLoss: score,
  referenceLogLoss: score,
  auc: score.describe('area under the ROC curve; 0.5 is chance'),
  note: z.string().optional().describe('why nothing was scored, when nothing was'),
});

export const successPredictionsSchema = z.object({
  model: z.object({
    kind: z.literal('logistic-regression'),
    library: z.literal('ml-logistic-regression'),
    trainedOn: z.number().int(),
    coefficients: z.array(z.object({ factor: z.string(), coefficient: z.number() })),
  }),
  historicalAccuracy: historicalAccuracySchema,
  predictions: z.array(successPredictionSchema),
});

const signalReturnsSchema = z.object({
  signals: z.number().int(),
  measured: z.number().int().describe('signals whose whole horizon lies inside the range'),
  meanForwardReturn: z.number().nullable(),
  hitRate: probability.nullable().describe("share followed by a move in the signal's direction"),
  excessReturn: z.number().nullable().describe('meanForwardReturn − unconditionalForwardReturn'),
});

export const portfolioImpactSchema = z.object({
  holdings: z.array(z.object({ symbol: z.string(), weight: z.number() })),
  horizonBars: z.number().int(),
  buyAndHoldReturn: z.number(),
  signalFollowingReturn: z.number().describe('long after bullish signals, short after bearish, flat otherwise, for the horizon'),
  unconditionalForwardReturn: z.number().nullable().describe('mean forward return of entering at any bar'),
  afterBullishSignals: signalReturnsSchema,
  afterBearishSignals: signalReturnsSchema,
  exposureByPattern: z.array(
    z.object({
      pattern: z.string(),
      signals: z.number().int(),
      bullish: z.number().int(),
      bearish: z.number().int(),
      exposure: probability.describe('weighted share of bars under an active signal of the pattern'),
      netDirection: z.number(),
      meanForwardReturn: z.number().nullable(),
    }),
  ),
});

export type SuccessRate = z.infer<typeof successRateSchema>;
export type DependenceTest = z.infer<typeof dependenceTestSchema>;
export type RegimeImpact = z.infer<typeof regimeImpactSchema>;
export type SeasonalBreakdown = z.infer<typeof seasonalBreakdownSchema>;
export type SeasonalPattern = z.infer<typeof seasonalPatternSchema>;
export type CorrelatedPattern = z.infer<typeof correlatedPatternSchema>;
export type LagProfile = z.infer<typeof lagProfileSchema>;
export type ContextSensitivity = z.infer<typeof contextSensitivitySchema>;
export type PatternCorrelations = z.infer<typeof patternCorrelationsSchema>;
export type KeyFactor = z.infer<typeof keyFactorSchema>;
export type SuccessPrediction = z.infer<typeof successPredictionSchema>;
export type HistoricalAccuracy = z.infer<typeof historicalAccuracySchema>;
export type SuccessPredictions = z.infer<typeof successPredictionsSchema>;
export type PortfolioImpact = z.infer<typeof portfolioImpactSchema>;
